/* The memory filesystem: inodes, directories, file data.  Plain C with no
 * FUSE types, so it can be tested and fuzzed without a mount.  Inodes are
 * named by their number (the FUSE nodeid); every call returns 0 or a
 * negative errno. */
#ifndef RAMFUSE_MEMFS_H
#define RAMFUSE_MEMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define MEMFS_ROOT 1
#define MEMFS_NAME_MAX 255
#define MEMFS_PATH_MAX 4096
#define MEMFS_LINK_MAX UINT32_MAX
#define MEMFS_XATTR_NAME_MAX 255
#define MEMFS_XATTR_SIZE_MAX 65536
#define MEMFS_XATTR_CREATE 1
#define MEMFS_XATTR_REPLACE 2
#define MEMFS_XATTR_KILL_SGID 4 /* setting an ACL: the setter is not in the file's group */
#define MEMFS_RENAME_NOREPLACE 1
#define MEMFS_RENAME_EXCHANGE 2
#define MEMFS_RENAME_WHITEOUT 4 /* leave overlayfs's whiteout, c 0:0, at the old name */
/* chattr flags tmpfs keeps, with the values of FS_*_FL */
#define MEMFS_FL_IMMUTABLE 0x10
#define MEMFS_FL_APPEND 0x20
#define MEMFS_FL_NODUMP 0x40
#define MEMFS_FL_NOATIME 0x80
#define MEMFS_FL_USER (MEMFS_FL_IMMUTABLE | MEMFS_FL_APPEND | MEMFS_FL_NODUMP | MEMFS_FL_NOATIME)

struct memfs;

struct memfs_config {
	uint64_t max_bytes;   /* size= */
	uint64_t max_inodes;  /* nr_inodes= */
	uint32_t root_mode;   /* permission bits of / */
	uint32_t root_uid, root_gid;
	bool check_perms;     /* default_permissions is off: check here */
	bool memfd_store;     /* data in memfds, not a private tmpfs (tests) */
	bool posix_acl;       /* keep system.posix_acl_* (the kernel checks them) */
};

/* Who asks: the caller's credentials from the request. */
struct memfs_cred {
	uint32_t uid, gid, pid;
	uint32_t umask; /* creating: bits to clear where no default ACL rules */
};

struct memfs_attr {
	uint64_t ino, generation, size, blocks;
	struct timespec atime, mtime, ctime, btime;
	uint32_t mode, nlink, uid, gid, rdev;
	/* open for writing with passthrough: mmap may change data and times
	 * with no word to us or the kernel's FUSE inode; not to be cached */
	bool changing;
};

enum {
	MEMFS_SET_MODE = 1 << 0, MEMFS_SET_UID = 1 << 1, MEMFS_SET_GID = 1 << 2,
	MEMFS_SET_SIZE = 1 << 3, MEMFS_SET_ATIME = 1 << 4, MEMFS_SET_MTIME = 1 << 5,
	MEMFS_SET_ATIME_NOW = 1 << 6, MEMFS_SET_MTIME_NOW = 1 << 7,
	MEMFS_SET_CTIME = 1 << 8, MEMFS_KILL_SUIDGID = 1 << 9,
	MEMFS_SET_SAME_OWNER = 1 << 10, /* chown(-1, -1): drops set-id bits */
	MEMFS_SET_BY_FD = 1 << 11, /* ftruncate: write access was checked at open */
};

struct memfs_setattr {
	unsigned valid;
	uint32_t mode, uid, gid;
	uint64_t size;
	struct timespec atime, mtime, ctime;
};

struct memfs_statfs {
	uint64_t blocks, bfree, files, ffree;
	uint32_t bsize, namelen;
};

/* Called once per directory entry; returns false when the caller's buffer
 * is full, and the entry is then not consumed.  attr is NULL for a plain
 * readdir; for readdirplus an accepted entry counts as a lookup. */
typedef bool memfs_fill_fn(void *ctx, const char *name, size_t namelen,
			   uint32_t mode, uint64_t ino, uint64_t next_off,
			   const struct memfs_attr *attr);

int memfs_new(struct memfs **fs, const struct memfs_config *cfg);
void memfs_free(struct memfs *fs);

int memfs_lookup(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		 const char *name, struct memfs_attr *out);
void memfs_forget(struct memfs *fs, uint64_t ino, uint64_t nlookup);
/* The kernel's connection is gone: every lookup and open it held is
 * dropped (files no name keeps are freed), the files stay.  No request
 * may run meanwhile.  For volumes, which outlive their mounts. */
void memfs_disconnect(struct memfs *fs);
/* The inode PATH names, "/"-separated from the root; no lookup counted. */
int memfs_resolve(struct memfs *fs, const char *path, uint64_t *ino);
int memfs_getattr(struct memfs *fs, uint64_t ino, struct memfs_attr *out);
int memfs_setattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		  const struct memfs_setattr *sa, struct memfs_attr *out);

