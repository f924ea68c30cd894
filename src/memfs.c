/* The memory filesystem.  Each inode has its own lock; a directory's lock
 * covers its entries.  Locks are taken parent before child.  An inode lives
 * while the kernel holds lookups on it, a directory names it, or it is
 * open; the last of the three to drop frees it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cred.h"
#include "dir.h"
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
	uint64_t allocated; /* bytes charged to size= */
	struct timespec mtime, atime; /* the store file's, when last seen */
};

/* Unlinked and closed: counted free, though the kernel still knows it.
 * The low bits of flags are the user's MEMFS_FL_* (chattr). */
#define INODE_ORPHAN (1u << 31)
#define FL_UNCHANGEABLE (MEMFS_FL_IMMUTABLE | MEMFS_FL_APPEND)

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
	/* Data files' descriptors: past the budget, idle ones are closed
	 * (files in the private tmpfs can be opened again by name). */
	uint64_t nfds, fd_budget, evict_cursor; /* atomics */
};

static struct stamp stamp_of(struct timespec ts)
{
	return (struct stamp){ ts.tv_sec, (uint32_t)ts.tv_nsec };
}

static struct timespec timespec_of(struct stamp s)
{
	return (struct timespec){ .tv_sec = s.sec, .tv_nsec = s.nsec };
}

static bool stamp_le(struct stamp a, struct stamp b)
{
	return a.sec < b.sec || (a.sec == b.sec && a.nsec <= b.nsec);
}

static uint64_t allocated(const struct inode *i)
{
	return S_ISREG(i->mode) && i->u.data ? i->u.data->allocated : 0;
}

static uint32_t backing_refs(const struct inode *i)
{
	return S_ISREG(i->mode) && i->u.data ? i->u.data->backing_refs : 0;
}

static struct stamp now(void)
{
	struct timespec ts;
	/* Fine-grained: tmpfs hands out fine stamps once they are looked at
	 * (multigrain timestamps), and ours must never run behind those. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return stamp_of(ts);
}

static struct inode *get(struct memfs *fs, uint64_t ino)
{
	if (ino == 0 || ino >= __atomic_load_n(&fs->next_ino, __ATOMIC_ACQUIRE))
		return NULL;
	struct inode **chunk = __atomic_load_n(&fs->chunks[ino >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	return chunk ? __atomic_load_n(&chunk[ino & (CHUNK_SIZE - 1)], __ATOMIC_ACQUIRE) : NULL;
}

static void set_slot(struct memfs *fs, uint64_t ino, struct inode *i)
{
	__atomic_store_n(&fs->chunks[ino >> CHUNK_BITS][ino & (CHUNK_SIZE - 1)], i, __ATOMIC_RELEASE);
}

static int alloc_ino(struct memfs *fs, uint64_t *ino)
{
	int err = 0;
	lock(&fs->table_lock);
	if (fs->nfree) {
		*ino = fs->free_inos[--fs->nfree];
	} else if (fs->next_ino >= MAX_INO) {
		err = -ENOSPC;
	} else {
		uint64_t n = fs->next_ino;
		uint32_t c = n >> CHUNK_BITS;
		if (!fs->chunks[c]) {
			struct inode **chunk = calloc(CHUNK_SIZE, sizeof(*chunk));
			if (!chunk)
				err = -ENOMEM;
			else
				__atomic_store_n(&fs->chunks[c], chunk, __ATOMIC_RELEASE);
		}
		if (!err) {
			*ino = n;
			__atomic_store_n(&fs->next_ino, n + 1, __ATOMIC_RELEASE);
		}
	}
	unlock(&fs->table_lock);
	return err;
}

static void free_ino(struct memfs *fs, uint64_t ino)
{
	set_slot(fs, ino, NULL);
	lock(&fs->table_lock);
	if (fs->nfree == fs->free_cap) {
		size_t cap = fs->free_cap ? fs->free_cap * 2 : 64;
		uint32_t *p = realloc(fs->free_inos, cap * sizeof(*p));
		if (!p) { /* the number is lost, nothing else */
			unlock(&fs->table_lock);
			return;
		}
		fs->free_inos = p;
		fs->free_cap = cap;
	}
	fs->free_inos[fs->nfree++] = (uint32_t)ino;
	unlock(&fs->table_lock);
}

static void charge(struct memfs *fs, int64_t delta)
{
	__atomic_add_fetch(&fs->nbytes, (uint64_t)delta, __ATOMIC_RELAXED);
}

/* nr_inodes counts inodes and, as tmpfs does, each extra hard link. */
static int reserve_inode(struct memfs *fs)
{
	uint64_t n = __atomic_add_fetch(&fs->ninodes, 1, __ATOMIC_RELAXED);
	if (n <= fs->cfg.max_inodes)
		return 0;
	__atomic_sub_fetch(&fs->ninodes, 1, __ATOMIC_RELAXED);
	return -ENOSPC;
}

static void release_inode(struct memfs *fs)
{
	__atomic_sub_fetch(&fs->ninodes, 1, __ATOMIC_RELAXED);
}

static void free_data(struct memfs *fs, struct inode *i)
{
	struct data *d = S_ISREG(i->mode) ? i->u.data : NULL;
	if (!d)
		return;
	store_remove(&fs->store, d->fd, i->ino, i->generation);
	if (d->fd >= 0)
		__atomic_sub_fetch(&fs->nfds, 1, __ATOMIC_RELAXED);
	charge(fs, -(int64_t)d->allocated);
	free(d);
	i->u.data = NULL;
}

static void destroy_inode(struct memfs *fs, struct inode *i)
{
	free_data(fs, i);
	if (S_ISDIR(i->mode) && i->u.dir) {
		dir_clear(i->u.dir);
		free(i->u.dir);
	} else if (S_ISLNK(i->mode)) {
		free(i->u.target);
	}
	for (struct xattr *x = i->xattrs, *next; x; x = next) {
		next = x->next;
		free(x);
	}
	free_ino(fs, i->ino);
	if (!(i->flags & INODE_ORPHAN))
		release_inode(fs);
	free(i);
}

/* Called with i locked; unlocks it and frees it if nothing holds it.  An
 * inode that no name and no open file holds is gone for tmpfs, which frees
 * its space and inode at once: so do we, though the kernel's lookups keep
 * the inode itself until FORGET. */
static void put_locked(struct memfs *fs, struct inode *i)
{
	bool unused = i->nlink == 0 && i->nopen == 0, dead = unused && !i->nlookup;
	if (unused && !dead && !(i->flags & INODE_ORPHAN)) {
		i->flags |= INODE_ORPHAN;
		free_data(fs, i);
		release_inode(fs);
	}
	unlock(&i->lock);
	if (dead)
		destroy_inode(fs, i);
}

