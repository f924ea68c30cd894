/* io_uring by its two system calls and mmap: one ring of 128-byte SQEs,
 * enough for IORING_OP_URING_CMD.  No library; the layouts below are the
 * kernel's UAPI (include/uapi/linux/io_uring.h), written for ramfuse. */
#ifndef RAMFUSE_RING_H
#define RAMFUSE_RING_H

#include <stddef.h>
#include <stdint.h>

#define IORING_OP_URING_CMD 46
#define IORING_SETUP_SQE128 (1u << 10)
#define IORING_SETUP_SINGLE_ISSUER (1u << 12)
#define IORING_SETUP_DEFER_TASKRUN (1u << 13)
#define IORING_ENTER_GETEVENTS (1u << 0)
#define IORING_FEAT_SINGLE_MMAP (1u << 0)

/* A 128-byte SQE: the command area starts at byte 48 and holds 80 bytes. */
struct ring_sqe {
	uint8_t opcode, flags;
	uint16_t ioprio;
	int32_t fd;
	uint32_t cmd_op, pad1;
	uint64_t addr;
	uint32_t len, op_flags;
	uint64_t user_data;
	uint16_t buf_index, personality;
	uint32_t file_index;
	unsigned char cmd[80];
};

_Static_assert(sizeof(struct ring_sqe) == 128, "abi");
_Static_assert(offsetof(struct ring_sqe, user_data) == 32, "abi");
_Static_assert(offsetof(struct ring_sqe, cmd) == 48, "abi");

struct ring_cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};

struct ring {
	int fd;
	unsigned sq_mask, cq_mask, sq_entries;
	unsigned *sq_head, *sq_tail, *cq_head, *cq_tail;
	unsigned sq_fill; /* our tail: SQEs written, published at ring_enter */
	struct ring_sqe *sqes;
	struct ring_cqe *cqes;
	void *map;
	size_t map_len, sqes_len;
};

/* Sets up a ring of at least `entries` SQEs; setup_flags are IORING_SETUP_*.
 * Returns 0 or -errno (-ENOSYS: no io_uring; -EPERM: kernel.io_uring_disabled;
 * -EINVAL: a flag this kernel does not know). */
int ring_init(struct ring *r, unsigned entries, unsigned setup_flags);
void ring_free(struct ring *r);
/* The next SQE, zeroed, or NULL when all are taken. */
struct ring_sqe *ring_sqe(struct ring *r);
/* Submits the SQEs written so far and waits for `wait` completions.
 * Returns 0 or -errno (-EINTR: a signal came while waiting). */
int ring_enter(struct ring *r, unsigned wait);
/* The oldest completion, or NULL; ring_seen() hands its slot back. */
struct ring_cqe *ring_cqe(struct ring *r);
void ring_seen(struct ring *r);

#endif
