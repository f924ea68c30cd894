/* Extended attributes: a list per inode, name and value in one block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "memfs_impl.h"

static bool is_acl(const char *name)
{
	return !strcmp(name, acl_access_name) || !strcmp(name, acl_default_name);
}

/* What tmpfs charges an xattr against nr_inodes' space (simple_xattr_space());
 * it keeps ACLs apart, uncharged. */
static uint64_t xattr_space(const struct xattr *x)
{
	return is_acl(x->data) ? 0 : 40 + x->size + x->namelen;
}

/* Name and value in one block. */
struct xattr *xattr_new(const char *name, const void *value, size_t size)
{
	size_t len = strlen(name);
	struct xattr *x = malloc(sizeof(*x) + len + 1 + size);
	if (!x)
		return NULL;
	x->namelen = (uint32_t)len;
	x->size = (uint32_t)size;
	memcpy(x->data, name, len + 1);
	memcpy(x->data + len + 1, value, size);
	return x;
}

/* tmpfs lists names in descending order: keep them so. */
static void insert_sorted(struct inode *i, struct xattr *x)
{
	struct xattr **at = &i->xattrs;
	while (*at && strcmp((*at)->data, x->data) > 0)
		at = &(*at)->next;
	x->next = *at;
	*at = x;
}

static struct xattr **find_xattr(struct inode *i, const char *name, size_t len)
{
	struct xattr **pp = &i->xattrs;
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->namelen == len && !memcmp((*pp)->data, name, len))
			break;
	return pp;
}

/* user., trusted. and security. are kept; of system.*, the two ACLs when
 * the kernel checks them (FUSE_POSIX_ACL). */
static int check_xattr_name(const struct memfs *fs, const char *name, size_t *len)
{
	static const char *const prefixes[] = { "user.", "trusted.", "security." };
	*len = strlen(name);
	if (*len == 0 || *len > MEMFS_XATTR_NAME_MAX)
		return *len ? -ERANGE : -EINVAL;
	if (is_acl(name))
		return fs->cfg.posix_acl ? 0 : -EOPNOTSUPP;
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		size_t plen = strlen(prefixes[p]);
		if (!strncmp(name, prefixes[p], plen))
			return *len == plen ? -EINVAL : 0; /* a prefix alone names nothing */
	}
	return -EOPNOTSUPP;
}

/* An ACL with no entries removes it; an access ACL sets the mode and is
 * not kept when the mode says it all (posix_acl_update_mode). */
static int set_acl(struct memfs *fs, const struct memfs_cred *cr, struct inode *i,
		   const char *name, size_t len, const void *value, size_t size, int flags)
{
	int valid = acl_check(value, size);
	if (valid < 0)
		return valid;
	bool access = !strcmp(name, acl_access_name);
	if (!access && !S_ISDIR(i->mode))
		return valid ? 0 : -EACCES; /* as the VFS: default ACLs are for directories */
	struct xattr *x = valid ? NULL : xattr_new(name, value, size);
	if (!valid && !x)
		return -ENOMEM;
	lock(&i->lock);
	struct xattr **pp = find_xattr(i, name, len);
	int err = may_xattr(fs, cr, i, name, W_OK);
	if (!err && *pp && (flags & MEMFS_XATTR_CREATE))
		err = -EEXIST;
	if (!err && !*pp && (flags & MEMFS_XATTR_REPLACE))
		err = -ENODATA;
	if (err) {
		unlock(&i->lock);
		free(x);
		return err;
	}
	if (x && access && !acl_set_access(i, x->data + len + 1, size,
					    flags & MEMFS_XATTR_KILL_SGID)) {
		free(x);
		x = NULL;
	}
	struct xattr *old = *pp;
	if (old)
		*pp = old->next;
	free(old);
	if (x)
		insert_sorted(i, x);
	i->ctime = now();
	unlock(&i->lock);
	return 0;
}

