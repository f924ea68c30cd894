/* Where a permission is refused: mode bits and groups (when the kernel
 * does not check them, default_permissions off), sticky directories,
 * setattr's ownership rules, and the chattr flags that refuse changes. */
#include <errno.h>
#include <unistd.h>

#include "cred.h"
#include "memfs_impl.h"

/* Permission checks for when the kernel does not make them
 * (default_permissions off). */
int may(const struct memfs *fs, const struct memfs_cred *cr,
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
int may_delete(const struct memfs *fs, const struct memfs_cred *cr,
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

int check_setattr(struct memfs *fs, const struct memfs_cred *cr,
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
