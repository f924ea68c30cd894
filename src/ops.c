/* Requests: length checks, decoding, and the call into the memory
 * filesystem; reply.c sends the answers.  Every field the kernel sent is
 * read only after the request was found long enough to hold it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "counter.h"
#include "log.h"
#include "opname.h"
#include "req.h"
#include "session.h"

static void release_open(struct worker *w, uint64_t ino, bool passthrough, bool writer)
{
	int id = memfs_release(w->s->fs, ino, passthrough, writer);
	if (!id)
		return;
	int err = dev_backing_close(w->fd, id);
	if (err)
		msg("FUSE_DEV_IOC_BACKING_CLOSE %d: %s", id, strerror(-err));
	else
		__atomic_add_fetch(&w->s->backing_closed, 1, __ATOMIC_RELAXED);
}

/* Tells the kernel that an inode's attributes changed without its doing:
 * the source of a copy got a new atime, chattr a new ctime. */
static void notify_attr_changed(struct worker *w, uint64_t nodeid)
{
	int err = dev_notify_attrs(w->fd, nodeid);
	if (err && err != -ENOENT)
		debug("FUSE_NOTIFY_INVAL_INODE %llu: %s", (unsigned long long)nodeid,
		      strerror(-err));
}

/* A NUL-terminated name at arg + off, wholly inside the request. */
static const char *name_at(const struct req *r, size_t off)
{
	if (off >= r->arglen || !memchr(r->arg + off, 0, r->arglen - off))
		return NULL;
	return r->arg + off;
}

#define ARG(type) ((const type *)r->arg)

static void op_lookup(struct req *r)
{
	const char *name = name_at(r, 0);
	if (!name)
		return reply_err(r, -EINVAL);
	struct memfs_attr a;
	int err = memfs_lookup(r->w->s->fs, &r->cr, r->h->nodeid, name, &a);
	if (err == -ENOENT) { /* a negative entry the kernel may cache */
		struct fuse_entry_out e = {
			.entry_valid = sec(r->w->s->cfg.negative_timeout_ns),
			.entry_valid_nsec = nsec(r->w->s->cfg.negative_timeout_ns),
		};
		reply(r, 0, &e, sizeof(e));
		return;
	}
	reply_entry(r, err, &a);
}

static void op_forget(struct req *r)
{
	memfs_forget(r->w->s->fs, r->h->nodeid, ARG(struct fuse_forget_in)->nlookup);
}

static void op_batch_forget(struct req *r)
{
	uint32_t count = ARG(struct fuse_batch_forget_in)->count;
	size_t room = (r->arglen - sizeof(struct fuse_batch_forget_in)) / sizeof(struct fuse_forget_one);
	if (count > room) {
		msg("BATCH_FORGET: %u entries in room for %zu", count, room);
		count = (uint32_t)room;
	}
	const struct fuse_forget_one *one =
		(const void *)(r->arg + sizeof(struct fuse_batch_forget_in));
	for (uint32_t i = 0; i < count; i++)
		memfs_forget(r->w->s->fs, one[i].nodeid, one[i].nlookup);
}

static void op_getattr(struct req *r)
{
	struct memfs_attr a;
	reply_attr(r, memfs_getattr(r->w->s->fs, r->h->nodeid, &a), &a);
}

