/* -o populate=PATH: a directory tree, a cpio (newc) or a tar archive copied
 * into the memory filesystem before the mount is served.  The archive is
 * untrusted input: every number and length in it is checked before use,
 * names never leave the root and no symlink is followed while writing. */
#ifndef RAMFUSE_POPULATE_H
#define RAMFUSE_POPULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "memfs.h"

/* A byte stream read in order (pipes too), with its position. */
struct pop_in {
	int fd;
	size_t pos, len;
	uint64_t off; /* of buf[pos] in the stream */
	unsigned char buf[65536];
};

/* Reads exactly n bytes: 0, -EPIPE at the end of the stream (truncated),
 * or another negative errno. */
int pop_read(struct pop_in *in, void *dst, size_t n);
int pop_skip(struct pop_in *in, uint64_t n);
/* Up to n bytes without consuming them; returns how many there are. */
ssize_t pop_peek(struct pop_in *in, size_t n);

struct pop_xattr {
	const char *name;
	const void *value;
	size_t size;
};

/* One archive member, as the readers see it. */
struct pop_entry {
	const char *path;  /* as in the archive, relative to its root */
	uint32_t mode;     /* type and permission bits */
	uint32_t uid, gid, rdev; /* rdev as memfs takes it (the kernel's encoding) */
	uint64_t size;     /* regular files: bytes of data that follow */
	struct timespec mtime, atime;
	bool has_atime;
	const char *link;  /* symlink: its target; hard link: the earlier path */
	bool hardlink;
	uint64_t link_ino; /* hard link to this memfs inode (cpio), else 0 */
	const struct pop_xattr *xattrs;
	size_t nxattrs;
};

struct pop {
	struct memfs *fs;
	const char *src; /* for messages */
	char *err;
	size_t errlen;
	struct pop_dir *dirs; /* directories' times, set at the end */
	size_t ndirs, dirs_cap;
	bool sum;      /* add up the data's bytes (cpio's 070702 checksum) */
	uint32_t csum;
	struct pop_link *links; /* hard links: a hash of the source's ids */
	size_t nlinks, links_cap;
};

/* The memfs inode of the file the source calls (a, b, c) (device and inode
 * numbers): a slot holding 0 the first time.  NULL: out of memory. */
uint64_t *pop_link(struct pop *p, uint64_t a, uint64_t b, uint64_t c);

/* Adds an entry; a regular file's data is read from in (e->size bytes).
 * *ino (may be NULL) is the inode made.  On error, err names the entry. */
int pop_add(struct pop *p, const struct pop_entry *e, struct pop_in *in, uint64_t *ino);
int pop_fail(struct pop *p, const char *path, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The readers: 0, or a negative errno with the message in p->err. */
int cpio_read(struct pop *p, struct pop_in *in);
int tar_read(struct pop *p, struct pop_in *in);

/* Fills fs from src (a directory, a cpio or a tar archive, or a pipe of one).
 * On error returns a negative errno with a message naming the entry. */
int populate(struct memfs *fs, const char *src, char *err, size_t errlen);

#endif
