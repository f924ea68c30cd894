/* Where file data lives: one file per regular file, in a private tmpfs
 * that is mounted nowhere (fsopen/fsmount), or in memfds where that cannot
 * be had.  Either kind can back FUSE passthrough.  The private tmpfs
 * enforces size= itself, for passthrough writes and mmap too. */
#ifndef RAMFUSE_STORE_H
#define RAMFUSE_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct store {
	int mnt_fd; /* the private tmpfs, or -1 when files are memfds */
	uint64_t max_bytes;
};

/* memfd: memfds even where a private tmpfs could be had. */
int store_init(struct store *st, uint64_t max_bytes, bool memfd);
void store_fini(struct store *st);
/* A new size= for the private tmpfs: -EBUSY below what it holds. */
int store_set_size(struct store *st, uint64_t max_bytes);
bool store_limits_itself(const struct store *st);
int store_create(struct store *st, uint64_t ino, uint64_t generation);
/* Opens a file made before; -ENOSYS where files cannot be opened again. */
int store_reopen(struct store *st, uint64_t ino, uint64_t generation);
bool store_can_reopen(const struct store *st);
void store_remove(struct store *st, int fd, uint64_t ino, uint64_t generation);
/* Bytes allocated, or UINT64_MAX when the caller must count them. */
uint64_t store_used(const struct store *st);

#endif
