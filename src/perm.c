/* Where a permission is refused: mode bits, groups and capabilities (when
 * the kernel does not check them, default_permissions off), sticky
 * directories, setattr's ownership rules, xattr namespaces, hard links,
 * and the chattr flags that refuse changes.  The rules are the VFS's
 * (fs/namei.c, fs/attr.c, fs/xattr.c); capabilities are the caller's. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "memfs_impl.h"

/* generic_permission(): mode bits, then what capabilities override. */
static int permission(const struct memfs_cred *cr, const struct inode *i, int mask)
{
	uint32_t bits = i->mode;
	mask &= 7;
	if (cr->uid == i->uid)
		bits >>= 6;
	else if (cred_in_group(cr, i->gid))
		bits >>= 3;
	if ((bits & (uint32_t)mask) == (uint32_t)mask)
		return 0;
	if (S_ISDIR(i->mode)) {
		if (!(mask & W_OK) && cred_capable(cr, CRED_CAP_DAC_READ_SEARCH))
			return 0;
		return cred_capable(cr, CRED_CAP_DAC_OVERRIDE) ? 0 : -EACCES;
	}
	if ((!(mask & X_OK) || (i->mode & 0111)) && cred_capable(cr, CRED_CAP_DAC_OVERRIDE))
		return 0;
	if (mask == R_OK && cred_capable(cr, CRED_CAP_DAC_READ_SEARCH))
		return 0;
	return -EACCES;
}

bool owner_or_capable(const struct memfs_cred *cr, const struct inode *i)
{
	return cr->uid == i->uid || cred_capable(cr, CRED_CAP_FOWNER);
}

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
	return permission(cr, i, mask);
}

/* A sticky directory lets only the owners of the entry or the directory
 * (or CAP_FOWNER) remove it. */
int may_delete(const struct memfs *fs, const struct memfs_cred *cr,
	       const struct inode *dir, const struct inode *victim)
{
	if ((dir->flags & MEMFS_FL_APPEND) || (victim->flags & FL_UNCHANGEABLE))
		return -EPERM;
	int err = may(fs, cr, dir, W_OK | X_OK);
	if (err || !fs->cfg.check_perms)
		return err;
	if ((dir->mode & S_ISVTX) && cr->uid != victim->uid && cr->uid != dir->uid &&
	    !cred_capable(cr, CRED_CAP_FOWNER))
		return -EPERM;
	return 0;
}

/* The set-id bits chown and the kill-priv of a write drop (fs/attr.c). */
uint32_t suidgid_to_kill(const struct inode *i, const struct memfs_cred *cr)
{
	uint32_t kill = i->mode & S_ISUID;
	if ((i->mode & S_ISGID) && ((i->mode & S_IXGRP) || (!cred_in_group(cr, i->gid) &&
							    !cred_capable(cr, CRED_CAP_FSETID))))
		kill |= S_ISGID;
	return kill;
}

/* An empty SETATTR is chown(f, -1, -1) or the kernel's kill-priv before a
 * write, fallocate or copy (file_remove_privs()): the wire cannot tell the
 * two apart.  chown's mode change needs the owner or CAP_FOWNER; the
 * kill-priv comes from a writer, who has write permission.  Anyone else
 * changes nothing of the mode: EPERM, as chown says on tmpfs. */
static int check_same_owner(const struct memfs_cred *cr, struct inode *i)
{
	if (S_ISDIR(i->mode) || !suidgid_to_kill(i, cr) || owner_or_capable(cr, i))
		return 0;
	return permission(cr, i, W_OK) ? -EPERM : 0;
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
	/* the kernel checked nothing of this, whatever the permission mode */
	if (sa->valid & MEMFS_SET_SAME_OWNER)
		return check_same_owner(cr, i);
	if (!fs->cfg.check_perms)
		return 0;
	bool owner = owner_or_capable(cr, i);
	if ((sa->valid & MEMFS_SET_MODE || explicit_time) && !owner)
		return -EPERM;
	/* chown_ok(), chgrp_ok(): the owner keeps the uid and picks one of its
	 * groups; anything else takes CAP_CHOWN */
	if (sa->valid & MEMFS_SET_UID && (sa->uid != i->uid || cr->uid != i->uid) &&
	    !cred_capable(cr, CRED_CAP_CHOWN))
		return -EPERM;
	if (sa->valid & MEMFS_SET_GID &&
	    (cr->uid != i->uid || (sa->gid != i->gid && !cred_in_group(cr, sa->gid))) &&
	    !cred_capable(cr, CRED_CAP_CHOWN))
		return -EPERM;
	/* ftruncate needs the file open for writing, not write permission now */
	if (sa->valid & MEMFS_SET_BY_FD)
		return 0;
	/* "now" needs only write access */
	if (sa->valid & (MEMFS_SET_ATIME_NOW | MEMFS_SET_MTIME_NOW) && !owner)
		return may(fs, cr, i, W_OK);
	if (sa->valid & MEMFS_SET_SIZE)
		return may(fs, cr, i, W_OK);
	return 0;
}

/* xattr_permission(): what the VFS asks of each namespace.  trusted.* and
 * the user.* rules hold in both permission modes (the VFS checks them with
 * what it knows), the mode bits only when we check permissions. */
int may_xattr(const struct memfs *fs, const struct memfs_cred *cr,
	      const struct inode *i, const char *name, int mask)
{
	bool write = mask & W_OK;
	if (write && (i->flags & FL_UNCHANGEABLE))
		return -EPERM;
	if (!strncmp(name, "security.", 9))
		return 0;
	if (!strncmp(name, "trusted.", 8)) {
		if (!fs->cfg.check_perms || cred_capable(cr, CRED_CAP_SYS_ADMIN))
			return 0;
		return write ? -EPERM : -ENODATA;
	}
	if (!fs->cfg.check_perms)
		return 0;
	if (!S_ISREG(i->mode) && !S_ISDIR(i->mode))
		return write ? -EPERM : -ENODATA;
	if (S_ISDIR(i->mode) && (i->mode & S_ISVTX) && write && !owner_or_capable(cr, i))
		return -EPERM;
	return permission(cr, i, mask);
}

/* fs.protected_hardlinks (may_linkat()): a link to another's file needs
 * CAP_FOWNER, or a regular file without set-id bits one may read and
 * write.  The VFS checks this with the kernel's permission checks, which
 * see nothing when we make them. */
int may_link(const struct memfs *fs, const struct memfs_cred *cr, const struct inode *i)
{
	if (!fs->cfg.check_perms || owner_or_capable(cr, i))
		return 0;
	char c = '1';
	int fd = open("/proc/sys/fs/protected_hardlinks", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		close(fd);
	}
	if (c == '0')
		return 0;
	bool safe = S_ISREG(i->mode) && !(i->mode & S_ISUID) &&
		    (i->mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
		    !permission(cr, i, R_OK | W_OK);
	return safe ? 0 : -EPERM;
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

/* What the VFS drops on write, truncate and chown: set-user-id always;
 * set-group-id when group-executable, or when the caller is neither in
 * the file's group nor root. */
void kill_suidgid(struct inode *i, const struct memfs_cred *cr)
{
	i->mode &= ~suidgid_to_kill(i, cr);
}