static void op_setattr(struct req *r)
{
	const struct fuse_setattr_in *in = ARG(struct fuse_setattr_in);
	static const struct { uint32_t fattr; unsigned set; } map[] = {
		{ FATTR_MODE, MEMFS_SET_MODE }, { FATTR_UID, MEMFS_SET_UID },
		{ FATTR_GID, MEMFS_SET_GID }, { FATTR_SIZE, MEMFS_SET_SIZE },
		{ FATTR_ATIME, MEMFS_SET_ATIME }, { FATTR_MTIME, MEMFS_SET_MTIME },
		{ FATTR_ATIME_NOW, MEMFS_SET_ATIME_NOW },
		{ FATTR_MTIME_NOW, MEMFS_SET_MTIME_NOW },
		{ FATTR_CTIME, MEMFS_SET_CTIME },
		{ FATTR_KILL_SUIDGID, MEMFS_KILL_SUIDGID },
	};
	struct memfs_setattr sa = {
		.mode = in->mode, .uid = in->uid, .gid = in->gid, .size = in->size,
		.atime = { (time_t)in->atime, in->atimensec },
		.mtime = { (time_t)in->mtime, in->mtimensec },
		.ctime = { (time_t)in->ctime, in->ctimensec },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (in->valid & map[i].fattr)
			sa.valid |= map[i].set;
	/* chown(f, -1, -1) arrives as nothing at all, yet drops set-id bits
	 * and stamps ctime: FUSE leaves both to the filesystem. */
	if (!(in->valid & ~(FATTR_FH | FATTR_LOCKOWNER)))
		sa.valid |= MEMFS_SET_SAME_OWNER;
	if ((sa.atime.tv_nsec >= 1000000000 && (sa.valid & MEMFS_SET_ATIME)) ||
	    (sa.mtime.tv_nsec >= 1000000000 && (sa.valid & MEMFS_SET_MTIME)))
		return reply_err(r, -EINVAL);
	/* ftruncate(2) stamps mtime and ctime even when the size stays, as
	 * the VFS asks of tmpfs; truncate(2) by path does not.  The kernel
	 * sends neither time here, but only ftruncate comes with a handle. */
	if ((in->valid & (FATTR_SIZE | FATTR_FH)) == (FATTR_SIZE | FATTR_FH))
		sa.valid |= MEMFS_SET_MTIME_NOW | MEMFS_SET_BY_FD;
	struct memfs_attr a;
	reply_attr(r, memfs_setattr(r->w->s->fs, &r->cr, r->h->nodeid, &sa, &a), &a);
}

/* With FUSE_DONT_MASK the caller's umask is ours to apply (or not, under
 * a default ACL); else the kernel applied it. */
static void take_umask(struct req *r, uint32_t umask)
{
	if (r->w->s->flags & FUSE_DONT_MASK)
		r->cr.umask = umask;
}

static void make_node(struct req *r, size_t fixed, uint32_t mode, uint32_t rdev)
{
	const char *name = name_at(r, fixed);
	if (!name)
		return reply_err(r, -EINVAL);
	struct memfs_attr a;
	reply_entry(r, memfs_mknod(r->w->s->fs, &r->cr, r->h->nodeid, name, mode, rdev, &a), &a);
}

static void op_mknod(struct req *r)
{
	const struct fuse_mknod_in *in = ARG(struct fuse_mknod_in);
	take_umask(r, in->umask);
	make_node(r, sizeof(*in), in->mode, in->rdev);
}

static void op_mkdir(struct req *r)
{
	const struct fuse_mkdir_in *in = ARG(struct fuse_mkdir_in);
	take_umask(r, in->umask);
	make_node(r, sizeof(*in), S_IFDIR | (in->mode & 07777), 0);
}

static void op_unlink(struct req *r)
{
	const char *name = name_at(r, 0);
	reply_err(r, name ? memfs_unlink(r->w->s->fs, &r->cr, r->h->nodeid, name) : -EINVAL);
}

static void op_rmdir(struct req *r)
{
	const char *name = name_at(r, 0);
	reply_err(r, name ? memfs_rmdir(r->w->s->fs, &r->cr, r->h->nodeid, name) : -EINVAL);
}

/* fh says how a file was opened, for RELEASE: passthrough, for writing. */
#define FH_PASSTHROUGH 1
#define FH_WRITER 2

static int open_backing(void *ctx, int data_fd)
{
	struct worker *w = ctx;
	int id = dev_backing_open(w->fd, data_fd);
	if (id > 0)
		__atomic_add_fetch(&w->s->backing_opened, 1, __ATOMIC_RELAXED);
	else
		debug("FUSE_DEV_IOC_BACKING_OPEN: %s: serving without passthrough",
		      strerror(-id));
	return id;
}

static void fill_open(int backing_id, uint32_t flags, struct fuse_open_out *out)
{
	if (backing_id) {
		out->fh = FH_PASSTHROUGH | ((flags & O_ACCMODE) != O_RDONLY ? FH_WRITER : 0);
		out->open_flags = FOPEN_PASSTHROUGH;
		out->backing_id = backing_id;
	} else {
		/* Every change to file data passes through the kernel's page
		 * cache, so what it caches stays right across opens. */
		out->open_flags = FOPEN_KEEP_CACHE;
	}
}

/* may_pass: the open may get passthrough (a store file and a backing id). */
static int open_inode(struct req *r, const struct memfs_cred *cr, uint64_t ino,
		      uint32_t flags, bool may_pass, int *backing_id)
{
	bool pt = may_pass && (r->w->s->flags & FUSE_PASSTHROUGH);
	return memfs_open(r->w->s->fs, cr, ino, (int)flags, pt ? open_backing : NULL,
			  r->w, backing_id);
}

static void op_open(struct req *r)
{
	const struct fuse_open_in *in = ARG(struct fuse_open_in);
	int backing_id;
	int err = open_inode(r, &r->cr, r->h->nodeid, in->flags, true, &backing_id);
	if (err)
		return reply_err(r, err);
	if (in->open_flags & FUSE_OPEN_KILL_SUIDGID) {
		struct memfs_setattr sa = { .valid = MEMFS_KILL_SUIDGID };
		struct memfs_attr before, a;
		if (!memfs_getattr(r->w->s->fs, r->h->nodeid, &before) &&
		    !memfs_setattr(r->w->s->fs, &r->cr, r->h->nodeid, &sa, &a) &&
		    a.mode != before.mode)
			/* the kernel takes only size and times anew after an
			 * O_TRUNC open: a set-id bit it still shows would make
			 * an exec set-id until the attributes run out */
			notify_attr_changed(r->w, r->h->nodeid);
	}
	bool writer = backing_id && (in->flags & O_ACCMODE) != O_RDONLY;
	/* what the kernel holds may be cached on: from now on mmap writes
	 * pass us by (the attributes of a writer's file are not cached) */
	if (writer)
		notify_attr_changed(r->w, r->h->nodeid);
	struct fuse_open_out out = { 0 };
	fill_open(backing_id, in->flags, &out);
	if (reply(r, 0, &out, sizeof(out)) < 0) /* no RELEASE will come */
		release_open(r->w, r->h->nodeid, backing_id != 0, writer);
}

/* CREATE and TMPFILE: open what was just made and answer with both. */
static void reply_created(struct req *r, const struct memfs_attr *a, uint32_t flags)
{
	/* The creator may open what it just made, whatever its mode says. */
	/* Passthrough for a new file costs a store file and a backing id now
	 * and their undoing at RELEASE if it stays empty (six syscalls), but
	 * without it every write of its creator is a WRITE request (untar:
	 * three per file, twice the daemon's CPU): only a creator that
	 * cannot write goes without, through the page cache. */
	bool writes = (flags & O_ACCMODE) != O_RDONLY;
	int backing_id;
	int err = open_inode(r, NULL, a->ino, flags & ~O_TRUNC, writes, &backing_id);
	if (err) {
		memfs_forget(r->w->s->fs, a->ino, 1);
		return reply_err(r, err);
	}
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out = { 0 };
	/* The entry's attributes may be cached as usual: to make them
	 * uncached (the creator may write through mmap at once) would cost
	 * every create a GETATTR, for default_permissions's check of the
	 * open that follows (scripts/bench: one per create).  Later replies
	 * while the writer has it open are not cached. */
	to_entry(r->w->s, a, &out.e);
	fill_open(backing_id, flags, &out.o);
	if (reply(r, 0, &out, sizeof(out)) < 0) {
		release_open(r->w, a->ino, backing_id != 0, backing_id && writes);
		memfs_forget(r->w->s->fs, a->ino, 1);
	}
}

static void op_create(struct req *r)
{
	const struct fuse_create_in *in = ARG(struct fuse_create_in);
	const char *name = name_at(r, sizeof(*in));
	if (!name)
		return reply_err(r, -EINVAL);
	struct memfs *fs = r->w->s->fs;
	struct memfs_attr a;
	take_umask(r, in->umask);
	int err = memfs_mknod(fs, &r->cr, r->h->nodeid, name, S_IFREG | (in->mode & 07777), 0, &a);
	if (err)
		return reply_err(r, err);
	reply_created(r, &a, in->flags);
}

static void op_read(struct req *r)
{
	const struct fuse_read_in *in = ARG(struct fuse_read_in);
	size_t size = in->size < r->w->s->out_size ? in->size : r->w->s->out_size;
	ssize_t n = memfs_read(r->w->s->fs, r->h->nodeid, r->w->out, size, in->offset);
	if (n < 0)
		return reply_err(r, (int)n);
	reply(r, 0, r->w->out, (size_t)n);
}

static void op_write(struct req *r)
{
	const struct fuse_write_in *in = ARG(struct fuse_write_in);
	if (in->size > r->arglen - sizeof(*in))
		return reply_err(r, -EINVAL);
	if (in->size > counter_get(&r->w->write_max))
		__atomic_store_n(&r->w->write_max, in->size, __ATOMIC_RELAXED);
	ssize_t n = memfs_write(r->w->s->fs, &r->cr, r->h->nodeid, r->arg + sizeof(*in),
				in->size, in->offset, in->write_flags & FUSE_WRITE_KILL_SUIDGID);
	if (n < 0)
		return reply_err(r, (int)n);
	struct fuse_write_out out = { .size = (uint32_t)n };
	reply(r, 0, &out, sizeof(out));
}

static void op_statfs(struct req *r)
{
	struct memfs_statfs st;
	memfs_statfs(r->w->s->fs, &st);
	struct fuse_statfs_out out = { .st = {
		.blocks = st.blocks, .bfree = st.bfree, .bavail = st.bfree,
		.files = st.files, .ffree = st.ffree,
		.bsize = st.bsize, .frsize = st.bsize, .namelen = st.namelen,
	} };
	reply(r, 0, &out, sizeof(out));
}

static void op_release(struct req *r)
{
	const struct fuse_release_in *in = ARG(struct fuse_release_in);
	release_open(r->w, r->h->nodeid, in->fh & FH_PASSTHROUGH, in->fh & FH_WRITER);
	reply_err(r, 0);
}

static void op_ok(struct req *r)
{
	reply_err(r, 0);
}

/* Nothing to write back and no POSIX locks to drop (the kernel keeps them):
 * ENOSYS makes the kernel stop sending FLUSH, one round trip less per close. */
static void op_flush(struct req *r)
{
	reply_err(r, -ENOSYS);
}

static void op_fsync(struct req *r)
{
	reply_err(r, memfs_fsync(r->w->s->fs, r->h->nodeid));
}

static void op_opendir(struct req *r)
{
	int err = memfs_opendir(r->w->s->fs, &r->cr, r->h->nodeid);
	if (err)
		return reply_err(r, err);
	struct fuse_open_out out = { .fh = memfs_dir_stream(r->w->s->fs) };
	reply(r, 0, &out, sizeof(out));
}

static void op_releasedir(struct req *r)
{
	memfs_dir_stream_end(r->w->s->fs, ARG(struct fuse_release_in)->fh);
	reply_err(r, 0);
}

static void readdir_common(struct req *r, bool plus)
{
	const struct fuse_read_in *in = ARG(struct fuse_read_in);
	struct dirbuf db = { .buf = r->w->out, .s = r->w->s,
			     .size = in->size < r->w->s->out_size ? in->size : r->w->s->out_size };
	int err = memfs_readdir(r->w->s->fs, r->h->nodeid, in->fh, in->offset,
				plus ? fill_direntplus : fill_dirent, &db, plus);
	if (err)
		return reply_err(r, err);
	if (reply(r, 0, db.buf, db.len) < 0 && plus)
		forget_entries(r, &db);
}

static void op_readdir(struct req *r) { readdir_common(r, false); }
static void op_readdirplus(struct req *r) { readdir_common(r, true); }

static void op_access(struct req *r)
{
	reply_err(r, memfs_access(r->w->s->fs, &r->cr, r->h->nodeid,
				  (int)ARG(struct fuse_access_in)->mask));
}

/* Requests are served to the end without blocking, except those a fault
 * delays: those are woken and answer EINTR.  An INTERRUPT that finds no
 * request may have overtaken it on another worker: EAGAIN asks the kernel
 * to send it again (if the request is already answered, it ignores that). */
static void op_interrupt(struct req *r)
{
	uint64_t target = ARG(struct fuse_interrupt_in)->unique;
	struct session *s = r->w->s;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		if (__atomic_load_n(&w->busy_unique, __ATOMIC_ACQUIRE) != target)
			continue;
		__atomic_store_n(&w->interrupted, 1, __ATOMIC_RELEASE);
		pthread_kill(w->thread, SIGUSR2);
		counter_inc(&r->w->interrupts);
		debug("interrupt for unique %llu: worker %u", (unsigned long long)target, i);
		return;
	}
	debug("interrupt for unique %llu: not in progress", (unsigned long long)target);
	reply_err(r, -EAGAIN);
}

