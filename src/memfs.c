/* The memory filesystem: the inode table and inodes' lifetime.  An inode
 * lives while the kernel holds lookups on it, a directory names it, or it
 * is open; the last of the three to drop frees it. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dir.h"
#include "fmt.h"
#include "memfs_impl.h"

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

/* As tmpfs (mm/shmem.c): nr_inodes=N is a budget of N KiB of "inode
 * space"; each inode and each extra hard link takes 1 KiB of it, each
 * xattr its size and name plus 40 bytes.  No limit: nothing is counted. */
#define BOGO_INODE_SIZE 1024

int reserve_ispace(struct memfs *fs, uint64_t bytes)
{
	uint64_t max = fs->cfg.max_inodes;
	if (max == UINT64_MAX || max > UINT64_MAX / BOGO_INODE_SIZE)
		return 0;
	uint64_t used = __atomic_add_fetch(&fs->ispace, bytes, __ATOMIC_RELAXED);
	if (used <= max * BOGO_INODE_SIZE)
		return 0;
	__atomic_sub_fetch(&fs->ispace, bytes, __ATOMIC_RELAXED);
	return -ENOSPC;
}

void release_ispace(struct memfs *fs, uint64_t bytes)
{
	uint64_t max = fs->cfg.max_inodes;
	if (max != UINT64_MAX && max <= UINT64_MAX / BOGO_INODE_SIZE)
		__atomic_sub_fetch(&fs->ispace, bytes, __ATOMIC_RELAXED);
}

/* nr_inodes counts inodes and, as tmpfs does, each extra hard link. */
int reserve_inode(struct memfs *fs)
{
	int err = reserve_ispace(fs, BOGO_INODE_SIZE);
	if (!err)
		__atomic_add_fetch(&fs->ninodes, 1, __ATOMIC_RELAXED);
	return err;
}

void release_inode(struct memfs *fs)
{
	__atomic_sub_fetch(&fs->ninodes, 1, __ATOMIC_RELAXED);
	release_ispace(fs, BOGO_INODE_SIZE);
}

void charge(struct memfs *fs, int64_t delta)
{
	__atomic_add_fetch(&fs->nbytes, (uint64_t)delta, __ATOMIC_RELAXED);
}

void free_data(struct memfs *fs, struct inode *i)
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
	free_xattrs(fs, i);
	free_ino(fs, i->ino);
	release_inode(fs);
	unorphan(fs, i);
	free(i);
}

/* Called with i locked; unlocks it and frees it if nothing holds it.  A
 * lookup the kernel holds keeps all of it, data too, as tmpfs keeps an
 * unlinked inode while a dentry refers to it: an O_PATH descriptor holds
 * no open, yet /proc/self/fd/N opens the file again, and linkat() gives
 * it a name.  The kernel forgets an unlinked inode at its last iput. */
void put_locked(struct memfs *fs, struct inode *i)
{
	bool unused = i->nlink == 0 && i->nopen == 0, dead = unused && !i->nlookup;
	if (unused && !dead && !(i->flags & INODE_ORPHAN)) {
		i->flags |= INODE_ORPHAN;
		__atomic_add_fetch(&fs->orphans, 1, __ATOMIC_RELAXED);
	}
	unlock(&i->lock);
	if (dead)
		destroy_inode(fs, i);
}

/* An inode by number that nothing may hold (export's LOOKUP "."): with a
 * lookup counted for the caller and locked, or NULL (-ESTALE).  Under the
 * table lock it cannot be freed (destroy_inode clears its slot and passes
 * that lock before the free); its own lock is only tried there, the table
 * lock being innermost.  One found dead (unlinked, closed, forgotten) is
 * on its way out and stays so. */
struct inode *hold_by_number(struct memfs *fs, uint64_t ino)
{
	for (;;) {
		lock(&fs->table_lock);
		struct inode *i = get(fs, ino);
		bool locked = i && trylock(&i->lock);
		if (locked && i->nlink == 0 && i->nopen == 0 && i->nlookup == 0) {
			unlock(&i->lock);
			i = NULL;
		} else if (locked) {
			i->nlookup++;
		}
		unlock(&fs->table_lock);
		if (!i || locked)
			return i;
		sched_yield();
	}
}

/* Opened or linked again (i locked), or freed. */
void unorphan(struct memfs *fs, struct inode *i)
{
	if (i->flags & INODE_ORPHAN) {
		i->flags &= ~INODE_ORPHAN;
		__atomic_sub_fetch(&fs->orphans, 1, __ATOMIC_RELAXED);
	}
}

/* An unlink's FORGET comes after its reply, and another worker may serve
 * the caller's next request first: one that finds the filesystem full, or
 * asks statfs, gives pending FORGETs a moment, as long as they keep coming
 * (an orphan held by an O_PATH descriptor may wait for its FORGET forever). */
void wait_for_forgets(struct memfs *fs)
{
	uint64_t left = __atomic_load_n(&fs->orphans, __ATOMIC_RELAXED);
	for (int idle = 0; left && idle < 20; idle++) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		uint64_t now_left = __atomic_load_n(&fs->orphans, __ATOMIC_RELAXED);
		if (now_left < left)
			idle = 0;
		left = now_left;
	}
}

