/* A request being served: ops.c decodes it and calls the memory
 * filesystem, reply.c encodes and sends the answer. */
#ifndef RAMFUSE_REQ_H
#define RAMFUSE_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct req {
	struct worker *w;
	const struct fault *fault; /* what is left to do when replying */
	const struct fuse_in_header *h;
	const char *arg; /* the opcode's arguments, without extensions */
	size_t arglen;
	struct memfs_cred cr;
};

static inline uint64_t sec(uint64_t ns) { return ns / 1000000000u; }
static inline uint32_t nsec(uint64_t ns) { return (uint32_t)(ns % 1000000000u); }

/* How long the kernel may keep a's attributes: none while mmap writes
 * may change them unseen (memfs_attr.changing). */
static inline uint64_t attr_timeout(const struct session *s, const struct memfs_attr *a)
{
	return a->changing ? 0 : s->cfg.attr_timeout_ns;
}

struct dirbuf {
	char *buf;
	size_t len, size;
	const struct session *s;
};

/* reply.c */
int send_iov(struct req *r, int err, struct iovec *iov, int iovcnt);
int reply(struct req *r, int err, const void *data, size_t len);
void reply_err(struct req *r, int err);
void to_entry(const struct session *s, const struct memfs_attr *a,
	      struct fuse_entry_out *e);
void reply_entry(struct req *r, int err, const struct memfs_attr *a);
void reply_attr(struct req *r, int err, const struct memfs_attr *a);
bool fill_dirent(void *ctx, const char *name, size_t namelen, uint32_t mode,
		 uint64_t ino, uint64_t next_off, const struct memfs_attr *attr);
bool fill_direntplus(void *ctx, const char *name, size_t namelen, uint32_t mode,
		     uint64_t ino, uint64_t next_off, const struct memfs_attr *attr);
void forget_entries(struct req *r, const struct dirbuf *db);

#endif