/* The string after the NUL-terminated one at arg + off. */
static const char *next_name(const struct req *r, const char *name)
{
	return name ? name_at(r, (size_t)(name - r->arg) + strlen(name) + 1) : NULL;
}

static void op_symlink(struct req *r)
{
	const char *name = name_at(r, 0), *target = next_name(r, name);
	if (!target)
		return reply_err(r, -EINVAL);
	struct memfs_attr a;
	reply_entry(r, memfs_symlink(r->w->s->fs, &r->cr, r->h->nodeid, name, target, &a), &a);
}

static void op_readlink(struct req *r)
{
	ssize_t n = memfs_readlink(r->w->s->fs, r->h->nodeid, r->w->out, r->w->s->out_size);
	if (n < 0)
		return reply_err(r, (int)n);
	reply(r, 0, r->w->out, (size_t)n);
}

static void op_link(struct req *r)
{
	const struct fuse_link_in *in = ARG(struct fuse_link_in);
	const char *name = name_at(r, sizeof(*in));
	if (!name)
		return reply_err(r, -EINVAL);
	struct memfs_attr a;
	reply_entry(r, memfs_link(r->w->s->fs, &r->cr, in->oldnodeid, r->h->nodeid, name, &a), &a);
}

static void rename_common(struct req *r, uint64_t newdir, unsigned flags, size_t fixed)
{
	const char *oldname = name_at(r, fixed), *newname = next_name(r, oldname);
	if (!newname)
		return reply_err(r, -EINVAL);
	reply_err(r, memfs_rename(r->w->s->fs, &r->cr, r->h->nodeid, oldname, newdir,
				  newname, flags));
}

