/* The memory filesystem's insides, shared by its files (memfs.c, attr.c,
 * perm.c, namei.c, data.c, xattr.c); memfs.h is the interface.  Each inode
 * has its own lock; a directory's lock covers its entries.  Locks are taken
 * parent before child. */
#ifndef RAMFUSE_MEMFS_IMPL_H
#define RAMFUSE_MEMFS_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "lock.h"
#include "memfs.h"
#include "store.h"

/* tmpfs reports this many bytes per directory entry as a directory's size. */
#define BOGO_DIRENT_SIZE 20
#define BLOCK_SIZE 4096
/* tmpfs keeps shorter symlink targets in the inode */
#define SHORT_SYMLINK_LEN 128

/* Inode numbers index a two-level table that never moves, so a lookup by
 * number needs no lock. */
#define CHUNK_BITS 12
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define MAX_CHUNKS (1u << 16)
#define MAX_INO ((uint64_t)MAX_CHUNKS * CHUNK_SIZE)

/* A timestamp in 12 bytes: there is one inode per file, and a million
 * files should fit in 256 MiB of daemon memory. */
struct stamp {
	int64_t sec;
	uint32_t nsec;
} __attribute__((packed, aligned(4)));

/* A regular file's data, from its first byte on. */
struct data {
	int32_t fd; /* the file in the store; -1 while closed to save fds */
	int32_t backing_id; /* registered for passthrough while backing_refs */
	uint32_t backing_refs;
	uint32_t backing_writers; /* of backing_refs: opened for writing */
	uint64_t allocated; /* bytes charged to size= */
	struct timespec mtime, atime; /* the store file's, when last seen */
};

/* Unlinked and closed, but the kernel holds a lookup: kept whole until its
 * FORGET.  The low bits of flags are the user's MEMFS_FL_* (chattr). */
#define INODE_ORPHAN (1u << 31)
#define FL_UNCHANGEABLE (MEMFS_FL_IMMUTABLE | MEMFS_FL_APPEND)
/* what a new file takes from its directory (tmpfs's SHMEM_FL_INHERITED) */
#define FL_INHERITED (MEMFS_FL_NODUMP | MEMFS_FL_NOATIME)

struct inode {
	lock_t lock;
	uint32_t mode, nlink, uid, gid;
	uint32_t nopen;
	uint32_t flags; /* MEMFS_FL_*, INODE_ORPHAN */
	uint32_t generation; /* with ino, unique while the mount lives */
	uint64_t ino, nlookup;
	uint64_t size;
	struct stamp atime, mtime, ctime, btime;
	struct xattr *xattrs;
	union {
		struct data *data; /* regular files; NULL while empty */
		struct dir *dir;
		char *target;
		uint32_t rdev; /* character and block devices */
	} u;
};

/* One inode per file: keep it within musl's 128-byte malloc slot. */
_Static_assert(sizeof(struct inode) <= 124, "struct inode outgrew its slot");

struct xattr {
	struct xattr *next;
	uint32_t namelen, size;
	char data[]; /* the name, its NUL, then the value */
};

struct memfs {
	struct memfs_config cfg;
	struct store store;
	struct inode **chunks[MAX_CHUNKS];
	lock_t table_lock; /* number allocation, never held across other locks */
	lock_t rename_lock; /* cross-directory renames: keeps the tree still */
	uint64_t next_ino;
	uint32_t *free_inos;
	size_t nfree, free_cap;
	uint64_t ninodes, nbytes, generation; /* atomics */
	uint64_t ispace; /* atomic: tmpfs's inode space taken, see reserve_ispace() */
	uint64_t orphans; /* atomic: INODE_ORPHAN inodes */
	/* Data files' descriptors: past the budget, idle ones are closed
	 * (files in the private tmpfs can be opened again by name). */
	uint64_t nfds, fd_budget, evict_cursor; /* atomics */
	unsigned atime; /* atomic: MEMFS_ATIME_* of the mount served now */
	/* Directory streams (namei.c): where each ends, by handle - 1; 0 a
	 * free slot, STREAM_UNSET until its first read */
	lock_t streams_lock; /* innermost */
	uint64_t *stream_end;
	uint32_t nstreams;
};
#define STREAM_UNSET UINT64_MAX

static inline struct stamp stamp_of(struct timespec ts)
{
	return (struct stamp){ ts.tv_sec, (uint32_t)ts.tv_nsec };
}

