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
	a->changing = S_ISREG(i->mode) && i->u.data && i->u.data->backing_writers;
}

/* relatime: touch atime only when it is older than mtime/ctime or a day. */
/* Whether an access at t moves i's atime, by the mount's atime flags as
 * the VFS's atime_needs_update() judges them: the kernel leaves FUSE's
 * atime to us (its inodes are S_NOATIME), and says the flags only at mount. */
bool atime_due(struct memfs *fs, const struct inode *i, struct stamp t)
{
	unsigned mode = __atomic_load_n(&fs->atime, __ATOMIC_RELAXED);
	if ((i->flags & MEMFS_FL_NOATIME) || (mode & MEMFS_ATIME_NOATIME) ||
	    (S_ISDIR(i->mode) && (mode & MEMFS_ATIME_NODIRATIME)))
		return false;
	if (mode & MEMFS_ATIME_STRICT)
		return true;
	return stamp_le(i->atime, i->mtime) || stamp_le(i->atime, i->ctime) ||
	       t.sec - i->atime.sec >= 24 * 3600;
}

void touch_atime(struct memfs *fs, struct inode *i)
{
	struct stamp t = now();
	if (atime_due(fs, i, t))
		i->atime = t;
}

void memfs_set_atime(struct memfs *fs, unsigned flags)
{
	__atomic_store_n(&fs->atime, flags, __ATOMIC_RELAXED);
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
		if (fs->cfg.check_perms && !cred_in_group(cr, i->gid) &&
		    !cred_capable(cr, CRED_CAP_FSETID))
			mode &= ~S_ISGID;
		i->mode = (i->mode & S_IFMT) | mode;
		acl_chmod(i); /* the ACL follows, as tmpfs's posix_acl_chmod */
		changed = true;
	}
	if (sa->valid & MEMFS_KILL_SUIDGID) {
		kill_suidgid(i, cr);
		changed = true;
	}
	if (sa->valid & (MEMFS_SET_ATIME | MEMFS_SET_ATIME_NOW)) {
		i->atime = sa->valid & MEMFS_SET_ATIME_NOW ? t : stamp_of(sa->atime);
		changed = true;
		/* As for mtime below: a passthrough read in the same clock
		 * tick as the last must still show in the data file. */
		int fd = S_ISREG(i->mode) ? data_fd(fs, i, false) : -1;
		if (fd >= 0) {
			struct timespec ts[2] = { timespec_of(i->atime), { .tv_nsec = UTIME_OMIT } };
			if (futimens(fd, ts) == 0)
				i->u.data->atime = ts[0];
		}
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