static void op_rename(struct req *r)
{
	rename_common(r, ARG(struct fuse_rename_in)->newdir, 0, sizeof(struct fuse_rename_in));
}

static void op_rename2(struct req *r)
{
	const struct fuse_rename2_in *in = ARG(struct fuse_rename2_in);
	rename_common(r, in->newdir, in->flags, sizeof(*in));
}

static void op_setxattr(struct req *r)
{
	size_t fixed = r->w->s->flags & FUSE_SETXATTR_EXT ? sizeof(struct fuse_setxattr_in)
							  : FUSE_COMPAT_SETXATTR_IN_SIZE;
	const struct fuse_setxattr_in *in = ARG(struct fuse_setxattr_in);
	const char *name = name_at(r, fixed);
	if (!name || r->arglen < fixed)
		return reply_err(r, -EINVAL);
	size_t value_off = (size_t)(name - r->arg) + strlen(name) + 1;
	if (in->size > r->arglen - value_off)
		return reply_err(r, -EINVAL);
	int flags = (int)in->flags;
	if (flags & MEMFS_XATTR_KILL_SGID) /* not a flag of setxattr(2) */
		return reply_err(r, -EINVAL);
	if (fixed == sizeof(*in) && (in->setxattr_flags & FUSE_SETXATTR_ACL_KILL_SGID))
		flags |= MEMFS_XATTR_KILL_SGID;
	reply_err(r, memfs_setxattr(r->w->s->fs, &r->cr, r->h->nodeid, name,
				    r->arg + value_off, in->size, flags));
}