static inline struct timespec timespec_of(struct stamp s)
{
	return (struct timespec){ .tv_sec = s.sec, .tv_nsec = s.nsec };
}

static inline bool stamp_le(struct stamp a, struct stamp b)
{
	return a.sec < b.sec || (a.sec == b.sec && a.nsec <= b.nsec);
}

static inline uint64_t allocated(const struct inode *i)
{
	return S_ISREG(i->mode) && i->u.data ? i->u.data->allocated : 0;
}

static inline uint32_t backing_refs(const struct inode *i)
{
	return S_ISREG(i->mode) && i->u.data ? i->u.data->backing_refs : 0;
}

static inline struct stamp now(void)
{
	struct timespec ts;
	/* Fine-grained: tmpfs hands out fine stamps once they are looked at
	 * (multigrain timestamps), and ours must never run behind those. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return stamp_of(ts);
}

static inline struct inode *get(struct memfs *fs, uint64_t ino)
{
	if (ino == 0 || ino >= __atomic_load_n(&fs->next_ino, __ATOMIC_ACQUIRE))
		return NULL;
	struct inode **chunk = __atomic_load_n(&fs->chunks[ino >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	return chunk ? __atomic_load_n(&chunk[ino & (CHUNK_SIZE - 1)], __ATOMIC_ACQUIRE) : NULL;
}

/* Two inodes locked in address order (rename, copy_file_range). */
static inline void lock_two(struct inode *a, struct inode *b)
{
	if (a == b) {
		lock(&a->lock);
	} else if (a < b) {
		lock(&a->lock);
		lock(&b->lock);
	} else {
		lock(&b->lock);
		lock(&a->lock);
	}
}

/* memfs.c: the inode table and lifetime */
int reserve_inode(struct memfs *fs);
void release_inode(struct memfs *fs);
int reserve_ispace(struct memfs *fs, uint64_t bytes);
void release_ispace(struct memfs *fs, uint64_t bytes);
void put_locked(struct memfs *fs, struct inode *i);
struct inode *hold_by_number(struct memfs *fs, uint64_t ino);
void unorphan(struct memfs *fs, struct inode *i);
void wait_for_forgets(struct memfs *fs);
int new_inode(struct memfs *fs, uint32_t mode, struct inode **out);
void publish(struct memfs *fs, struct inode *i);
void charge(struct memfs *fs, int64_t delta);
void free_data(struct memfs *fs, struct inode *i);

/* attr.c */
void fill_attr(const struct inode *i, struct memfs_attr *a);
void touch_atime(struct memfs *fs, struct inode *i);
bool atime_due(struct memfs *fs, const struct inode *i, struct stamp t);
void attr_of(struct memfs *fs, struct inode *i, struct memfs_attr *a);

/* perm.c */
int may(const struct memfs *fs, const struct memfs_cred *cr,
	const struct inode *i, int mask);
int may_delete(const struct memfs *fs, const struct memfs_cred *cr,
	       const struct inode *dir, const struct inode *victim);
int check_setattr(struct memfs *fs, const struct memfs_cred *cr,
		  struct inode *i, const struct memfs_setattr *sa);
void kill_suidgid(struct inode *i, const struct memfs_cred *cr);
bool owner_or_capable(const struct memfs_cred *cr, const struct inode *i);
uint32_t suidgid_to_kill(const struct inode *i, const struct memfs_cred *cr);
int may_xattr(const struct memfs *fs, const struct memfs_cred *cr,
	      const struct inode *i, const char *name, int mask);
int may_link(const struct memfs *fs, const struct memfs_cred *cr, const struct inode *i);

/* acl.c */
extern const char acl_access_name[], acl_default_name[];
int acl_check(const void *value, size_t size);
bool acl_set_access(struct inode *i, void *value, size_t size, bool kill_sgid);
void acl_chmod(struct inode *i);
int acl_inherit(struct inode *d, struct inode *i, uint32_t umask);

/* xattr.c */
void free_xattrs(struct memfs *fs, struct inode *i);
struct xattr *xattr_new(const char *name, const void *value, size_t size);

/* data.c */
int data_fd(struct memfs *fs, struct inode *i, bool create);
void take_in_passthrough(struct memfs *fs, struct inode *i);
int truncate_locked(struct memfs *fs, struct inode *i, uint64_t size);
void forget_opens(struct memfs *fs, struct inode *i);

#endif