int memfs_setxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		   const char *name, const void *value, size_t size, int flags)
{
	size_t len;
	int err = check_xattr_name(fs, name, &len);
	if (err)
		return err;
	if (size > MEMFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (flags & ~(MEMFS_XATTR_CREATE | MEMFS_XATTR_REPLACE | MEMFS_XATTR_KILL_SGID))
		return -EINVAL;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	if (is_acl(name))
		return set_acl(fs, cr, i, name, len, value, size, flags);
	struct xattr *x = xattr_new(name, value, size);
	if (!x)
		return -ENOMEM;
	lock(&i->lock);
	struct xattr **pp = find_xattr(i, name, len);
	err = may_xattr(fs, cr, i, name, W_OK);
	if (!err && *pp && (flags & MEMFS_XATTR_CREATE))
		err = -EEXIST;
	if (!err && !*pp && (flags & MEMFS_XATTR_REPLACE))
		err = -ENODATA;
	/* as tmpfs: the new value is charged before the old is let go */
	if (!err)
		err = reserve_ispace(fs, xattr_space(x));
	if (err) {
		unlock(&i->lock);
		free(x);
		return err;
	}
	if (*pp) { /* replace in place */
		x->next = (*pp)->next;
		release_ispace(fs, xattr_space(*pp));
		free(*pp);
		*pp = x;
	} else {
		insert_sorted(i, x);
	}
	i->ctime = now();
	unlock(&i->lock);
	return 0;
}

ssize_t memfs_getxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		       const char *name, void *buf, size_t size)
{
	size_t len;
	int err = check_xattr_name(fs, name, &len);
	if (err)
		return err;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	err = may_xattr(fs, cr, i, name, R_OK);
	if (err) {
		unlock(&i->lock);
		return err;
	}
	struct xattr *x = *find_xattr(i, name, len);
	ssize_t n = !x ? -ENODATA : size && size < x->size ? -ERANGE : (ssize_t)x->size;
	if (x && size && n >= 0)
		memcpy(buf, x->data + x->namelen + 1, x->size);
	unlock(&i->lock);
	return n;
}

/* trusted.* is listed only to CAP_SYS_ADMIN, as tmpfs does. */
static bool listed(const struct xattr *x, bool trusted)
{
	return trusted || strncmp(x->data, "trusted.", 8);
}

/* tmpfs lists the ACLs first (access, then default), then the rest. */
static size_t list_names(const struct inode *i, bool trusted, char *buf)
{
	static const char *const acls[] = { acl_access_name, acl_default_name };
	size_t total = 0;
	for (int pass = 0; pass < 3; pass++)
		for (struct xattr *x = i->xattrs; x; x = x->next) {
			bool acl = is_acl(x->data);
			if (pass < 2 ? strcmp(x->data, acls[pass]) : acl || !listed(x, trusted))
				continue;
			if (buf)
				memcpy(buf + total, x->data, x->namelen + 1);
			total += x->namelen + 1;
		}
	return total;
}

ssize_t memfs_listxattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
			char *buf, size_t size)
{
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	bool trusted = false;
	for (struct xattr *x = i->xattrs; x; x = x->next)
		if (!strncmp(x->data, "trusted.", 8)) { /* ask /proc only then */
			trusted = cred_capable(cr, CRED_CAP_SYS_ADMIN);
			break;
		}
	size_t total = list_names(i, trusted, NULL);
	ssize_t n = size && size < total ? -ERANGE : (ssize_t)total;
	if (size && n >= 0)
		list_names(i, trusted, buf);
	unlock(&i->lock);
	return n;
}

int memfs_removexattr(struct memfs *fs, const struct memfs_cred *cr, uint64_t ino,
		      const char *name)
{
	size_t len;
	int err = check_xattr_name(fs, name, &len);
	if (err)
		return err;
	struct inode *i = get(fs, ino);
	if (!i)
		return -ESTALE;
	lock(&i->lock);
	struct xattr **pp = find_xattr(i, name, len);
	err = may_xattr(fs, cr, i, name, W_OK);
	if (!err && !*pp)
		err = -ENODATA;
	if (!err) {
		struct xattr *x = *pp;
		*pp = x->next;
		release_ispace(fs, xattr_space(x));
		free(x);
		i->ctime = now();
	}
	unlock(&i->lock);
	return err;
}

void free_xattrs(struct memfs *fs, struct inode *i)
{
	for (struct xattr *x = i->xattrs, *next; x; x = next) {
		next = x->next;
		release_ispace(fs, xattr_space(x));
		free(x);
	}
	i->xattrs = NULL;
}