/* GETXATTR and LISTXATTR: a size of 0 asks how much room is needed. */
static void reply_xattr(struct req *r, ssize_t n, uint32_t size)
{
	if (n < 0)
		return reply_err(r, (int)n);
	if (size == 0) {
		struct fuse_getxattr_out out = { .size = (uint32_t)n };
		reply(r, 0, &out, sizeof(out));
		return;
	}
	reply(r, 0, r->w->out, (size_t)n);
}

static uint32_t xattr_room(const struct req *r, uint32_t size)
{
	return size < r->w->s->out_size ? size : (uint32_t)r->w->s->out_size;
}

static void op_getxattr(struct req *r)
{
	const struct fuse_getxattr_in *in = ARG(struct fuse_getxattr_in);
	const char *name = name_at(r, sizeof(*in));
	if (!name)
		return reply_err(r, -EINVAL);
	uint32_t size = xattr_room(r, in->size);
	reply_xattr(r, memfs_getxattr(r->w->s->fs, &r->cr, r->h->nodeid, name, r->w->out, size), size);
}

static void op_listxattr(struct req *r)
{
	uint32_t size = xattr_room(r, ARG(struct fuse_getxattr_in)->size);
	reply_xattr(r, memfs_listxattr(r->w->s->fs, &r->cr, r->h->nodeid, r->w->out, size), size);
}

static void op_removexattr(struct req *r)
{
	const char *name = name_at(r, 0);
	reply_err(r, name ? memfs_removexattr(r->w->s->fs, &r->cr, r->h->nodeid, name) : -EINVAL);
}

static void op_fallocate(struct req *r)
{
	const struct fuse_fallocate_in *in = ARG(struct fuse_fallocate_in);
	reply_err(r, memfs_fallocate(r->w->s->fs, r->h->nodeid, (int)in->mode, in->offset,
				     in->length));
}

static void op_lseek(struct req *r)
{
	const struct fuse_lseek_in *in = ARG(struct fuse_lseek_in);
	int64_t off = memfs_lseek(r->w->s->fs, r->h->nodeid, in->offset, (int)in->whence);
	if (off < 0)
		return reply_err(r, (int)off);
	struct fuse_lseek_out out = { .offset = (uint64_t)off };
	reply(r, 0, &out, sizeof(out));
}


static void copy_range(struct req *r, bool wide)
{
	const struct fuse_copy_file_range_in *in = ARG(struct fuse_copy_file_range_in);
	if (in->flags)
		return reply_err(r, -EINVAL);
	/* The old reply holds 32 bits. */
	uint64_t len = wide ? in->len : in->len < (UINT32_MAX & ~4095u) ? in->len
									: (UINT32_MAX & ~4095u);
	ssize_t n = memfs_copy_range(r->w->s->fs, r->h->nodeid, in->off_in, in->nodeid_out,
				     in->off_out, (size_t)len);
	if (n < 0)
		return reply_err(r, (int)n);
	if (n > 0)
		notify_attr_changed(r->w, r->h->nodeid);
	if (wide) {
		struct fuse_copy_file_range_out out = { .bytes_copied = (uint64_t)n };
		reply(r, 0, &out, sizeof(out));
		return;
	}
	struct fuse_write_out out = { .size = (uint32_t)n };
	reply(r, 0, &out, sizeof(out));
}

