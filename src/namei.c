/* Names: lookup, making and removing entries (create, symlink, link,
 * unlink, rmdir), rename, and reading directories. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dir.h"
#include "memfs_impl.h"

static int check_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0)
		return -ENOENT;
	if (len > MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	return (int)len;
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
	/* "." of a node of any type: only open_by_handle_at's path sends it
	 * (fuse_get_dentry), maybe for an inode the kernel has forgotten; for
	 * a file no search permission applies (the caller passed
	 * CAP_DAC_READ_SEARCH), a directory goes the ordinary way */
	if (!strcmp(name, ".")) {
		struct inode *self = hold_by_number(fs, dirino);
		if (!self)
			return -ESTALE;
		if (!S_ISDIR(self->mode)) {
			attr_of(fs, self, out);
			unlock(&self->lock);
			return 0;
		}
		self->nlookup--; /* a directory: counted again below */
		unlock(&self->lock);
	}
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
	if (!err)
		err = acl_inherit(d, i, cr->umask);
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
	i->flags |= d->flags & FL_INHERITED;
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
	touch_atime(fs, i);
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
	else if (!(err = may_link(fs, cr, i)))
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
		unorphan(fs, i);
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
	/* in the VFS's order (may_delete(), then the filesystem's ENOTEMPTY):
	 * rmdir of a full directory in an immutable one is EPERM */
	err = may_delete(fs, cr, d, i);
	if (!err && want_dir && !S_ISDIR(i->mode))
		err = -ENOTDIR;
	else if (!err && !want_dir && S_ISDIR(i->mode))
		err = -EISDIR;
	else if (!err && want_dir && i->u.dir->count)
		err = -ENOTEMPTY;
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

/* The whiteout a RENAME_WHITEOUT leaves, not yet named: a character
 * device 0:0 with no permission bits, owned as a new file in dir (locked)
 * is, and like one given dir's default ACL, as tmpfs's shmem_whiteout. */
static int new_whiteout(struct memfs *fs, const struct memfs_cred *cr,
			struct inode *dir, struct inode **out)
{
	struct inode *i;
	int err = new_inode(fs, S_IFCHR, &i);
	if (!err && (err = acl_inherit(dir, i, 0))) {
		lock(&i->lock);
		put_locked(fs, i);
	}
	if (err)
		return err;
	i->uid = cr->uid;
	i->gid = dir->mode & S_ISGID ? dir->gid : cr->gid;
	i->flags |= dir->flags & FL_INHERITED;
	i->u.rdev = 0;
	*out = i;
	return 0;
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
	if (flags & ~(MEMFS_RENAME_NOREPLACE | MEMFS_RENAME_EXCHANGE | MEMFS_RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & MEMFS_RENAME_EXCHANGE) &&
	    (flags & (MEMFS_RENAME_NOREPLACE | MEMFS_RENAME_WHITEOUT)))
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
	/* the steps that can fail come first */
	struct inode *whiteout = NULL;
	if (!err && (flags & MEMFS_RENAME_WHITEOUT))
		err = new_whiteout(fs, cr, odir, &whiteout);
	if (!err && !dst)
		err = dir_add(ndir->u.dir, newname, (size_t)nlen, src);
	if (err) {
		if (whiteout) {
			lock(&whiteout->lock);
			put_locked(fs, whiteout);
		}
		goto out_children;
	}
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
		if (whiteout) { /* takes the old name's place */
			sde->inode = whiteout;
			whiteout->nlink = 1;
			whiteout->ctime = whiteout->mtime = whiteout->atime = t;
			publish(fs, whiteout);
		} else {
			dir_remove(odir->u.dir, sde);
			odir->size -= BOGO_DIRENT_SIZE;
		}
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

uint64_t memfs_dir_stream(struct memfs *fs)
{
	lock(&fs->streams_lock);
	uint32_t s = 0;
	while (s < fs->nstreams && fs->stream_end[s])
		s++;
	if (s == fs->nstreams) {
		uint32_t n = fs->nstreams ? fs->nstreams * 2 : 16;
		uint64_t *p = n > fs->nstreams ? realloc(fs->stream_end, n * sizeof(*p)) : NULL;
		if (!p) {
			unlock(&fs->streams_lock);
			return 0;
		}
		memset(p + fs->nstreams, 0, (n - fs->nstreams) * sizeof(*p));
		fs->stream_end = p;
		fs->nstreams = n;
	}
	fs->stream_end[s] = STREAM_UNSET;
	unlock(&fs->streams_lock);
	return (uint64_t)s + 1;
}

void memfs_dir_stream_end(struct memfs *fs, uint64_t stream)
{
	lock(&fs->streams_lock);
	if (stream && stream <= fs->nstreams)
		fs->stream_end[stream - 1] = 0;
	unlock(&fs->streams_lock);
}

/* Where a read of stream stops: the directory's next cookie as of the
 * stream's first read, or of a read from the start (the handle comes from
 * the kernel: one that names no stream has no end). */
static uint64_t stream_end(struct memfs *fs, uint64_t stream, uint64_t off, uint64_t next)
{
	uint64_t end = UINT64_MAX;
	lock(&fs->streams_lock);
	if (stream && stream <= fs->nstreams && fs->stream_end[stream - 1]) {
		uint64_t *e = &fs->stream_end[stream - 1];
		if (*e == STREAM_UNSET || off == 0)
			*e = next;
		end = *e;
	}
	unlock(&fs->streams_lock);
	return end;
}

int memfs_readdir(struct memfs *fs, uint64_t ino, uint64_t stream, uint64_t off,
		  memfs_fill_fn *fill, void *ctx, bool plus)
{
	int err;
	struct inode *d = get_dir(fs, ino, &err);
	if (!d)
		return err;
	lock(&d->lock);
	uint64_t end = stream_end(fs, stream, off, d->u.dir->next_cookie);
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
		if (de->cookie >= end)
			break;
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
	touch_atime(fs, d);
	unlock(&d->lock);
	return 0;
}