static int new_inode(struct memfs *fs, uint32_t mode, struct inode **out)
{
	if (reserve_inode(fs) < 0)
		return -ENOSPC;
	struct inode *i = calloc(1, sizeof(*i));
	struct dir *d = S_ISDIR(mode) ? malloc(sizeof(*d)) : NULL;
	int err = !i || (S_ISDIR(mode) && !d) ? -ENOMEM : alloc_ino(fs, &i->ino);
	if (err) {
		free(i);
		free(d);
		release_inode(fs);
		return err;
	}
	if (d) {
		dir_init(d);
		i->u.dir = d;
		i->size = 2 * BOGO_DIRENT_SIZE;
	}
	i->mode = mode;
	i->generation = (uint32_t)__atomic_add_fetch(&fs->generation, 1, __ATOMIC_RELAXED);
	i->atime = i->mtime = i->ctime = i->btime = now();
	*out = i;
	return 0;
}

static void publish(struct memfs *fs, struct inode *i)
{
	set_slot(fs, i->ino, i);
}

static void attr_of(struct memfs *fs, struct inode *i, struct memfs_attr *a);

static void fill_attr(const struct inode *i, struct memfs_attr *a)
{
	a->ino = i->ino;
	a->generation = i->generation;
	a->size = i->size;
	a->blocks = allocated(i) / 512;
	if (S_ISLNK(i->mode) && i->size >= SHORT_SYMLINK_LEN)
		a->blocks = BLOCK_SIZE / 512; /* tmpfs keeps it in a page */
	a->atime = timespec_of(i->atime);
	a->mtime = timespec_of(i->mtime);
	a->ctime = timespec_of(i->ctime);
	a->btime = timespec_of(i->btime);
	a->mode = i->mode;
	a->nlink = i->nlink;
	a->uid = i->uid;
	a->gid = i->gid;
	a->rdev = S_ISCHR(i->mode) || S_ISBLK(i->mode) ? i->u.rdev : 0;
}

/* Permission checks for when the kernel does not make them
 * (default_permissions off). */
static int may(const struct memfs *fs, const struct memfs_cred *cr,
	       const struct inode *i, int mask)
{
	/* The kernel knows nothing of chattr flags on a FUSE inode. */
	if ((mask & W_OK) && (i->flags & MEMFS_FL_IMMUTABLE))
		return -EPERM;
	if (!fs->cfg.check_perms || !mask)
		return 0;
	if (cr->uid == 0) {
		if ((mask & X_OK) && !S_ISDIR(i->mode) && !(i->mode & 0111))
			return -EACCES;
		return 0;
	}
	uint32_t bits = i->mode;
	if (cr->uid == i->uid)
		bits >>= 6;
	else if (cred_in_group(cr, i->gid))
		bits >>= 3;
	return (bits & mask & 7) == (unsigned)(mask & 7) ? 0 : -EACCES;
}

/* A sticky directory lets only the owners of the entry or the directory
 * (or root) remove it. */
static int may_delete(const struct memfs *fs, const struct memfs_cred *cr,
		      const struct inode *dir, const struct inode *victim)
{
	if ((dir->flags & MEMFS_FL_APPEND) || (victim->flags & FL_UNCHANGEABLE))
		return -EPERM;
	int err = may(fs, cr, dir, W_OK | X_OK);
	if (err || !fs->cfg.check_perms)
		return err;
	if ((dir->mode & S_ISVTX) && cr->uid != 0 && cr->uid != victim->uid &&
	    cr->uid != dir->uid)
		return -EPERM;
	return 0;
}

/* relatime: touch atime only when it is older than mtime/ctime or a day. */
static void touch_atime(struct inode *i)
{
	if (i->flags & MEMFS_FL_NOATIME)
		return;
	struct stamp t = now();
	if (stamp_le(i->atime, i->mtime) || stamp_le(i->atime, i->ctime) ||
	    t.sec - i->atime.sec >= 24 * 3600)
		i->atime = t;
}

static int check_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0)
		return -ENOENT;
	if (len > MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	return (int)len;
}

int memfs_new(struct memfs **out, const struct memfs_config *cfg)
{
	struct memfs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->cfg = *cfg;
	fs->next_ino = MEMFS_ROOT;
	store_init(&fs->store, cfg->max_bytes);
	/* Leave room for the device fds and the rest of the process. */
	struct rlimit rl;
	uint64_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	fs->fd_budget = limit > 512 ? limit - 384 : 128;
	struct inode *root;
	int err = new_inode(fs, S_IFDIR | (cfg->root_mode & 07777), &root);
	if (err) {
		store_fini(&fs->store);
		free(fs);
		return err;
	}
	root->nlink = 2;
	root->nlookup = 1; /* the kernel's reference, never forgotten */
	root->uid = cfg->root_uid;
	root->gid = cfg->root_gid;
	root->u.dir->parent = MEMFS_ROOT;
	publish(fs, root);
	*out = fs;
	return 0;
}

void memfs_free(struct memfs *fs)
{
	for (uint64_t n = MEMFS_ROOT; n < fs->next_ino; n++) {
		struct inode *i = get(fs, n);
		if (i)
			destroy_inode(fs, i);
	}
	for (uint32_t c = 0; c < MAX_CHUNKS && fs->chunks[c]; c++)
		free(fs->chunks[c]);
	free(fs->free_inos);
	store_fini(&fs->store);
	free(fs);
}

static struct inode *get_dir(struct memfs *fs, uint64_t ino, int *err)
{
	struct inode *d = get(fs, ino);
	*err = !d ? -ESTALE : !S_ISDIR(d->mode) ? -ENOTDIR : 0;
	return *err ? NULL : d;
}

int memfs_lookup(struct memfs *fs, const struct memfs_cred *cr, uint64_t dirino,
		 const char *name, struct memfs_attr *out)
{
	int err, len = check_name(name);
	if (len < 0)
		return len;
	struct inode *d = get_dir(fs, dirino, &err);
	if (!d)
		return err;
	lock(&d->lock);
	err = may(fs, cr, d, X_OK);
	if (err) {
		unlock(&d->lock);
		return err;
	}
	struct inode *child = NULL;
	if (!strcmp(name, ".")) {
		child = d;
	} else if (!strcmp(name, "..")) {
		uint64_t parent = d->u.dir->parent;
		unlock(&d->lock); /* the parent is locked before its children */
		child = get(fs, parent);
		if (!child)
			return -ENOENT;
		lock(&child->lock);
		child->nlookup++;
		attr_of(fs, child, out);
		unlock(&child->lock);
		return 0;
	} else {
		struct dentry *de = dir_find(d->u.dir, name, (size_t)len);
		if (!de) {
			unlock(&d->lock);
			return -ENOENT;
		}
		child = de->inode;
		lock(&child->lock);
	}
	child->nlookup++;
	attr_of(fs, child, out);
	if (child != d)
		unlock(&child->lock);
	unlock(&d->lock);
	return 0;
}

