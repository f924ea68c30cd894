/* io_uring without a library: io_uring_setup, one mmap for both rings (all
 * kernels with FUSE over io_uring have IORING_FEAT_SINGLE_MMAP), one for the
 * SQEs, and io_uring_enter.  One thread owns a ring: no locking here. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ring.h"

#define IORING_OFF_SQ_RING 0ULL
#define IORING_OFF_SQES 0x10000000ULL

struct sq_offsets { uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
		    uint64_t user_addr; };
struct cq_offsets { uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
		    uint64_t user_addr; };
struct ring_params {
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features;
	uint32_t wq_fd, resv[3];
	struct sq_offsets sq_off;
	struct cq_offsets cq_off;
};
_Static_assert(sizeof(struct ring_params) == 120, "abi");

int ring_init(struct ring *r, unsigned entries, unsigned setup_flags)
{
	struct ring_params p = { .flags = setup_flags };
	*r = (struct ring){ .fd = -1 };
	long fd = syscall(SYS_io_uring_setup, entries, &p);
	if (fd < 0)
		return -errno;
	r->fd = (int)fd;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		ring_free(r);
		return -EINVAL;
	}
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct ring_cqe);
	r->map_len = sq_len > cq_len ? sq_len : cq_len;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      r->fd, IORING_OFF_SQ_RING);
	r->sqes_len = p.sq_entries * sizeof(struct ring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       r->fd, IORING_OFF_SQES);
	if (r->map == MAP_FAILED || r->sqes == MAP_FAILED) {
		int err = errno;
		ring_free(r);
		return -err;
	}
	char *m = r->map;
	r->sq_head = (unsigned *)(m + p.sq_off.head);
	r->sq_tail = (unsigned *)(m + p.sq_off.tail);
	r->sq_mask = *(unsigned *)(m + p.sq_off.ring_mask);
	r->sq_entries = p.sq_entries;
	r->cq_head = (unsigned *)(m + p.cq_off.head);
	r->cq_tail = (unsigned *)(m + p.cq_off.tail);
	r->cq_mask = *(unsigned *)(m + p.cq_off.ring_mask);
	r->cqes = (struct ring_cqe *)(m + p.cq_off.cqes);
	/* Slot i of the SQ ring always names SQE i. */
	uint32_t *array = (uint32_t *)(m + p.sq_off.array);
	for (unsigned i = 0; i < p.sq_entries; i++)
		array[i] = i;
	r->sq_fill = *r->sq_tail;
	return 0;
}

void ring_free(struct ring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	*r = (struct ring){ .fd = -1 };
}

struct ring_sqe *ring_sqe(struct ring *r)
{
	unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	if (r->sq_fill - head >= r->sq_entries)
		return NULL;
	struct ring_sqe *sqe = &r->sqes[r->sq_fill & r->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	r->sq_fill++;
	return sqe;
}

int ring_enter(struct ring *r, unsigned wait)
{
	__atomic_store_n(r->sq_tail, r->sq_fill, __ATOMIC_RELEASE);
	unsigned submit = r->sq_fill - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	if (!submit && !wait)
		return 0;
	long n = syscall(SYS_io_uring_enter, r->fd, submit, wait,
			 wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
	return n < 0 ? -errno : 0;
}

struct ring_cqe *ring_cqe(struct ring *r)
{
	unsigned head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return NULL;
	return &r->cqes[head & r->cq_mask];
}

void ring_seen(struct ring *r)
{
	__atomic_store_n(r->cq_head, *r->cq_head + 1, __ATOMIC_RELEASE);
}