/* Makes a file, directory or node; counts as a lookup of the new inode. */
int memfs_mknod(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		const char *name, uint32_t mode, uint32_t rdev, struct memfs_attr *out);
int memfs_tmpfile(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		  uint32_t mode, struct memfs_attr *out);
int memfs_symlink(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		  const char *name, const char *target, struct memfs_attr *out);
ssize_t memfs_readlink(struct memfs *fs, uint64_t ino, char *buf, size_t size);
int memfs_link(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
	       uint64_t dir, const char *name, struct memfs_attr *out);
int memfs_rename(struct memfs *fs, const struct memfs_cred *cr, uint64_t olddir,
		 const char *oldname, uint64_t newdir, const char *newname, unsigned flags);
int memfs_unlink(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		 const char *name);
int memfs_rmdir(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		const char *name);

/* Registers a regular file's data for passthrough: returns an id > 0 or a
 * negative errno, and the open then goes without passthrough. */
typedef int memfs_backing_fn(void *ctx, int data_fd);

/* With backing set, *backing_id is the file's passthrough id, or 0.  A
 * NULL cr is the creator opening what it just made: no permission check. */
int memfs_open(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
	       int flags, memfs_backing_fn *backing, void *ctx, int *backing_id);
/* Returns a backing id that is no longer used and must be closed, or 0. */
int memfs_release(struct memfs *fs, uint64_t ino, bool passthrough, bool writer);
ssize_t memfs_read(struct memfs *fs, uint64_t ino, void *buf, size_t size,
		   uint64_t off);
ssize_t memfs_write(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		    const void *buf, size_t size, uint64_t off, bool kill_suidgid);
int memfs_fsync(struct memfs *fs, uint64_t ino);

int memfs_opendir(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino);
/* A directory stream (opendir to releasedir) lists no entry made after its
 * first read (or a read from offset 0: rewinddir), as tmpfs: a reader that
 * renames what it reads comes to an end (fstests generic/736).  0 when
 * none could be had: its reads then have no end. */
uint64_t memfs_dir_stream(struct memfs *fs);
void memfs_dir_stream_end(struct memfs *fs, uint64_t stream);
int memfs_readdir(struct memfs *fs, uint64_t ino, uint64_t stream, uint64_t off,
		  memfs_fill_fn *fill, void *ctx, bool plus);
/* Extended attributes; a size of 0 asks for the size needed. */
int memfs_setxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		   const char *name, const void *value, size_t size, int flags);
ssize_t memfs_getxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		       const char *name, void *buf,
		       size_t size);
ssize_t memfs_listxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
			char *buf, size_t size);
int memfs_removexattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		      const char *name);

int memfs_fallocate(struct memfs *fs, uint64_t ino, int mode, uint64_t off, uint64_t len);
int64_t memfs_lseek(struct memfs *fs, uint64_t ino, uint64_t off, int whence);
ssize_t memfs_copy_range(struct memfs *fs, uint64_t ino_in, uint64_t off_in,
			 uint64_t ino_out, uint64_t off_out, size_t len);

int memfs_get_flags(struct memfs *fs, uint64_t ino, uint32_t *flags);
int memfs_set_flags(struct memfs *fs, uint64_t ino, uint32_t flags);

int memfs_access(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		 int mask);
void memfs_statfs(struct memfs *fs, struct memfs_statfs *out);

/* The mount's atime flags (the default is relatime), which the kernel
 * leaves to the server: set at each mount. */
#define MEMFS_ATIME_NOATIME 1
#define MEMFS_ATIME_NODIRATIME 2
#define MEMFS_ATIME_STRICT 4
void memfs_set_atime(struct memfs *fs, unsigned flags);
/* size= and nr_inodes= (UINT64_MAX: none) changed live; NULL keeps one.
 * -EBUSY when below what is in use. */
int memfs_set_limits(struct memfs *fs, const uint64_t *max_bytes, const uint64_t *max_inodes);
void memfs_limits(struct memfs *fs, uint64_t *max_bytes, uint64_t *max_inodes);

/* Counters for the stats file. */
uint64_t memfs_inode_count(struct memfs *fs);
/* What the kernel holds of an inode: lookups, and files open (not dirs). */
typedef void memfs_held_fn(void *ctx, uint64_t ino, uint64_t *nlookup, uint32_t *nopen);
/* Walks every inode (no request may run meanwhile): 0 if the counters
 * match what is kept, nothing is kept that nothing holds and, with held,
 * each inode's lookups and opens are what the kernel holds; else -1 with
 * the first difference in why.  For tests and the fuzzer. */
int memfs_check(struct memfs *fs, memfs_held_fn *held, void *ctx, char *why, size_t len);
uint64_t memfs_byte_count(struct memfs *fs);

#endif