/* For the control socket: the kernel is not asked, no lookup is counted,
 * no permission checked, and a symlink is a name like any other. */
int memfs_resolve(struct memfs *fs, const char *path, uint64_t *ino)
{
	uint64_t cur = MEMFS_ROOT;
	for (;;) {
		path += strspn(path, "/");
		size_t len = strcspn(path, "/");
		if (!len)
			break;
		if (len > MEMFS_NAME_MAX)
			return -ENAMETOOLONG;
		int err;
		struct inode *d = get_dir(fs, cur, &err);
		if (!d)
			return err;
		lock(&d->lock);
		if (len == 2 && !memcmp(path, "..", 2)) {
			cur = d->u.dir->parent;
		} else if (len != 1 || *path != '.') {
			struct dentry *de = dir_find(d->u.dir, path, len);
			if (!de) {
				unlock(&d->lock);
				return -ENOENT;
			}
			cur = de->inode->ino;
		}
		unlock(&d->lock);
		path += len;
	}
	*ino = cur;
	return 0;
}

void memfs_forget(struct memfs *fs, uint64_t ino, uint64_t nlookup)
{
	struct inode *i = get(fs, ino);
	if (!i || ino == MEMFS_ROOT)
		return;
	lock(&i->lock);
	i->nlookup = nlookup > i->nlookup ? 0 : i->nlookup - nlookup;
	put_locked(fs, i);
}

/* Closes the descriptors of some idle data files, the next ones after the
 * last stop of a clock hand over the inode table.  Inodes locked by anyone
 * (the caller's own included) are passed over. */
static void evict_fds(struct memfs *fs)
{
	uint64_t end = __atomic_load_n(&fs->next_ino, __ATOMIC_ACQUIRE);
	uint64_t want = fs->fd_budget / 8 + 1, closed = 0;
	uint64_t n = __atomic_load_n(&fs->evict_cursor, __ATOMIC_RELAXED);
	for (uint64_t seen = 0; seen < end && closed < want; seen++, n++) {
		if (n >= end)
			n = MEMFS_ROOT;
		struct inode *i = get(fs, n);
		if (!i || !S_ISREG(i->mode) || !trylock(&i->lock))
			continue;
		struct data *d = i->u.data;
		if (d && d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
			closed++;
		}
		unlock(&i->lock);
	}
	__atomic_store_n(&fs->evict_cursor, n, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&fs->nfds, closed, __ATOMIC_RELAXED);
}

/* The descriptor of i's data file, made (if create) or opened again. */
static int data_fd(struct memfs *fs, struct inode *i, bool create)
{
	struct data *d = i->u.data;
	if (d && d->fd >= 0)
		return d->fd;
	if (!d && !create)
		return -ENODATA;
	if (store_can_reopen(&fs->store) &&
	    __atomic_load_n(&fs->nfds, __ATOMIC_RELAXED) >= fs->fd_budget)
		evict_fds(fs);
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		int fd = store_create(&fs->store, i->ino, i->generation);
		if (fd < 0) {
			free(d);
			return fd;
		}
		d->fd = fd;
		struct stat st;
		if (fstat(fd, &st) == 0) { /* its own stamps are not changes */
			d->mtime = st.st_mtim;
			d->atime = st.st_atim;
		}
		i->u.data = d;
	} else {
		int fd = store_reopen(&fs->store, i->ino, i->generation);
		if (fd < 0)
			return fd;
		d->fd = fd;
	}
	__atomic_add_fetch(&fs->nfds, 1, __ATOMIC_RELAXED);
	return d->fd;
}

static int ensure_data(struct memfs *fs, struct inode *i)
{
	int fd = data_fd(fs, i, true);
	return fd < 0 ? fd : 0;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Takes in what the data file says: its size and allocation, and, when
 * someone wrote to it behind our back (passthrough, mmap), its mtime. */
static void refresh_data(struct memfs *fs, struct inode *i)
{
	struct stat st;
	int fd = data_fd(fs, i, false);
	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	struct data *d = i->u.data;
	i->size = (uint64_t)st.st_size;
	uint64_t bytes = (uint64_t)st.st_blocks * 512;
	charge(fs, (int64_t)(bytes - d->allocated));
	d->allocated = bytes;
	if (!same_time(st.st_mtim, d->mtime)) {
		d->mtime = st.st_mtim;
		/* the store's clock may lag ours: times never go backwards */
		struct stamp t = stamp_of(st.st_mtim);
		i->mtime = i->ctime = stamp_le(t, i->ctime) ? i->ctime : t;
	}
	if (!same_time(st.st_atim, d->atime)) { /* read through passthrough */
		d->atime = st.st_atim;
		struct stamp t = stamp_of(st.st_atim);
		if (!stamp_le(t, i->atime))
			i->atime = t;
	}
}

/* While i is open for passthrough, the kernel may change its data file
 * behind our back: look before using size, blocks or times. */
static void take_in_passthrough(struct memfs *fs, struct inode *i)
{
	if (backing_refs(i))
		refresh_data(fs, i);
}

/* Attributes as a caller should see them. */
static void attr_of(struct memfs *fs, struct inode *i, struct memfs_attr *a)
{
	take_in_passthrough(fs, i);
	fill_attr(i, a);
}

/* With memfds, size= is ours to enforce; the private tmpfs enforces it. */
static bool would_overflow(struct memfs *fs, uint64_t bytes)
{
	return !store_limits_itself(&fs->store) && memfs_byte_count(fs) + bytes > fs->cfg.max_bytes;
}

/* After our own change to the data: stamp it now, and remember the data
 * file's mtime so that refresh_data sees only changes made elsewhere. */
static void data_changed(struct memfs *fs, struct inode *i)
{
	refresh_data(fs, i);
	i->mtime = i->ctime = now();
}


int memfs_getattr(struct memfs *fs, uint64_t ino, struct memfs_attr *out)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	attr_of(fs, i, out);
	unlock(&i->lock);
	return 0;
}

static int truncate_locked(struct memfs *fs, struct inode *i, uint64_t size)
{
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (!S_ISREG(i->mode))
		return -EINVAL;
	if (size > INT64_MAX)
		return -EFBIG;
	if (size == i->size && !allocated(i))
		return 0;
	/* At the same size tmpfs still cuts away what lies past EOF (from
	 * fallocate KEEP_SIZE) and stamps the file, when it holds any data. */
	int fd = data_fd(fs, i, true);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	data_changed(fs, i);
	return 0;
}

/* What the VFS drops on write, truncate and chown: set-user-id always;
 * set-group-id when group-executable, or when the caller is neither in
 * the file's group nor root. */
static void kill_suidgid(struct inode *i, const struct memfs_cred *cr)
{
	i->mode &= ~S_ISUID;
	if ((i->mode & S_IXGRP) || (cr->uid != 0 && !cred_in_group(cr, i->gid)))
		i->mode &= ~S_ISGID;
}

