/* Counters with one writer (the thread that owns them) and racing readers
 * (the stats writer): plain loads and stores, but never torn. */
#ifndef RAMFUSE_COUNTER_H
#define RAMFUSE_COUNTER_H

#include <stdint.h>

static inline void counter_inc(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static inline uint64_t counter_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
