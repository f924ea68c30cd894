/* POSIX ACLs, kept as the xattrs system.posix_acl_access and _default in
 * the kernel's format (a version, then tag/perm/id entries, little-endian).
 * With FUSE_POSIX_ACL the kernel checks permissions against them and
 * validates what users set; what tmpfs does besides is ours: the mode that
 * follows an access ACL, the ACL that follows chmod, and what a new file
 * inherits from its directory's default ACL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memfs_impl.h"

#define ACL_VERSION 2
enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };

struct acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};

const char acl_access_name[] = "system.posix_acl_access";
const char acl_default_name[] = "system.posix_acl_default";

static size_t acl_count(size_t size)
{
	return (size - 4) / sizeof(struct acl_entry);
}

static struct acl_entry *entries(void *value)
{
	return (struct acl_entry *)((char *)value + 4);
}

/* As the kernel's posix_acl_from_xattr and posix_acl_valid: 0 for a valid
 * ACL, 1 for none (no entries: the ACL is removed), else -errno. */
int acl_check(const void *value, size_t size)
{
	uint32_t version;
	if (size < 4)
		return -EINVAL;
	memcpy(&version, value, 4);
	if (version != ACL_VERSION)
		return -EOPNOTSUPP;
	if ((size - 4) % sizeof(struct acl_entry))
		return -EINVAL;
	size_t n = acl_count(size);
	if (!n)
		return 1;
	int state = USER_OBJ, needs_mask = 0;
	for (size_t k = 0; k < n; k++) {
		struct acl_entry e;
		memcpy(&e, (const char *)value + 4 + k * sizeof(e), sizeof(e));
		if (e.perm & ~7)
			return -EINVAL;
		switch (e.tag) {
		case USER_OBJ:
			if (state != USER_OBJ)
				return -EINVAL;
			state = USER;
			break;
		case USER:
		case GROUP:
			if (state != (e.tag == USER ? USER : GROUP) || e.id == UINT32_MAX)
				return -EINVAL;
			needs_mask = 1;
			break;
		case GROUP_OBJ:
			if (state != USER)
				return -EINVAL;
			state = GROUP;
			break;
		case MASK:
			if (state != GROUP)
				return -EINVAL;
			state = OTHER;
			break;
		case OTHER:
			if (state != OTHER && (state != GROUP || needs_mask))
				return -EINVAL;
			state = 0;
			break;
		default:
			return -EINVAL;
		}
	}
	return state == 0 ? 0 : -EINVAL;
}

/* The permission bits an ACL stands for (the mask as the group's), and
 * whether the bits say it all. */
static bool acl_mode(void *value, size_t size, uint32_t *mode)
{
	uint32_t m = 0;
	bool equiv = true;
	struct acl_entry *e = entries(value);
	for (size_t k = 0; k < acl_count(size); k++) {
		uint32_t p = e[k].perm & 7;
		switch (e[k].tag) {
		case USER_OBJ: m |= p << 6; break;
		case GROUP_OBJ: m |= p << 3; break;
		case OTHER: m |= p; break;
		case MASK: m = (m & ~070u) | p << 3; equiv = false; break;
		default: equiv = false; break;
		}
	}
	*mode = m;
	return equiv;
}

/* An access ACL was set (valid, with entries): the mode follows it, and
 * an ACL the mode says all of is not kept.  Returns whether to keep it. */
bool acl_set_access(struct inode *i, void *value, size_t size, bool kill_sgid)
{
	uint32_t m;
	bool equiv = acl_mode(value, size, &m);
	i->mode = (i->mode & ~0777u) | m;
	if (kill_sgid)
		i->mode &= ~(uint32_t)S_ISGID;
	return !equiv;
}

static struct xattr *find(struct inode *i, const char *name)
{
	for (struct xattr *x = i->xattrs; x; x = x->next)
		if (!strcmp(x->data, name))
			return x;
	return NULL;
}

static void *value_of(struct xattr *x)
{
	return x->data + x->namelen + 1;
}

/* chmod: the ACL's owner, group class (the mask, if any) and other
 * entries take the new bits, as posix_acl_chmod does for tmpfs. */
void acl_chmod(struct inode *i)
{
	struct xattr *x = find(i, acl_access_name);
	if (!x)
		return;
	struct acl_entry *e = entries(value_of(x)), *group = NULL, *mask = NULL;
	for (size_t k = 0; k < acl_count(x->size); k++) {
		switch (e[k].tag) {
		case USER_OBJ: e[k].perm = (i->mode >> 6) & 7; break;
		case GROUP_OBJ: group = &e[k]; break;
		case MASK: mask = &e[k]; break;
		case OTHER: e[k].perm = i->mode & 7; break;
		}
	}
	if (mask ? mask : group)
		(mask ? mask : group)->perm = (i->mode >> 3) & 7;
}

/* A new inode i in directory d (locked): with a default ACL in d, i gets
 * the ACL (its permissions cut by the mode asked for, the mode by the ACL)
 * and a directory the default ACL too; the umask is not applied.  Without
 * one, the umask is.  Symlinks have neither. */
int acl_inherit(struct inode *d, struct inode *i, uint32_t umask)
{
	if (S_ISLNK(i->mode))
		return 0;
	struct xattr *def = find(d, acl_default_name);
	if (!def) {
		i->mode &= ~(umask & 0777);
		return 0;
	}
	struct xattr *acc = xattr_new(acl_access_name, value_of(def), def->size);
	struct xattr *dflt = S_ISDIR(i->mode) ? xattr_new(acl_default_name, value_of(def), def->size)
					      : NULL;
	if (!acc || (S_ISDIR(i->mode) && !dflt)) {
		free(acc);
		free(dflt);
		return -ENOMEM;
	}
	/* posix_acl_create_masq: each class keeps what both allow */
	uint32_t mode = i->mode & 0777;
	bool equiv = true;
	struct acl_entry *e = entries(value_of(acc)), *group = NULL, *mask = NULL;
	for (size_t k = 0; k < acl_count(acc->size); k++) {
		switch (e[k].tag) {
		case USER_OBJ:
			e[k].perm &= (mode >> 6) & 7;
			mode &= (e[k].perm << 6) | ~0700u;
			break;
		case OTHER:
			e[k].perm &= mode & 7;
			mode &= e[k].perm | ~07u;
			break;
		case GROUP_OBJ: group = &e[k]; break;
		case MASK: mask = &e[k]; equiv = false; break;
		default: equiv = false; break;
		}
	}
	struct acl_entry *cls = mask ? mask : group;
	if (cls) {
		cls->perm &= (mode >> 3) & 7;
		mode &= (cls->perm << 3) | ~070u;
	}
	i->mode = (i->mode & ~0777u) | mode;
	/* i has no other xattrs yet: descending by name, as memfs_setxattr
	 * keeps them, is default then access */
	if (equiv) {
		free(acc);
	} else {
		acc->next = i->xattrs;
		i->xattrs = acc;
	}
	if (dflt) {
		dflt->next = i->xattrs;
		i->xattrs = dflt;
	}
	return 0;
}