static int check_setattr(struct memfs *fs, const struct memfs_cred *cr,
			 struct inode *i, const struct memfs_setattr *sa)
{
	/* utimensat(NULL) and (NOW, NOW) need only write access: any other
	 * setting of times is the owner's */
	unsigned both_now = MEMFS_SET_ATIME | MEMFS_SET_ATIME_NOW | MEMFS_SET_MTIME |
			    MEMFS_SET_MTIME_NOW;
	unsigned times = sa->valid & both_now;
	bool explicit_time = times && times != both_now;
	if (i->flags & MEMFS_FL_IMMUTABLE)
		return -EPERM;
	if ((i->flags & MEMFS_FL_APPEND) &&
	    (explicit_time || sa->valid & (MEMFS_SET_MODE | MEMFS_SET_UID | MEMFS_SET_GID |
					   MEMFS_SET_SIZE)))
		return -EPERM;
	if (!fs->cfg.check_perms || cr->uid == 0)
		return 0;
	bool owner = cr->uid == i->uid;
	if ((sa->valid & MEMFS_SET_MODE || explicit_time) && !owner)
		return -EPERM;
	if (sa->valid & MEMFS_SET_UID && sa->uid != i->uid)
		return -EPERM;
	/* An empty SETATTR is chown(-1, -1) or the kernel dropping set-id bits
	 * before a write: it needs no ownership. */
	if (sa->valid & (MEMFS_SET_UID | MEMFS_SET_GID) && !owner)
		return -EPERM;
	if (sa->valid & MEMFS_SET_GID && sa->gid != i->gid && !cred_in_group(cr, sa->gid))
		return -EPERM;
	/* "now" needs only write access */
	if (sa->valid & (MEMFS_SET_ATIME_NOW | MEMFS_SET_MTIME_NOW) && !owner)
		return may(fs, cr, i, W_OK);
	if (sa->valid & MEMFS_SET_SIZE)
		return may(fs, cr, i, W_OK);
	return 0;
}

int memfs_setattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		  const struct memfs_setattr *sa, struct memfs_attr *out)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	take_in_passthrough(fs, i); /* before stamping and truncating */
	int err = check_setattr(fs, cr, i, sa);
	if (!err && (sa->valid & MEMFS_SET_SIZE))
		err = truncate_locked(fs, i, sa->size);
	if (err) {
		unlock(&i->lock);
		return err;
	}
	struct stamp t = now();
	bool changed = false;
	if (sa->valid & (MEMFS_SET_UID | MEMFS_SET_GID | MEMFS_SET_SAME_OWNER)) {
		/* chown drops set-id bits of non-directories, as the VFS does,
		 * judged by the group the file had */
		if (!S_ISDIR(i->mode) && !(sa->valid & MEMFS_SET_MODE))
			kill_suidgid(i, cr);
		if (sa->valid & MEMFS_SET_UID)
			i->uid = sa->uid;
		if (sa->valid & MEMFS_SET_GID)
			i->gid = sa->gid;
		changed = true;
	}
	if (sa->valid & MEMFS_SET_MODE) {
		uint32_t mode = sa->mode & 07777;
		/* chmod g+s by one not in the file's group drops it silently */
		if (fs->cfg.check_perms && cr->uid != 0 && !cred_in_group(cr, i->gid))
			mode &= ~S_ISGID;
		i->mode = (i->mode & S_IFMT) | mode;
		changed = true;
	}
	if (sa->valid & MEMFS_KILL_SUIDGID) {
		kill_suidgid(i, cr);
		changed = true;
	}
	if (sa->valid & (MEMFS_SET_ATIME | MEMFS_SET_ATIME_NOW)) {
		i->atime = sa->valid & MEMFS_SET_ATIME_NOW ? t : stamp_of(sa->atime);
		changed = true;
	}
	if (sa->valid & (MEMFS_SET_MTIME | MEMFS_SET_MTIME_NOW)) {
		i->mtime = sa->valid & MEMFS_SET_MTIME_NOW ? t : stamp_of(sa->mtime);
		changed = true;
		/* Mark the data file too, so a later write behind our back
		 * shows as a change even within the same clock tick. */
		int fd = S_ISREG(i->mode) ? data_fd(fs, i, false) : -1;
		if (fd >= 0) {
			struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, timespec_of(i->mtime) };
			if (futimens(fd, ts) == 0)
				i->u.data->mtime = ts[1];
		}
	}
	if (changed)
		i->ctime = t;
	if (sa->valid & MEMFS_SET_CTIME)
		i->ctime = stamp_of(sa->ctime);
	fill_attr(i, out);
	unlock(&i->lock);
	return 0;
}

static int check_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFCHR: case S_IFBLK:
	case S_IFIFO: case S_IFSOCK:
		return 0;
	default:
		return -EINVAL;
	}
}

/* Makes an inode and names it in dir (or, for O_TMPFILE, in no directory). */
static int create(struct memfs *fs, const struct memfs_cred *cr, uint64_t dirino,
		  const char *name, uint32_t mode, uint32_t rdev, const char *target,
		  struct memfs_attr *out)
{
	int err, len = name ? check_name(name) : 0;
	if (len < 0)
		return len;
	struct inode *d = get_dir(fs, dirino, &err);
	if (!d)
		return err;
	char *link = NULL;
	if (target && !(link = strdup(target)))
		return -ENOMEM;
	struct inode *i;
	err = new_inode(fs, mode & (S_IFMT | 07777), &i);
	if (err) {
		free(link);
		return err;
	}
	if (link) {
		i->u.target = link;
		i->size = strlen(link);
	}
	lock(&d->lock);
	if (d->nlink == 0)
		err = -ENOENT; /* the directory was removed */
	else if (name && (dir_find(d->u.dir, name, (size_t)len) || !strcmp(name, ".") ||
			  !strcmp(name, "..")))
		err = -EEXIST;
	else
		err = may(fs, cr, d, W_OK | X_OK);
	if (!err && name)
		err = dir_add(d->u.dir, name, (size_t)len, i);
	if (err) {
		unlock(&d->lock);
		lock(&i->lock);
		put_locked(fs, i);
		return err;
	}
	i->uid = cr->uid;
	i->gid = cr->gid;
	if (S_ISCHR(mode) || S_ISBLK(mode))
		i->u.rdev = rdev;
	if (d->mode & S_ISGID) { /* set-group-id directories pass on their group */
		i->gid = d->gid;
		if (S_ISDIR(mode))
			i->mode |= S_ISGID;
	}
	i->nlookup = 1;
	if (S_ISDIR(mode)) {
		i->nlink = 2;
		i->u.dir->parent = d->ino;
		d->nlink++;
	} else {
		i->nlink = name ? 1 : 0;
	}
	if (name) {
		d->size += BOGO_DIRENT_SIZE;
		d->mtime = d->ctime = i->ctime;
	}
	fill_attr(i, out);
	publish(fs, i);
	unlock(&d->lock);
	return 0;
}

