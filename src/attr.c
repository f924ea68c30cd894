/* Attributes: what getattr shows, what setattr changes, the time stamps
 * (relatime), set-id bits dropped on change, and chattr flags. */
#include <errno.h>
#include <sys/stat.h>

#include "cred.h"
#include "memfs_impl.h"

void fill_attr(const struct inode *i, struct memfs_attr *a)
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

/* relatime: touch atime only when it is older than mtime/ctime or a day. */
void touch_atime(struct inode *i)
{
	if (i->flags & MEMFS_FL_NOATIME)
		return;
	struct stamp t = now();
	if (stamp_le(i->atime, i->mtime) || stamp_le(i->atime, i->ctime) ||
	    t.sec - i->atime.sec >= 24 * 3600)
		i->atime = t;
}

/* Attributes as a caller should see them. */
void attr_of(struct memfs *fs, struct inode *i, struct memfs_attr *a)
{
	take_in_passthrough(fs, i);
	fill_attr(i, a);
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

/* What the VFS drops on write, truncate and chown: set-user-id always;
 * set-group-id when group-executable, or when the caller is neither in
 * the file's group nor root. */
void kill_suidgid(struct inode *i, const struct memfs_cred *cr)
{
	i->mode &= ~S_ISUID;
	if ((i->mode & S_IXGRP) || (cr->uid != 0 && !cred_in_group(cr, i->gid)))
		i->mode &= ~S_ISGID;
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