int new_inode(struct memfs *fs, uint32_t mode, struct inode **out)
{
	if (reserve_inode(fs) < 0) {
		wait_for_forgets(fs);
		if (reserve_inode(fs) < 0)
			return -ENOSPC;
	}
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

void publish(struct memfs *fs, struct inode *i)
{
	set_slot(fs, i->ino, i);
}

int memfs_new(struct memfs **out, const struct memfs_config *cfg)
{
	struct memfs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->cfg = *cfg;
	fs->next_ino = MEMFS_ROOT;
	store_init(&fs->store, cfg->max_bytes, cfg->memfd_store);
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
	free(fs->stream_end);
	store_fini(&fs->store);
	free(fs);
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

void memfs_disconnect(struct memfs *fs)
{
	uint64_t end = __atomic_load_n(&fs->next_ino, __ATOMIC_ACQUIRE);
	for (uint64_t n = MEMFS_ROOT; n < end; n++) {
		struct inode *i = get(fs, n);
		if (!i)
			continue;
		lock(&i->lock);
		forget_opens(fs, i);
		i->nlookup = n == MEMFS_ROOT; /* the next kernel's root reference */
		put_locked(fs, i);
	}
	/* the connection's directory streams went with it */
	lock(&fs->streams_lock);
	if (fs->nstreams)
		memset(fs->stream_end, 0, fs->nstreams * sizeof(*fs->stream_end));
	unlock(&fs->streams_lock);
}

void memfs_statfs(struct memfs *fs, struct memfs_statfs *out)
{
	wait_for_forgets(fs);
	uint64_t used = memfs_byte_count(fs);
	uint64_t inodes = __atomic_load_n(&fs->ninodes, __ATOMIC_RELAXED);
	/* as tmpfs: xattrs take from the free inodes */
	if (fs->cfg.max_inodes != UINT64_MAX && fs->cfg.max_inodes <= UINT64_MAX / BOGO_INODE_SIZE)
		inodes = (__atomic_load_n(&fs->ispace, __ATOMIC_RELAXED) + BOGO_INODE_SIZE - 1) /
			 BOGO_INODE_SIZE;
	out->bsize = BLOCK_SIZE;
	out->namelen = MEMFS_NAME_MAX;
	/* as tmpfs: no limit shows as zeros */
	out->blocks = fs->cfg.max_bytes == UINT64_MAX ? 0 : fs->cfg.max_bytes / BLOCK_SIZE;
	uint64_t used_blocks = (used + BLOCK_SIZE - 1) / BLOCK_SIZE;
	out->bfree = used_blocks < out->blocks ? out->blocks - used_blocks : 0;
	out->files = fs->cfg.max_inodes == UINT64_MAX ? 0 : fs->cfg.max_inodes;
	out->ffree = inodes < out->files ? out->files - inodes : 0;
}

/* remount: new limits, refused (-EBUSY) below what is in use, as tmpfs */
int memfs_set_limits(struct memfs *fs, const uint64_t *max_bytes, const uint64_t *max_inodes)
{
	if (max_inodes && __atomic_load_n(&fs->ninodes, __ATOMIC_RELAXED) > *max_inodes)
		return -EBUSY;
	if (max_bytes && *max_bytes != fs->cfg.max_bytes) {
		if (memfs_byte_count(fs) > *max_bytes)
			return -EBUSY;
		int err = store_set_size(&fs->store, *max_bytes);
		if (err)
			return err;
		__atomic_store_n(&fs->cfg.max_bytes, *max_bytes, __ATOMIC_RELAXED);
	}
	if (max_inodes)
		__atomic_store_n(&fs->cfg.max_inodes, *max_inodes, __ATOMIC_RELAXED);
	return 0;
}

void memfs_limits(struct memfs *fs, uint64_t *max_bytes, uint64_t *max_inodes)
{
	*max_bytes = __atomic_load_n(&fs->cfg.max_bytes, __ATOMIC_RELAXED);
	*max_inodes = __atomic_load_n(&fs->cfg.max_inodes, __ATOMIC_RELAXED);
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

int memfs_check(struct memfs *fs, memfs_held_fn *held, void *ctx, char *why, size_t len)
{
	uint64_t counted = 0, bytes = 0;
	for (uint64_t n = MEMFS_ROOT; n < fs->next_ino; n++) {
		struct inode *i = get(fs, n);
		if (!i)
			continue;
		if (i->ino != n) {
			sfmt(why, len, "inode %llu in slot %llu", (unsigned long long)i->ino,
				 (unsigned long long)n);
			return -1;
		}
		if (!i->nlink && !i->nopen && !i->nlookup) {
			sfmt(why, len, "inode %llu kept with no name, open or lookup",
				 (unsigned long long)n);
			return -1;
		}
		uint64_t nlookup;
		uint32_t nopen;
		if (held && n != MEMFS_ROOT) {
			held(ctx, n, &nlookup, &nopen);
			if (nlookup != i->nlookup || nopen != i->nopen) {
				sfmt(why, len, "inode %llu: %llu lookups and %u opens, "
					 "the kernel holds %llu and %u", (unsigned long long)n,
					 (unsigned long long)i->nlookup, i->nopen,
					 (unsigned long long)nlookup, nopen);
				return -1;
			}
		}
		/* each extra link counts */
		counted += S_ISDIR(i->mode) || i->nlink < 2 ? 1 : i->nlink;
		bytes += allocated(i);
	}
	uint64_t ninodes = __atomic_load_n(&fs->ninodes, __ATOMIC_RELAXED);
	if (counted != ninodes) {
		sfmt(why, len, "%llu inodes counted, %llu kept", (unsigned long long)ninodes,
			 (unsigned long long)counted);
		return -1;
	}
	uint64_t nbytes = __atomic_load_n(&fs->nbytes, __ATOMIC_RELAXED);
	if (bytes != nbytes) {
		sfmt(why, len, "%llu bytes counted, %llu allocated", (unsigned long long)nbytes,
			 (unsigned long long)bytes);
		return -1;
	}
	return 0;
}