int memfs_mknod(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		const char *name, uint32_t mode, uint32_t rdev, struct memfs_attr *out)
{
	if (check_type(mode) < 0)
		return -EINVAL;
	return create(fs, cr, dir, name, mode, rdev, NULL, out);
}

int memfs_tmpfile(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		  uint32_t mode, struct memfs_attr *out)
{
	return create(fs, cr, dir, NULL, S_IFREG | (mode & 07777), 0, NULL, out);
}

int memfs_symlink(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		  const char *name, const char *target, struct memfs_attr *out)
{
	size_t len = strlen(target);
	if (len == 0)
		return -ENOENT;
	if (len >= MEMFS_PATH_MAX)
		return -ENAMETOOLONG;
	return create(fs, cr, dir, name, S_IFLNK | 0777, 0, target, out);
}

ssize_t memfs_readlink(struct memfs *fs, uint64_t ino, char *buf, size_t size)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	if (!S_ISLNK(i->mode))
		return -EINVAL;
	lock(&i->lock);
	size_t n = i->size < size ? i->size : size;
	memcpy(buf, i->u.target, n);
	touch_atime(i);
	unlock(&i->lock);
	return (ssize_t)n;
}

int memfs_link(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
	       uint64_t dirino, const char *name, struct memfs_attr *out)
{
	int err, len = check_name(name);
	if (len < 0)
		return len;
	struct inode *d = get_dir(fs, dirino, &err);
	struct inode *i = get(fs, ino);
	if (!d)
		return err;
	if (!i)
		return -ESTALE;
	if (S_ISDIR(i->mode))
		return -EPERM;
	lock(&d->lock);
	lock(&i->lock); /* not a directory: never an ancestor of d */
	if (d->nlink == 0)
		err = -ENOENT;
	else if (i->flags & FL_UNCHANGEABLE)
		err = -EPERM;
	else if (dir_find(d->u.dir, name, (size_t)len) || !strcmp(name, ".") || !strcmp(name, ".."))
		err = -EEXIST;
	else if (i->nlink >= MEMFS_LINK_MAX)
		err = -EMLINK;
	else
		err = may(fs, cr, d, W_OK | X_OK);
	/* a link to an O_TMPFILE file (nlink 0) uses the inode it has */
	bool extra = i->nlink > 0;
	if (!err && extra)
		err = reserve_inode(fs);
	if (!err && (err = dir_add(d->u.dir, name, (size_t)len, i)) < 0 && extra)
		release_inode(fs);
	if (!err) {
		struct stamp t = now();
		i->nlink++;
		i->nlookup++;
		i->ctime = t;
		d->mtime = d->ctime = t;
		d->size += BOGO_DIRENT_SIZE;
		attr_of(fs, i, out);
	}
	unlock(&i->lock);
	unlock(&d->lock);
	return err;
}

/* A name of i in dir is gone.  A directory has only the one; each extra
 * link of a file counted as an inode, as in tmpfs. */
static void drop_link(struct memfs *fs, struct inode *dir, struct inode *i, struct stamp t)
{
	if (S_ISDIR(i->mode)) {
		i->nlink = 0;
		dir->nlink--;
	} else {
		if (i->nlink > 1)
			release_inode(fs);
		i->nlink--;
	}
	i->ctime = t;
}

static int remove_entry(struct memfs *fs, const struct memfs_cred *cr,
			uint64_t dirino, const char *name, bool want_dir)
{
	int err, len = check_name(name);
	if (len < 0)
		return len;
	if (want_dir && !strcmp(name, "."))
		return -EINVAL;
	if (want_dir && !strcmp(name, ".."))
		return -ENOTEMPTY;
	struct inode *d = get_dir(fs, dirino, &err);
	if (!d)
		return err;
	lock(&d->lock);
	struct dentry *de = dir_find(d->u.dir, name, (size_t)len);
	if (!de) {
		unlock(&d->lock);
		return -ENOENT;
	}
	struct inode *i = de->inode;
	lock(&i->lock);
	if (want_dir && !S_ISDIR(i->mode))
		err = -ENOTDIR;
	else if (!want_dir && S_ISDIR(i->mode))
		err = -EISDIR;
	else if (want_dir && i->u.dir->count)
		err = -ENOTEMPTY;
	else
		err = may_delete(fs, cr, d, i);
	if (err) {
		unlock(&i->lock);
		unlock(&d->lock);
		return err;
	}
	dir_remove(d->u.dir, de);
	struct stamp t = now();
	drop_link(fs, d, i, t);
	d->mtime = d->ctime = t;
	d->size -= BOGO_DIRENT_SIZE;
	unlock(&d->lock);
	put_locked(fs, i);
	return 0;
}

int memfs_unlink(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		 const char *name)
{
	return remove_entry(fs, cr, dir, name, false);
}

int memfs_rmdir(struct memfs *fs, const struct memfs_cred *cr, uint64_t dir,
		const char *name)
{
	return remove_entry(fs, cr, dir, name, true);
}

/* Is a an ancestor of (or the same as) b?  Needs the rename lock. */
static bool is_ancestor(struct memfs *fs, const struct inode *a, const struct inode *b)
{
	for (;;) {
		if (a == b)
			return true;
		if (b->ino == MEMFS_ROOT)
			return false;
		b = get(fs, b->u.dir->parent);
		if (!b)
			return false;
	}
}

static void lock_two(struct inode *a, struct inode *b)
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

static bool is_empty_dir(const struct inode *i)
{
	return S_ISDIR(i->mode) && i->u.dir->count == 0;
}

