/* Extended attributes: a list per inode, name and value in one block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memfs_impl.h"

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