static void op_copy_file_range(struct req *r) { copy_range(r, false); }
static void op_copy_file_range_64(struct req *r) { copy_range(r, true); }

static void op_tmpfile(struct req *r)
{
	const struct fuse_create_in *in = ARG(struct fuse_create_in);
	struct memfs *fs = r->w->s->fs;
	struct memfs_attr a;
	take_umask(r, in->umask);
	int err = memfs_tmpfile(fs, &r->cr, r->h->nodeid, in->mode, &a);
	if (err)
		return reply_err(r, err);
	reply_created(r, &a, in->flags);
}

/* chattr and lsattr: FS_IOC_GETFLAGS/SETFLAGS carry an int (whatever the
 * ioctl number says), FS_IOC_FSGETXATTR/FSSETXATTR a struct fsxattr, whose
 * xflags name the same flags with other bits. */
#define IOC_GETFLAGS 0x80086601u
#define IOC_SETFLAGS 0x40086602u
#define IOC_FSGETXATTR 0x801c581fu
#define IOC_FSSETXATTR 0x401c5820u

struct fsxattr_abi {
	uint32_t xflags, extsize, nextents, projid, cowextsize;
	unsigned char pad[8];
};

static const struct { uint32_t fl, xfl; } xflag_map[] = {
	{ MEMFS_FL_IMMUTABLE, 0x8 }, { MEMFS_FL_APPEND, 0x10 },
	{ MEMFS_FL_NOATIME, 0x40 }, { MEMFS_FL_NODUMP, 0x80 },
};

static uint32_t to_xflags(uint32_t flags)
{
	uint32_t x = 0;
	for (size_t i = 0; i < sizeof(xflag_map) / sizeof(xflag_map[0]); i++)
		if (flags & xflag_map[i].fl)
			x |= xflag_map[i].xfl;
	return x;
}

static int from_xflags(uint32_t x, uint32_t *flags)
{
	*flags = 0;
	for (size_t i = 0; i < sizeof(xflag_map) / sizeof(xflag_map[0]); i++)
		if (x & xflag_map[i].xfl) {
			*flags |= xflag_map[i].fl;
			x &= ~xflag_map[i].xfl;
		}
	return x ? -EOPNOTSUPP : 0;
}

static void op_ioctl(struct req *r)
{
	const struct fuse_ioctl_in *in = ARG(struct fuse_ioctl_in);
	struct memfs *fs = r->w->s->fs;
	const char *data = r->arg + sizeof(*in);
	size_t have = r->arglen - sizeof(*in) < in->in_size ? r->arglen - sizeof(*in) : in->in_size;
	struct fuse_ioctl_out out = { 0 };
	struct fsxattr_abi fsx = { 0 };
	uint32_t flags;
	int err;
	switch (in->cmd) {
	case IOC_GETFLAGS:
	case IOC_FSGETXATTR: {
		bool x = in->cmd == IOC_FSGETXATTR;
		size_t len = x ? sizeof(fsx) : sizeof(flags);
		if (in->out_size < len)
			return reply_err(r, -EINVAL);
		if ((err = memfs_get_flags(fs, r->h->nodeid, &flags)) < 0)
			return reply_err(r, err);
		fsx.xflags = to_xflags(flags);
		struct iovec iov[3] = { { 0 }, { &out, sizeof(out) },
					{ x ? (void *)&fsx : (void *)&flags, len } };
		send_iov(r, 0, iov, 3);
		return;
	}
	case IOC_SETFLAGS:
		if (have < sizeof(flags))
			return reply_err(r, -EINVAL);
		memcpy(&flags, data, sizeof(flags));
		break;
	case IOC_FSSETXATTR:
		if (have < sizeof(fsx))
			return reply_err(r, -EINVAL);
		memcpy(&fsx, data, sizeof(fsx));
		/* tmpfs keeps no project ids or extent size hints */
		if (fsx.projid || fsx.extsize || fsx.cowextsize)
			return reply_err(r, -EOPNOTSUPP);
		if ((err = from_xflags(fsx.xflags, &flags)) < 0)
			return reply_err(r, err);
		break;
	default:
		return reply_err(r, -ENOTTY);
	}
	err = memfs_set_flags(fs, r->h->nodeid, flags);
	if (err)
		return reply_err(r, err);
	/* the kernel keeps its attributes over an ioctl: the new ctime must
	 * show at once, as tmpfs's does (the attributes only: no inode lock
	 * taken, the caller holds it) */
	notify_attr_changed(r->w, r->h->nodeid);
	reply(r, 0, &out, sizeof(out));
}