/* Checks a rename of src (from odir) onto dst (in ndir, maybe NULL). */
static int check_rename(struct memfs *fs, const struct memfs_cred *cr,
			struct inode *odir, struct inode *src,
			struct inode *ndir, struct inode *dst, unsigned flags)
{
	if ((flags & MEMFS_RENAME_NOREPLACE) && dst)
		return -EEXIST;
	if ((flags & MEMFS_RENAME_EXCHANGE) && !dst)
		return -ENOENT;
	if (dst && !(flags & MEMFS_RENAME_EXCHANGE)) {
		if (S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
			return -ENOTDIR;
		if (!S_ISDIR(src->mode) && S_ISDIR(dst->mode))
			return -EISDIR;
		if (S_ISDIR(dst->mode) && !is_empty_dir(dst))
			return -ENOTEMPTY;
	}
	int err = may_delete(fs, cr, odir, src);
	if (!err && dst)
		err = may_delete(fs, cr, ndir, dst);
	if (!err && !dst)
		err = may(fs, cr, ndir, W_OK | X_OK);
	/* A directory that changes parent rewrites its "..". */
	if (!err && odir != ndir && S_ISDIR(src->mode))
		err = may(fs, cr, src, W_OK);
	if (!err && dst && odir != ndir && S_ISDIR(dst->mode) && (flags & MEMFS_RENAME_EXCHANGE))
		err = may(fs, cr, dst, W_OK);
	return err;
}

/* Moves a directory's ".." link from one parent to another. */
static void reparent(struct inode *i, struct inode *from, struct inode *to)
{
	if (!S_ISDIR(i->mode) || from == to)
		return;
	from->nlink--;
	to->nlink++;
	i->u.dir->parent = to->ino;
}

int memfs_rename(struct memfs *fs, const struct memfs_cred *cr, uint64_t olddir,
		 const char *oldname, uint64_t newdir, const char *newname, unsigned flags)
{
	if (flags & ~(MEMFS_RENAME_NOREPLACE | MEMFS_RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & MEMFS_RENAME_NOREPLACE) && (flags & MEMFS_RENAME_EXCHANGE))
		return -EINVAL;
	int err, olen = check_name(oldname), nlen = check_name(newname);
	if (olen < 0)
		return olen;
	if (nlen < 0)
		return nlen;
	if (!strcmp(oldname, ".") || !strcmp(oldname, "..") ||
	    !strcmp(newname, ".") || !strcmp(newname, ".."))
		return -EBUSY;
	struct inode *odir = get_dir(fs, olddir, &err);
	if (!odir)
		return err;
	struct inode *ndir = get_dir(fs, newdir, &err);
	if (!ndir)
		return err;
	bool cross = odir != ndir;
	if (cross) {
		lock(&fs->rename_lock);
		/* An ancestor is locked before its descendants. */
		if (is_ancestor(fs, ndir, odir)) {
			lock(&ndir->lock);
			lock(&odir->lock);
		} else {
			lock(&odir->lock);
			lock(&ndir->lock);
		}
	} else {
		lock(&odir->lock);
	}
	struct dentry *sde = dir_find(odir->u.dir, oldname, (size_t)olen);
	struct dentry *dde = dir_find(ndir->u.dir, newname, (size_t)nlen);
	struct inode *src = sde ? sde->inode : NULL, *dst = dde ? dde->inode : NULL;
	if (!src) {
		err = -ENOENT;
		goto out_dirs;
	}
	if (ndir->nlink == 0) {
		err = -ENOENT;
		goto out_dirs;
	}
	if (src == dst) { /* two names of one inode: nothing to do */
		err = 0;
		goto out_dirs;
	}
	/* Into its own subtree, or onto an ancestor of the source: refused
	 * before the children are locked, as those locks would go upwards. */
	if (cross && S_ISDIR(src->mode) && is_ancestor(fs, src, ndir)) {
		err = -EINVAL;
		goto out_dirs;
	}
	if (cross && dst && S_ISDIR(dst->mode) && is_ancestor(fs, dst, odir)) {
		err = flags & MEMFS_RENAME_EXCHANGE ? -EINVAL : -ENOTEMPTY;
		goto out_dirs;
	}
	if (dst)
		lock_two(src, dst);
	else
		lock(&src->lock);
	err = check_rename(fs, cr, odir, src, ndir, dst, flags);
	if (!err && !dst) /* the only step that can fail comes first */
		err = dir_add(ndir->u.dir, newname, (size_t)nlen, src);
	if (err)
		goto out_children;
	struct stamp t = now();
	if (flags & MEMFS_RENAME_EXCHANGE) {
		sde->inode = dst;
		dde->inode = src;
		reparent(src, odir, ndir);
		reparent(dst, ndir, odir);
		dst->ctime = t;
	} else {
		if (dst) {
			dde->inode = src;
			drop_link(fs, ndir, dst, t);
		} else {
			ndir->size += BOGO_DIRENT_SIZE;
		}
		dir_remove(odir->u.dir, sde);
		odir->size -= BOGO_DIRENT_SIZE;
		reparent(src, odir, ndir);
	}
	src->ctime = t;
	odir->mtime = odir->ctime = t;
	ndir->mtime = ndir->ctime = t;
out_children:
	if (dst && dst != src) {
		unlock(&src->lock);
		if (flags & MEMFS_RENAME_EXCHANGE || err)
			unlock(&dst->lock);
		else
			put_locked(fs, dst);
	} else {
		unlock(&src->lock);
	}
out_dirs:
	if (cross) {
		unlock(&ndir->lock);
		unlock(&odir->lock);
		unlock(&fs->rename_lock);
	} else {
		unlock(&odir->lock);
	}
	return err;
}

static int open_mask(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return R_OK;
	case O_WRONLY: return W_OK;
	default: return R_OK | W_OK;
	}
}

int memfs_open(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino, int flags,
	       memfs_backing_fn *backing, void *ctx, int *backing_id)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	int err = 0;
	*backing_id = 0;
	bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	if (S_ISDIR(i->mode) && (flags & O_ACCMODE) != O_RDONLY)
		err = -EISDIR;
	else if ((i->flags & MEMFS_FL_APPEND) && writes &&
		 (!(flags & O_APPEND) || (flags & O_TRUNC)))
		err = -EPERM; /* append-only: O_APPEND, and no O_TRUNC */
	else
		err = may(fs, cr, i, open_mask(flags) | (flags & O_TRUNC ? W_OK : 0));
	if (!err && (flags & O_TRUNC) && S_ISREG(i->mode)) {
		take_in_passthrough(fs, i);
		err = truncate_locked(fs, i, 0);
		if (!err) /* O_TRUNC stamps even an empty file */
			i->mtime = i->ctime = now();
	}
	/* Set-id files go without passthrough: the kernel writes a backing
	 * file with our credentials, so only a WRITE we see can drop the bits. */
	if (!err && backing && S_ISREG(i->mode) && !(i->mode & (S_ISUID | S_ISGID))) {
		/* One registration per inode, while any passthrough open lasts:
		 * the opener looks the id up only after our reply. */
		int fd = data_fd(fs, i, true);
		struct data *d = i->u.data;
		if (fd >= 0 && !d->backing_refs) {
			int id = backing(ctx, fd);
			d->backing_id = id > 0 ? id : 0;
		}
		if (fd >= 0 && d->backing_id) {
			d->backing_refs++;
			*backing_id = d->backing_id;
		}
	}
	if (!err)
		i->nopen++;
	unlock(&i->lock);
	return err;
}

int memfs_release(struct memfs *fs, uint64_t ino, bool passthrough)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return 0;
	int close_id = 0;
	lock(&i->lock);
	if (passthrough && backing_refs(i)) {
		struct data *d = i->u.data;
		refresh_data(fs, i);
		if (--d->backing_refs == 0) {
			close_id = d->backing_id;
			d->backing_id = 0;
		}
	}
	if (i->nopen)
		i->nopen--;
	/* A file opened for passthrough got a data file even if it stayed
	 * empty (touch): drop it, so that empty files cost no store file. */
	if (!i->nopen && S_ISREG(i->mode) && i->u.data && !i->size && !allocated(i))
		free_data(fs, i);
	put_locked(fs, i);
	return close_id;
}

