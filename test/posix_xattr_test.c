// SPDX-License-Identifier: MIT
/*
 * posix_xattr_test - ramfuse behaves like tmpfs with extended attributes:
 * user.* and trusted.* names and values, their limits, listxattr, and
 * POSIX ACLs.
 *
 * Each test runs one scenario on a tmpfs and on a ramfuse side by side and
 * compares what a program sees (oracle.h), under default_permissions and
 * nodefault_permissions.
 */
#include "harness.h"
#include "fuse_util.h"
#include "oracle.h"

#include <sys/xattr.h>

/* ------------------------------------------------------------------ */
/* Extended attributes                                                 */

#define GETX(rel, name, size) getx(o, rel, name, size)

static void getx(struct obs *o, const char *rel, const char *name, size_t size)
{
	char what[400];
	ssize_t n;

	snprintf(what, sizeof(what), "lgetxattr %s %.40s (buffer %zu)", rel, name, size);
	n = lgetxattr(P(o, "%s", rel), name, o->scratch, size);
	if (n < 0 || size == 0)
		rec(o, what, n);
	else
		note(o, "%s = %zd hash %016llx", what, n,
		     (unsigned long long)fnv(0xcbf29ce484222325ULL, o->scratch, (size_t)n));
}

static void LISTX(struct obs *o, const char *rel, size_t size, bool sorted)
{
	char what[300], buf[4096], line[4200];
	char *names[64];
	size_t k = 0, len;
	ssize_t n;

	snprintf(what, sizeof(what), "llistxattr %s (buffer %zu)", rel, size);
	n = llistxattr(P(o, "%s", rel), buf, size < sizeof(buf) ? size : sizeof(buf));
	if (n < 0 || size == 0) {
		rec(o, what, n);
		return;
	}
	for (char *p = buf; p < buf + n && k < 64; p += strlen(p) + 1)
		names[k++] = p;
	if (sorted)
		qsort(names, k, sizeof(names[0]), cmp_str);
	len = (size_t)snprintf(line, sizeof(line), "%s = %zd%s:", what, n,
			       sorted ? " sorted" : "");
	for (size_t i = 0; i < k && len < sizeof(line) - 300; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", names[i]);
	note(o, "%s", line);
}

XATTR_SCENARIO(xattrs)
{
	char name[300];

	PUT(o, "f", "data", 4);
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(0, symlink("f", P(o, "l")));

	WANT(-ENODATA, getxattr(P(o, "f"), "user.a", o->scratch, 100));
	WANT(0, setxattr(P(o, "f"), "user.a", "v1", 2, 0));
	GETX("f", "user.a", 0);		/* the size it needs */
	WANT(-ERANGE, getxattr(P(o, "f"), "user.a", o->scratch, 1));
	GETX("f", "user.a", 100);
	WANT(-EEXIST, setxattr(P(o, "f"), "user.a", "v2", 2, XATTR_CREATE));
	WANT(-ENODATA, setxattr(P(o, "f"), "user.b", "v2", 2, XATTR_REPLACE));
	WANT(0, setxattr(P(o, "f"), "user.a", "value2", 6, XATTR_REPLACE));
	GETX("f", "user.a", 100);
	WANT(-EEXIST, setxattr(P(o, "f"), "user.a", "v", 1, XATTR_CREATE | XATTR_REPLACE));
	WANT(-ENODATA, setxattr(P(o, "f"), "user.n", "v", 1, XATTR_CREATE | XATTR_REPLACE));
	WANT(-EINVAL, setxattr(P(o, "f"), "user.a", "v", 1, 4));
	WANT(0, setxattr(P(o, "f"), "user.b", "", 0, XATTR_CREATE));
	GETX("f", "user.b", 0);
	GETX("f", "user.b", 10);
	WANT(0, setxattr(P(o, "f"), "trusted.t", "tt", 2, 0));
	WANT(0, setxattr(P(o, "f"), "security.s", "ss", 2, 0));
	GETX("f", "trusted.t", 10);
	GETX("f", "security.s", 10);
	WANT(-EOPNOTSUPP, setxattr(P(o, "f"), "foo.bar", "v", 1, 0));
	WANT(-EOPNOTSUPP, getxattr(P(o, "f"), "foo.bar", o->scratch, 10));
	WANT(-EOPNOTSUPP, removexattr(P(o, "f"), "foo.bar"));
	WANT(-ERANGE, setxattr(P(o, "f"), "", "v", 1, 0));
	WANT(-EINVAL, getxattr(P(o, "f"), "user.", o->scratch, 10));
	WANT(-EINVAL, setxattr(P(o, "f"), "user.", "v", 1, 0));

	/* names up to 255 bytes, values up to 64 KiB */
	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	name[255] = 0;
	WANT(0, setxattr(P(o, "f"), name, "long name", 9, 0));
	GETX("f", name, 100);
	name[255] = 'n';
	name[256] = 0;
	WANT(-ERANGE, setxattr(P(o, "f"), name, "v", 1, 0));
	WANT(-ERANGE, getxattr(P(o, "f"), name, o->scratch, 10));
	pattern_fill((unsigned char *)o->scratch, 65536, 0, 3);
	WANT(0, setxattr(P(o, "f"), "user.big", o->scratch, 65536, 0));
	GETX("f", "user.big", 0);
	GETX("f", "user.big", 65536);
	WANT(-ERANGE, getxattr(P(o, "f"), "user.big", o->scratch, 65535));
	WANT(-E2BIG, setxattr(P(o, "f"), "user.huge", o->scratch, 65537, 0));

	LISTX(o, "f", 0, true);
	WANT(-ERANGE, listxattr(P(o, "f"), o->scratch, 5));
	LISTX(o, "f", 4096, true);
	WANT(0, removexattr(P(o, "f"), "user.a"));
	WANT(-ENODATA, removexattr(P(o, "f"), "user.a"));
	WANT(-ENODATA, getxattr(P(o, "f"), "user.a", o->scratch, 10));
	LISTX(o, "f", 4096, true);

	/* directories take them too; symlinks only outside user. */
	WANT(0, setxattr(P(o, "d"), "user.d", "dir", 3, 0));
	GETX("d", "user.d", 10);
	WANT(-EPERM, lsetxattr(P(o, "l"), "user.x", "v", 1, 0));
	WANT(-ENODATA, lgetxattr(P(o, "l"), "user.x", o->scratch, 10));
	WANT(0, lsetxattr(P(o, "l"), "trusted.x", "v", 1, 0));
	LISTX(o, "l", 4096, true);
	GETX("l", "trusted.x", 10);
	WANT(2, getxattr(P(o, "l"), "security.s", o->scratch, 10));	/* follows */
	WANT(0, mkfifo(P(o, "p"), 0644));
	WANT(-EPERM, setxattr(P(o, "p"), "user.x", "v", 1, 0));
	WANT(-ENOENT, getxattr(P(o, "missing"), "user.x", o->scratch, 10));

	/* other users: no trusted.*, and writing needs write permission */
	WANT(0, chmod(P(o, "f"), 0644));
	AS_USER(DAVE) {
		LISTX(o, "f", 4096, true);
		WANT(-ENODATA, getxattr(P(o, "f"), "trusted.t", o->scratch, 10));
		GETX("f", "user.b", 10);
		WANT(-EACCES, setxattr(P(o, "f"), "user.c", "v", 1, 0));
		WANT(-EACCES, removexattr(P(o, "f"), "user.b"));
		WANT(-EPERM, setxattr(P(o, "f"), "trusted.c", "v", 1, 0));
	}
	WANT(0, chmod(P(o, "f"), 0646));
	AS_USER(DAVE) {
		WANT(0, setxattr(P(o, "f"), "user.c", "v", 1, 0));
		WANT(0, removexattr(P(o, "f"), "user.b"));
	}
	LISTX(o, "f", 4096, true);
}

/* listxattr gives the names in an order: tmpfs's, or at least a fixed one */
XATTR_SCENARIO(listxattr_order)
{
	static const char *const names[] = { "user.zeta", "user.alpha", "trusted.m",
					     "user.beta", "security.a" };

	PUT(o, "f", "", 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		WANT(0, setxattr(P(o, "f"), names[i], "v", 1, 0));
	WANT(0, setxattr(P(o, "f"), "user.alpha", "vv", 2, XATTR_REPLACE));
	WANT(0, removexattr(P(o, "f"), "user.beta"));
	WANT(0, setxattr(P(o, "f"), "user.beta", "v", 1, 0));
	LISTX(o, "f", 4096, false);
}

/* POSIX ACLs are xattrs in system.*: tmpfs keeps them, and ramfuse with
 * FUSE_POSIX_ACL, which it negotiates only under default_permissions. */
static void sc_posix_acl(struct obs *o);
TEST_F(posix, posix_acl)
{
	const unsigned long long posix_acl = 1ULL << 20; /* FUSE_POSIX_ACL */
	bool found = false;
	unsigned long long flags = stats_get_u64(&self->rf, "flags", &found);

	ASSERT_TRUE(found) TH_LOG("no flags line in the stats file");
	if (!(flags & posix_acl))
		SKIP(return, "nodefault_permissions: no FUSE_POSIX_ACL (it turns on the kernel's checks), no ACLs");
	both(_metadata, self->tmp, self->rf.mnt, sc_posix_acl);
}

static void sc_posix_acl(struct obs *o)
{
	/* version 2; user::rwx group::r-x other::--- (same as mode 0750) */
	static const unsigned char equiv[] = {
		2, 0, 0, 0,
		0x01, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
		0x04, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};

	PUT(o, "f", "", 0);
	WANT(-ENODATA, getxattr(P(o, "f"), "system.posix_acl_access", o->scratch, 100));
	WANT(0, setxattr(P(o, "f"), "system.posix_acl_access", equiv, sizeof(equiv), 0));
	ST(o, "f");
}

TEST_HARNESS_MAIN