static struct fuse_sx_time sx_time(struct timespec t)
{
	return (struct fuse_sx_time){ .tv_sec = t.tv_sec, .tv_nsec = (uint32_t)t.tv_nsec };
}

static void op_statx(struct req *r)
{
	struct memfs_attr a;
	int err = memfs_getattr(r->w->s->fs, r->h->nodeid, &a);
	if (err)
		return reply_err(r, err);
	const struct session *s = r->w->s;
	struct fuse_statx_out out = {
		.attr_valid = sec(attr_timeout(s, &a)),
		.attr_valid_nsec = nsec(attr_timeout(s, &a)),
		.stat = {
			.mask = 0xfff, /* STATX_BASIC_STATS | STATX_BTIME */
			.blksize = 4096, .nlink = a.nlink, .uid = a.uid, .gid = a.gid,
			.mode = (uint16_t)a.mode, .ino = a.ino, .size = a.size,
			.blocks = a.blocks,
			.atime = sx_time(a.atime), .btime = sx_time(a.btime),
			.ctime = sx_time(a.ctime), .mtime = sx_time(a.mtime),
			/* rdev travels in the kernel's new_encode_dev() form */
			.rdev_major = (a.rdev & 0xfff00) >> 8,
			.rdev_minor = (a.rdev & 0xff) | ((a.rdev >> 12) & 0xfff00),
		},
	};
	reply(r, 0, &out, sizeof(out));
}

/* The answer to a RETRIEVE the control socket sent: no reply to it. */
static void op_notify_reply(struct req *r)
{
	control_notify_reply(r->w->s->ctl, r->h->unique, r->arg, r->arglen);
}

struct op {
	void (*fn)(struct req *r);
	uint32_t min_arg; /* the fixed part of the arguments */
	bool no_reply;
};

/* min_arg: the fixed arguments, plus at least a NUL for each name. */
#define OP(handler, min) { .fn = handler, .min_arg = min }
#define OP_NO_REPLY(handler, min) { .fn = handler, .min_arg = min, .no_reply = true }

static const struct op ops[FUSE_OPCODE_MAX] = {
	[FUSE_LOOKUP] = OP(op_lookup, 1),
	[FUSE_FORGET] = OP_NO_REPLY(op_forget, sizeof(struct fuse_forget_in)),
	[FUSE_GETATTR] = OP(op_getattr, 0),
	[FUSE_SETATTR] = OP(op_setattr, sizeof(struct fuse_setattr_in)),
	[FUSE_READLINK] = OP(op_readlink, 0),
	[FUSE_SYMLINK] = OP(op_symlink, 2 + 2),
	[FUSE_MKNOD] = OP(op_mknod, sizeof(struct fuse_mknod_in) + 1),
	[FUSE_MKDIR] = OP(op_mkdir, sizeof(struct fuse_mkdir_in) + 1),
	[FUSE_UNLINK] = OP(op_unlink, 1),
	[FUSE_RMDIR] = OP(op_rmdir, 1),
	[FUSE_RENAME] = OP(op_rename, sizeof(struct fuse_rename_in) + 2 + 2),
	[FUSE_LINK] = OP(op_link, sizeof(struct fuse_link_in) + 1),
	[FUSE_OPEN] = OP(op_open, sizeof(struct fuse_open_in)),
	[FUSE_READ] = OP(op_read, sizeof(struct fuse_read_in)),
	[FUSE_WRITE] = OP(op_write, sizeof(struct fuse_write_in)),
	[FUSE_STATFS] = OP(op_statfs, 0),
	[FUSE_RELEASE] = OP(op_release, sizeof(struct fuse_release_in)),
	[FUSE_FSYNC] = OP(op_fsync, sizeof(struct fuse_fsync_in)),
	[FUSE_SETXATTR] = OP(op_setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE + 1),
	[FUSE_GETXATTR] = OP(op_getxattr, sizeof(struct fuse_getxattr_in) + 1),
	[FUSE_LISTXATTR] = OP(op_listxattr, sizeof(struct fuse_getxattr_in)),
	[FUSE_REMOVEXATTR] = OP(op_removexattr, 1),
	[FUSE_FLUSH] = OP(op_flush, sizeof(struct fuse_flush_in)),
	[FUSE_OPENDIR] = OP(op_opendir, sizeof(struct fuse_open_in)),
	[FUSE_READDIR] = OP(op_readdir, sizeof(struct fuse_read_in)),
	[FUSE_RELEASEDIR] = OP(op_releasedir, sizeof(struct fuse_release_in)),
	[FUSE_FSYNCDIR] = OP(op_ok, sizeof(struct fuse_fsync_in)),
	[FUSE_ACCESS] = OP(op_access, sizeof(struct fuse_access_in)),
	[FUSE_CREATE] = OP(op_create, sizeof(struct fuse_create_in) + 1),
	[FUSE_INTERRUPT] = OP_NO_REPLY(op_interrupt, sizeof(struct fuse_interrupt_in)),
	[FUSE_DESTROY] = OP(op_ok, 0),
	[FUSE_IOCTL] = OP(op_ioctl, sizeof(struct fuse_ioctl_in)),
	[FUSE_NOTIFY_REPLY] = OP_NO_REPLY(op_notify_reply, sizeof(struct fuse_notify_retrieve_in)),
	[FUSE_BATCH_FORGET] = OP_NO_REPLY(op_batch_forget, sizeof(struct fuse_batch_forget_in)),
	[FUSE_FALLOCATE] = OP(op_fallocate, sizeof(struct fuse_fallocate_in)),
	[FUSE_READDIRPLUS] = OP(op_readdirplus, sizeof(struct fuse_read_in)),
	[FUSE_RENAME2] = OP(op_rename2, sizeof(struct fuse_rename2_in) + 2 + 2),
	[FUSE_LSEEK] = OP(op_lseek, sizeof(struct fuse_lseek_in)),
	[FUSE_COPY_FILE_RANGE] = OP(op_copy_file_range, sizeof(struct fuse_copy_file_range_in)),
	[FUSE_SYNCFS] = OP(op_ok, sizeof(struct fuse_syncfs_in)),
	[FUSE_TMPFILE] = OP(op_tmpfile, sizeof(struct fuse_create_in)),
	[FUSE_STATX] = OP(op_statx, sizeof(struct fuse_statx_in)),
	[FUSE_COPY_FILE_RANGE_64] = OP(op_copy_file_range_64,
					sizeof(struct fuse_copy_file_range_in)),
};

