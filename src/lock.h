/* A 4-byte mutex on futex(2): small enough for one per inode.
 * States: 0 unlocked, 1 locked, 2 locked with waiters (Drepper's mutex2). */
#ifndef RAMFUSE_LOCK_H
#define RAMFUSE_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOCK_FUTEX_WAIT_PRIVATE 128
#define LOCK_FUTEX_WAKE_PRIVATE 129

typedef struct { uint32_t v; } lock_t;

static inline void lock(lock_t *l)
{
	uint32_t c = 0;
	if (__atomic_compare_exchange_n(&l->v, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		syscall(SYS_futex, &l->v, LOCK_FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
		c = __atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE);
	}
}

static inline bool trylock(lock_t *l)
{
	uint32_t c = 0;
	return __atomic_compare_exchange_n(&l->v, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void unlock(lock_t *l)
{
	if (__atomic_exchange_n(&l->v, 0, __ATOMIC_RELEASE) == 2)
		syscall(SYS_futex, &l->v, LOCK_FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#endif
