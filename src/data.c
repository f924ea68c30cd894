/* File data: the bytes live in one store file per regular file (store.c);
 * here are reads, writes, truncation, fallocate, the descriptor budget and
 * the passthrough registration of open files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memfs_impl.h"

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
int data_fd(struct memfs *fs, struct inode *i, bool create)
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
		/* the store stamps every read (strictatime): the mount's
		 * flags decide which count */
		struct stamp t = stamp_of(st.st_atim);
		bool strict = __atomic_load_n(&fs->atime, __ATOMIC_RELAXED) & MEMFS_ATIME_STRICT;
		if ((strict || !stamp_le(t, i->atime)) && atime_due(fs, i, t))
			i->atime = t;
	}
}

/* While i is open for passthrough, the kernel may change its data file
 * behind our back: look before using size, blocks or times. */
void take_in_passthrough(struct memfs *fs, struct inode *i)
{
	if (backing_refs(i))
		refresh_data(fs, i);
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

int truncate_locked(struct memfs *fs, struct inode *i, uint64_t size)
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
	else if (cr)
		err = may(fs, cr, i, open_mask(flags) | (flags & O_TRUNC ? W_OK : 0));
	if (!err && (flags & O_TRUNC) && S_ISREG(i->mode)) {
		take_in_passthrough(fs, i);
		err = truncate_locked(fs, i, 0);
		if (!err) /* O_TRUNC stamps even an empty file */
			i->mtime = i->ctime = now();
	}
	/* The kernel fails (EIO) an open whose io mode, passthrough or
	 * cached, differs from that of the inode's other opens: the mode
	 * chosen by the first open holds until the last one is released.
	 * Set-id bits play no part: before a write through passthrough the
	 * kernel asks us to drop them (an empty SETATTR), as for any write. */
	if (!err && backing && S_ISREG(i->mode) && i->nopen == backing_refs(i)) {
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
			d->backing_writers += (flags & O_ACCMODE) != O_RDONLY;
			*backing_id = d->backing_id;
		}
	}
	if (!err) {
		i->nopen++;
		unorphan(fs, i);
	}
	unlock(&i->lock);
	return err;
}

int memfs_release(struct memfs *fs, uint64_t ino, bool passthrough, bool writer)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return 0;
	int close_id = 0;
	lock(&i->lock);
	if (passthrough && backing_refs(i)) {
		struct data *d = i->u.data;
		refresh_data(fs, i);
		if (writer && d->backing_writers)
			d->backing_writers--;
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

/* The connection that opened i is gone, and its opens and passthrough
 * ids with it (memfs_disconnect). */
void forget_opens(struct memfs *fs, struct inode *i)
{
	if (backing_refs(i)) {
		refresh_data(fs, i); /* what passthrough wrote */
		i->u.data->backing_refs = 0;
		i->u.data->backing_writers = 0;
		i->u.data->backing_id = 0;
	}
	i->nopen = 0;
	if (S_ISREG(i->mode) && i->u.data && !i->size && !allocated(i))
		free_data(fs, i);
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
		touch_atime(fs, i);
	unlock(&i->lock);
	return n;
}

static ssize_t write_locked(struct memfs *fs, const struct memfs_cred *cr, struct inode *i,
			    const void *buf, size_t size, uint64_t off, bool kill_priv);

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
	ssize_t n = write_locked(fs, cr, i, buf, size, off, kill_priv);
	unlock(&i->lock);
	if (n == -ENOSPC && __atomic_load_n(&fs->orphans, __ATOMIC_RELAXED)) {
		wait_for_forgets(fs);
		lock(&i->lock);
		n = write_locked(fs, cr, i, buf, size, off, kill_priv);
		unlock(&i->lock);
	}
	return n;
}

static ssize_t write_locked(struct memfs *fs, const struct memfs_cred *cr, struct inode *i,
			    const void *buf, size_t size, uint64_t off, bool kill_priv)
{
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
	return n;
}

int memfs_fsync(struct memfs *fs, uint64_t ino)
{
	return get(fs, ino) ? 0 : -ESTALE; /* memory is as durable as it gets */
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
	/* the VFS refuses an immutable target by its inode's flags, which a
	 * FUSE inode lacks: an fd opened before chattr +i (fstests generic/553) */
	if (out->flags & MEMFS_FL_IMMUTABLE)
		n = -EPERM;
	else if (off_in < in->size) {
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
			touch_atime(fs, in);
		}
	}
	unlock(&in->lock);
	if (out != in)
		unlock(&out->lock);
	return n;
}