/* The name a request is about, for faults that pick requests by name. */
static const char *request_name(const struct req *r)
{
	switch (r->h->opcode) {
	case FUSE_LOOKUP: case FUSE_UNLINK: case FUSE_RMDIR: case FUSE_SYMLINK:
	case FUSE_REMOVEXATTR:
		return name_at(r, 0);
	case FUSE_MKDIR: return name_at(r, sizeof(struct fuse_mkdir_in));
	case FUSE_MKNOD: return name_at(r, sizeof(struct fuse_mknod_in));
	case FUSE_CREATE: return name_at(r, sizeof(struct fuse_create_in));
	case FUSE_LINK: return name_at(r, sizeof(struct fuse_link_in));
	case FUSE_RENAME: return name_at(r, sizeof(struct fuse_rename_in));
	case FUSE_RENAME2: return name_at(r, sizeof(struct fuse_rename2_in));
	case FUSE_GETXATTR: return name_at(r, sizeof(struct fuse_getxattr_in));
	default: return NULL;
	}
}

void dispatch(struct worker *w, size_t len)
{
	const struct fuse_in_header *h = (const void *)w->in;
	if (len < sizeof(*h) || h->len != len) {
		msg("request of %zu bytes with header length %u: dropped", len,
		    len >= sizeof(*h) ? h->len : 0);
		return;
	}
	struct req r = {
		.w = w, .h = h, .arg = w->in + sizeof(*h),
		.arglen = len - sizeof(*h),
		.cr = { .uid = h->uid, .gid = h->gid, .pid = h->pid },
	};
	size_t extlen = (size_t)h->total_extlen * 8;
	const struct op *op = h->opcode < FUSE_OPCODE_MAX ? &ops[h->opcode] : NULL;
	counter_inc(&w->requests);
	if (h->opcode < FUSE_OPCODE_MAX)
		counter_inc(&w->ops[h->opcode]);
	debug("%s unique %llu %s node %llu len %u", w->tag, (unsigned long long)h->unique,
	      opcode_name(h->opcode) ? opcode_name(h->opcode) : "UNKNOWN",
	      (unsigned long long)h->nodeid, h->len);
	if (!op || !op->fn)
		return reply_err(&r, -ENOSYS);
	if (extlen > r.arglen || r.arglen - extlen < op->min_arg) {
		msg("%s request too short (%zu bytes of arguments)", opcode_name(h->opcode), r.arglen);
		if (!op->no_reply)
			reply_err(&r, -EINVAL);
		return;
	}
	r.arglen -= extlen;
	__atomic_store_n(&w->interrupted, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&w->busy_unique, h->unique, __ATOMIC_RELEASE);
	int taken = fault_any(&w->s->faults) ? fault_apply(w, h, request_name(&r), &r.fault) : 0;
	if (taken < 0)
		reply_err(&r, taken);
	else if (!taken)
		op->fn(&r);
	if (r.fault)
		fault_done(w);
	__atomic_store_n(&w->busy_unique, 0, __ATOMIC_RELEASE);
}