ssize_t memfs_read(struct memfs *fs, uint64_t ino, void *buf, size_t size, uint64_t off)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (!S_ISREG(i->mode))
		return -EINVAL;
	lock(&i->lock);
	ssize_t n = 0;
	if (off < i->size) {
		size_t want = i->size - off < size ? (size_t)(i->size - off) : size;
		int fd = data_fd(fs, i, false);
		if (fd < 0)
			want = 0, n = fd;
		while (n >= 0 && (size_t)n < want) {
			ssize_t r = pread(fd, (char *)buf + n, want - n, (off_t)(off + n));
			if (r < 0) {
				n = -errno;
				break;
			}
			if (r == 0) /* a hole at the end */
				break;
			n += r;
		}
	}
	if (n >= 0)
		touch_atime(i);
	unlock(&i->lock);
	return n;
}

ssize_t memfs_write(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		    const void *buf, size_t size, uint64_t off, bool kill_priv)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	if (S_ISDIR(i->mode))
		return -EISDIR;
	if (!S_ISREG(i->mode))
		return -EINVAL;
	if (off > INT64_MAX || size > INT64_MAX - off)
		return -EFBIG;
	lock(&i->lock);
	ssize_t n = 0;
	/* Charge conservatively: a write inside a dense file allocates nothing. */
	bool may_allocate = off + size > i->size || allocated(i) < i->size;
	if (may_allocate && would_overflow(fs, size))
		n = -ENOSPC;
	else
		n = ensure_data(fs, i);
	while (n >= 0 && (size_t)n < size) {
		ssize_t w = pwrite(i->u.data->fd, (const char *)buf + n, size - n, (off_t)(off + n));
		if (w < 0) {
			if (n == 0)
				n = -errno;
			break;
		}
		n += w;
	}
	if (n > 0) {
		data_changed(fs, i);
		if (kill_priv)
			kill_suidgid(i, cr);
	}
	unlock(&i->lock);
	return n;
}

int memfs_fsync(struct memfs *fs, uint64_t ino)
{
	return get(fs, ino) ? 0 : -ESTALE; /* memory is as durable as it gets */
}

int memfs_opendir(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino)
{
	int err;
	struct inode *d = get_dir(fs, ino, &err);
	if (!d)
		return err;
	lock(&d->lock);
	err = may(fs, cr, d, R_OK);
	unlock(&d->lock);
	return err;
}

int memfs_readdir(struct memfs *fs, uint64_t ino, uint64_t off,
		  memfs_fill_fn *fill, void *ctx, bool plus)
{
	int err;
	struct inode *d = get_dir(fs, ino, &err);
	if (!d)
		return err;
	lock(&d->lock);
	if (off < 1 && !fill(ctx, ".", 1, S_IFDIR, d->ino, 1, NULL))
		goto out;
	if (off < 2) {
		struct inode *p = get(fs, d->u.dir->parent);
		if (!fill(ctx, "..", 2, S_IFDIR, p ? p->ino : d->ino, 2, NULL))
			goto out;
	}
	struct dir *dir = d->u.dir;
	for (uint32_t s = dir_seek(dir, off < DIR_FIRST_COOKIE ? DIR_FIRST_COOKIE : off);
	     s < dir->nslots; s++) {
		struct dentry *de = dir->slots[s].d;
		if (!de)
			continue;
		struct inode *i = de->inode;
		if (!plus) {
			if (!fill(ctx, de->name, de->namelen, i->mode, i->ino, de->cookie + 1, NULL))
				break;
			continue;
		}
		struct memfs_attr a;
		lock(&i->lock);
		attr_of(fs, i, &a);
		bool taken = fill(ctx, de->name, de->namelen, i->mode, i->ino, de->cookie + 1, &a);
		if (taken)
			i->nlookup++;
		unlock(&i->lock);
		if (!taken)
			break;
	}
out:
	touch_atime(d);
	unlock(&d->lock);
	return 0;
}

int memfs_access(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino, int mask)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	int err = may(fs, cr, i, mask);
	unlock(&i->lock);
	return err;
}

void memfs_statfs(struct memfs *fs, struct memfs_statfs *out)
{
	uint64_t used = memfs_byte_count(fs);
	uint64_t inodes = __atomic_load_n(&fs->ninodes, __ATOMIC_RELAXED);
	out->bsize = BLOCK_SIZE;
	out->namelen = MEMFS_NAME_MAX;
	/* as tmpfs: no limit shows as zeros */
	out->blocks = fs->cfg.max_bytes == UINT64_MAX ? 0 : fs->cfg.max_bytes / BLOCK_SIZE;
	uint64_t used_blocks = (used + BLOCK_SIZE - 1) / BLOCK_SIZE;
	out->bfree = used_blocks < out->blocks ? out->blocks - used_blocks : 0;
	out->files = fs->cfg.max_inodes == UINT64_MAX ? 0 : fs->cfg.max_inodes;
	out->ffree = inodes < out->files ? out->files - inodes : 0;
}

uint64_t memfs_inode_count(struct memfs *fs)
{
	return __atomic_load_n(&fs->ninodes, __ATOMIC_RELAXED);
}

/* Passthrough writes reach the store directly: ask it when it can tell. */
uint64_t memfs_byte_count(struct memfs *fs)
{
	uint64_t used = store_used(&fs->store);
	return used != UINT64_MAX ? used : __atomic_load_n(&fs->nbytes, __ATOMIC_RELAXED);
}

static struct xattr **find_xattr(struct inode *i, const char *name, size_t len)
{
	struct xattr **pp = &i->xattrs;
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->namelen == len && !memcmp((*pp)->data, name, len))
			break;
	return pp;
}

/* user., trusted. and security. are kept; system.* (ACLs) is not. */
static int check_xattr_name(const char *name, size_t *len)
{
	static const char *const prefixes[] = { "user.", "trusted.", "security." };
	*len = strlen(name);
	if (*len == 0 || *len > MEMFS_XATTR_NAME_MAX)
		return *len ? -ERANGE : -EINVAL;
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		size_t plen = strlen(prefixes[p]);
		if (!strncmp(name, prefixes[p], plen))
			return *len == plen ? -EINVAL : 0; /* a prefix alone names nothing */
	}
	return -EOPNOTSUPP;
}

int memfs_setxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		   const char *name, const void *value, size_t size, int flags)
{
	size_t len;
	int err = check_xattr_name(name, &len);
	if (err)
		return err;
	if (size > MEMFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (flags & ~(MEMFS_XATTR_CREATE | MEMFS_XATTR_REPLACE))
		return -EINVAL;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	struct xattr *x = malloc(sizeof(*x) + len + 1 + size);
	if (!x)
		return -ENOMEM;
	x->namelen = (uint32_t)len;
	x->size = (uint32_t)size;
	memcpy(x->data, name, len + 1);
	memcpy(x->data + len + 1, value, size);
	lock(&i->lock);
	struct xattr **pp = find_xattr(i, name, len);
	if (i->flags & FL_UNCHANGEABLE)
		err = -EPERM;
	else if (fs->cfg.check_perms && cr->uid != 0 && cr->uid != i->uid)
		err = may(fs, cr, i, W_OK);
	if (!err && *pp && (flags & MEMFS_XATTR_CREATE))
		err = -EEXIST;
	if (!err && !*pp && (flags & MEMFS_XATTR_REPLACE))
		err = -ENODATA;
	if (err) {
		unlock(&i->lock);
		free(x);
		return err;
	}
	if (*pp) { /* replace in place */
		x->next = (*pp)->next;
		free(*pp);
		*pp = x;
	} else { /* tmpfs lists names in descending order: keep them so */
		struct xattr **at = &i->xattrs;
		while (*at && strcmp((*at)->data, x->data) > 0)
			at = &(*at)->next;
		x->next = *at;
		*at = x;
	}
	i->ctime = now();
	unlock(&i->lock);
	return 0;
}

ssize_t memfs_getxattr(struct memfs *fs, uint64_t ino, const char *name, void *buf,
		       size_t size)
{
	size_t len;
	int err = check_xattr_name(name, &len);
	if (err)
		return err;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	struct xattr *x = *find_xattr(i, name, len);
	ssize_t n = !x ? -ENODATA : size && size < x->size ? -ERANGE : (ssize_t)x->size;
	if (x && size && n >= 0)
		memcpy(buf, x->data + x->namelen + 1, x->size);
	unlock(&i->lock);
	return n;
}

/* trusted.* is listed only to root (CAP_SYS_ADMIN, as tmpfs asks). */
static bool listed(const struct xattr *x, const struct memfs_cred *cr)
{
	return cr->uid == 0 || strncmp(x->data, "trusted.", 8);
}

ssize_t memfs_listxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
			char *buf, size_t size)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	size_t total = 0;
	for (struct xattr *x = i->xattrs; x; x = x->next)
		if (listed(x, cr))
			total += x->namelen + 1;
	ssize_t n = size && size < total ? -ERANGE : (ssize_t)total;
	if (size && n >= 0)
		for (struct xattr *x = i->xattrs; x; x = x->next) {
			if (!listed(x, cr))
				continue;
			memcpy(buf, x->data, x->namelen + 1);
			buf += x->namelen + 1;
		}
	unlock(&i->lock);
	return n;
}

int memfs_removexattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		      const char *name)
{
	size_t len;
	int err = check_xattr_name(name, &len);
	if (err)
		return err;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	struct xattr **pp = find_xattr(i, name, len);
	if (i->flags & FL_UNCHANGEABLE)
		err = -EPERM;
	else if (fs->cfg.check_perms && cr->uid != 0 && cr->uid != i->uid)
		err = may(fs, cr, i, W_OK);
	if (!err && !*pp)
		err = -ENODATA;
	if (!err) {
		struct xattr *x = *pp;
		*pp = x->next;
		free(x);
		i->ctime = now();
	}
	unlock(&i->lock);
	return err;
}

int memfs_fallocate(struct memfs *fs, uint64_t ino, int mode, uint64_t off, uint64_t len)
{
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (off > INT64_MAX || len == 0 || len > INT64_MAX - off)
		return len == 0 ? -EINVAL : -EFBIG;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	if (!S_ISREG(i->mode))
		return S_ISDIR(i->mode) ? -EISDIR : -ENODEV;
	lock(&i->lock);
	int err = ensure_data(fs, i);
	if (!err && !(mode & FALLOC_FL_PUNCH_HOLE) && would_overflow(fs, len))
		err = -ENOSPC;
	if (!err && fallocate(i->u.data->fd, mode, (off_t)off, (off_t)len) < 0)
		err = -errno;
	if (!err)
		refresh_data(fs, i); /* the data file stamps what tmpfs stamps */
	unlock(&i->lock);
	return err;
}

int64_t memfs_lseek(struct memfs *fs, uint64_t ino, uint64_t off, int whence)
{
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	if (off > INT64_MAX)
		return -ENXIO;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	int64_t res;
	int fd = S_ISREG(i->mode) ? data_fd(fs, i, false) : -ENXIO;
	if (fd == -ENODATA) /* no data: an empty file */
		res = -ENXIO;
	else if (fd < 0)
		res = fd;
	else if ((res = lseek(fd, (off_t)off, whence)) < 0)
		res = -errno;
	unlock(&i->lock);
	return res;
}

ssize_t memfs_copy_range(struct memfs *fs, uint64_t ino_in, uint64_t off_in,
			 uint64_t ino_out, uint64_t off_out, size_t len)
{
	struct inode *in = get(fs, ino_in), *out = get(fs, ino_out);
	if (!in || !out)
		return -ESTALE;
	if (!S_ISREG(in->mode) || !S_ISREG(out->mode))
		return S_ISDIR(in->mode) || S_ISDIR(out->mode) ? -EISDIR : -EINVAL;
	if (off_in > INT64_MAX || off_out > INT64_MAX || len > (uint64_t)INT64_MAX - off_out)
		return -EFBIG;
	lock_two(in, out);
	take_in_passthrough(fs, in); /* the source may have grown */
	if (out != in)
		take_in_passthrough(fs, out);
	ssize_t n = 0;
	if (off_in < in->size) {
		if (len > in->size - off_in)
			len = (size_t)(in->size - off_in);
		n = ensure_data(fs, out);
		if (!n && data_fd(fs, in, false) < 0)
			n = -EIO;
		if (!n && would_overflow(fs, len))
			n = -ENOSPC;
		if (!n) {
			loff_t oi = (loff_t)off_in, oo = (loff_t)off_out;
			n = copy_file_range(in->u.data->fd, &oi, out->u.data->fd, &oo, len, 0);
			if (n < 0)
				n = -errno;
		}
		if (n > 0) {
			data_changed(fs, out);
			touch_atime(in);
		}
	}
	unlock(&in->lock);
	if (out != in)
		unlock(&out->lock);
	return n;
}

/* chattr: the kernel checks ownership and CAP_LINUX_IMMUTABLE first. */
int memfs_get_flags(struct memfs *fs, uint64_t ino, uint32_t *flags)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	*flags = __atomic_load_n(&i->flags, __ATOMIC_RELAXED) & MEMFS_FL_USER;
	return 0;
}

int memfs_set_flags(struct memfs *fs, uint64_t ino, uint32_t flags)
{
	if (flags & ~MEMFS_FL_USER)
		return -EOPNOTSUPP;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	i->flags = (i->flags & ~MEMFS_FL_USER) | flags;
	i->ctime = now();
	unlock(&i->lock);
	return 0;
}
