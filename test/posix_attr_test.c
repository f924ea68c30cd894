// SPDX-License-Identifier: MIT
/*
 * posix_attr_test - ramfuse behaves like tmpfs with attributes: statx
 * fields, chattr flags, and which of atime/mtime/ctime each call moves.
 *
 * Each test runs one scenario on a tmpfs and on a ramfuse side by side and
 * compares what a program sees (oracle.h), under default_permissions and
 * nodefault_permissions.
 */
#include "harness.h"
#include "fuse_util.h"
#include "oracle.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/xattr.h>

/* ------------------------------------------------------------------ */
/* statx                                                               */

/* btime reaches the caller only through FUSE_STATX (7.39) */
static void sc_statx_fields(struct obs *o);
TEST_F(posix, statx_fields)
{
	char proto[32];
	unsigned major = 0, minor = 0;

	ASSERT_EQ(0, stats_get_str(&self->rf, "proto", proto, sizeof(proto)));
	ASSERT_EQ(2, sscanf(proto, "%u.%u", &major, &minor));
	if (minor < 39)
		SKIP(return, "FUSE %u.%u has no STATX (7.39): btime cannot reach the caller",
		     major, minor);
	both(_metadata, self->tmp, self->rf.mnt, sc_statx_fields);
}

static void sc_statx_fields(struct obs *o)
{
	const unsigned int basic = STATX_BASIC_STATS | STATX_BTIME;
	struct statx_buf a, b;
	int fd;

	fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	WANT(0, xstatx(AT_FDCWD, P(o, "f"), 0, basic, &a));
	note(o, "mask %#x of %#x, blksize %u, nlink %u, mode %o, size %llu",
	     a.stx_mask & basic, basic, a.stx_blksize, a.stx_nlink, a.stx_mode,
	     (unsigned long long)a.stx_size);
	EXPECT("btime <= mtime", a.stx_btime.tv_sec < a.stx_mtime.tv_sec ||
	       (a.stx_btime.tv_sec == a.stx_mtime.tv_sec &&
		a.stx_btime.tv_nsec <= a.stx_mtime.tv_nsec));
	tick();
	WANT(3, write(fd, "abc", 3));
	WANT(0, fchmod(fd, 0600));
	WANT(0, xstatx(fd, "", AT_EMPTY_PATH, basic, &b));
	EXPECT("btime stays", a.stx_btime.tv_sec == b.stx_btime.tv_sec &&
	       a.stx_btime.tv_nsec == b.stx_btime.tv_nsec);
	EXPECT("mtime moves", a.stx_mtime.tv_sec != b.stx_mtime.tv_sec ||
	       a.stx_mtime.tv_nsec != b.stx_mtime.tv_nsec);
	/* FUSE has no field to report stx_attributes_mask in, so the kernel
	 * cannot say that immutable/append/nodump (0x70) are supported. */
	note(o, "attributes %#llx mask %#llx", (unsigned long long)b.stx_attributes,
	     (unsigned long long)b.stx_attributes_mask & ~0x70ULL);
	WANT(0, xstatx(AT_FDCWD, P(o, "f"), AT_STATX_FORCE_SYNC, STATX_BTIME, &b));
	note(o, "force sync: has btime %d", !!(b.stx_mask & STATX_BTIME));
	WANT(0, xstatx(AT_FDCWD, P(o, "f"), AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &b));
	note(o, "dont sync: size %llu mode %o", (unsigned long long)b.stx_size, b.stx_mode);
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(0, xstatx(AT_FDCWD, P(o, "d"), 0, basic, &b));
	note(o, "dir: mask %#x nlink %u size %llu blocks %llu", b.stx_mask & basic,
	     b.stx_nlink, (unsigned long long)b.stx_size, (unsigned long long)b.stx_blocks);
	WANT(-ENOENT, xstatx(AT_FDCWD, P(o, "nope"), 0, basic, &b));
	WANT(-EINVAL, xstatx(AT_FDCWD, P(o, "f"), 0, STATX__RESERVED, &b));
	close(fd);
}

/* chattr-style flags: tmpfs has FS_IOC_GETFLAGS/SETFLAGS */
SCENARIO(inode_flags)
{
	int fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int flags = -1;

	DO(ioctl(fd, FS_IOC_GETFLAGS, &flags));
	note(o, "flags %#x", flags);
	flags = FS_APPEND_FL;
	DO(ioctl(fd, FS_IOC_SETFLAGS, &flags));
	close(fd);
	fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
	DO(fd);
	close(fd);
}

#ifndef FS_IMMUTABLE_FL
#define FS_IMMUTABLE_FL 0x00000010
#endif
#ifndef FS_NODUMP_FL
#define FS_NODUMP_FL 0x00000040
#endif

/* rmdir and unlink in an immutable or append-only directory: EPERM comes
 * before the directory's own ENOTEMPTY, as the VFS checks (fstests
 * generic/079) */
SCENARIO(flagged_dir_entries)
{
	static const int fl[] = { FS_IMMUTABLE_FL, FS_APPEND_FL };

	for (int k = 0; k < 2; k++) {
		int flags = fl[k], fd;

		DO(mkdir(P(o, "d%d", k), 0755));
		DO(mkdir(P(o, "d%d/empty", k), 0755));
		DO(mkdir(P(o, "d%d/full", k), 0755));
		DO(mknod(P(o, "d%d/full/f", k), S_IFREG | 0644, 0));
		DO(mknod(P(o, "d%d/f", k), S_IFREG | 0644, 0));
		fd = open(P(o, "d%d", k), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DO(ioctl(fd, FS_IOC_SETFLAGS, &flags));
		DO(rmdir(P(o, "d%d/empty", k)));
		DO(rmdir(P(o, "d%d/full", k)));
		DO(unlink(P(o, "d%d/f", k)));
		DO(rmdir(P(o, "d%d/nope", k)));
		flags = 0;
		DO(ioctl(fd, FS_IOC_SETFLAGS, &flags));
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* Timestamps: which of atime/mtime/ctime move, exactly as on tmpfs      */

/* times in the past, so that "now" is always a change */
static void age(struct obs *o, const char *rel)
{
	const struct timespec old[2] = { { 1000000000, 111 }, { 1000000000, 222 } };

	utimensat(AT_FDCWD, P(o, "%s", rel), old, AT_SYMLINK_NOFOLLOW);
}

/* before: snapshot up to three paths ("" = none) */
static void before(struct obs *o, const char *a, const char *b, const char *c)
{
	const char *p[3] = { a, b, c };

	for (int i = 0; i < 3; i++)
		if (p[i] && *p[i])
			SNAP(o, i, p[i]);
		else
			o->snap[i].name[0] = 0;
	tick();
}

static void after(struct obs *o, const char *op)
{
	for (int i = 0; i < 3; i++)
		if (o->snap[i].name[0])
			TIMES(o, i, op);
}

SCENARIO(times_data)
{
	char buf[16];
	int fd;

	PUT(o, "f", "0123456789", 10);
	age(o, "f");
	fd = open(P(o, "f"), O_RDWR | O_CLOEXEC);

	before(o, "f", ".", NULL);
	WANT(3, pwrite(fd, "abc", 3, 2));
	after(o, "write");

	before(o, "f", NULL, NULL);
	WANT(0, pwrite(fd, "", 0, 2));
	after(o, "write of 0 bytes");

	before(o, "f", NULL, NULL);
	WANT(10, pread(fd, buf, 10, 0));
	after(o, "read");

	before(o, "f", NULL, NULL);
	WANT(10, pread(fd, buf, 10, 0));
	after(o, "read again (relatime)");

	before(o, "f", NULL, NULL);
	WANT(0, pread(fd, buf, 10, 100));
	after(o, "read at EOF");

	before(o, "f", NULL, NULL);
	WANT(0, ftruncate(fd, 5));
	after(o, "ftruncate shorter");

	before(o, "f", NULL, NULL);
	WANT(0, ftruncate(fd, 5));
	after(o, "ftruncate same size");

	before(o, "f", NULL, NULL);
	WANT(0, truncate(P(o, "f"), 5));
	after(o, "truncate same size");

	before(o, "f", NULL, NULL);
	WANT(0, truncate(P(o, "f"), 50));
	after(o, "truncate longer");

	before(o, "f", NULL, NULL);
	WANT(0, fallocate(fd, 0, 0, 8192));
	after(o, "fallocate");

	before(o, "f", NULL, NULL);
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
	after(o, "fallocate KEEP_SIZE");

	before(o, "f", NULL, NULL);
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 4096));
	after(o, "punch hole");

	before(o, "f", NULL, NULL);
	WANT(0, fsync(fd));
	after(o, "fsync");
	close(fd);

	before(o, "f", NULL, NULL);
	fd = open(P(o, "f"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	after(o, "open O_TRUNC");
	close(fd);

	before(o, "f", NULL, NULL);
	fd = open(P(o, "f"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	after(o, "open O_TRUNC of an empty file");
	close(fd);

	before(o, "f", ".", NULL);
	fd = open(P(o, "f"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	after(o, "open O_CREAT of an existing file");
	close(fd);

	PUT(o, "src", "source data", 11);
	before(o, "f", "src", NULL);
	{
		int in = open(P(o, "src"), O_RDONLY | O_CLOEXEC);

		fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
		WANT(11, copy_file_range(in, NULL, fd, NULL, 11, 0));
		close(in);
		close(fd);
	}
	after(o, "copy_file_range");

	fd = open(P(o, "f"), O_RDWR | O_CLOEXEC);
	age(o, "f");
	before(o, "f", NULL, NULL);
	{
		char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (m != MAP_FAILED) {
			m[0] = 'M';
			msync(m, 4096, MS_SYNC);
			munmap(m, 4096);
		}
	}
	close(fd);
	after(o, "write through mmap, msync, close");
	CONTENT(o, "f");
}

XATTR_SCENARIO(times_metadata)
{
	PUT(o, "f", "x", 1);
	age(o, "f");

	before(o, "f", ".", NULL);
	WANT(0, chmod(P(o, "f"), 0600));
	after(o, "chmod");

	before(o, "f", NULL, NULL);
	WANT(0, chmod(P(o, "f"), 0600));
	after(o, "chmod to the same mode");

	before(o, "f", NULL, NULL);
	WANT(0, chown(P(o, "f"), 1001, 1001));
	after(o, "chown");

	/* an ioctl: the kernel keeps its attributes unless told (fstests
	 * generic/277) */
	before(o, "f", NULL, NULL);
	{
		int fd = open(P(o, "f"), O_RDONLY | O_CLOEXEC), flags = FS_NODUMP_FL;

		WANT(0, ioctl(fd, FS_IOC_SETFLAGS, &flags));
		close(fd);
	}
	after(o, "chattr +d");

	before(o, "f", NULL, NULL);
	WANT(0, chown(P(o, "f"), -1, -1));
	after(o, "chown -1 -1");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
	after(o, "utimensat NULL");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 0, UTIME_OMIT }, { 0, UTIME_OMIT } }, 0));
	after(o, "utimensat OMIT OMIT");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 0, UTIME_NOW }, { 0, UTIME_OMIT } }, 0));
	after(o, "utimensat NOW OMIT");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 0, UTIME_OMIT }, { 0, UTIME_NOW } }, 0));
	after(o, "utimensat OMIT NOW");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 5, 0 }, { 0, UTIME_OMIT } }, 0));
	after(o, "utimensat 5 OMIT");

	WANT(-EINVAL, utimensat(AT_FDCWD, P(o, "f"),
				(struct timespec[2]){ { 5, 1000000000 }, { 0, UTIME_OMIT } }, 0));
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 123, 456789012 }, { 1234567890, 987654321 } }, 0));
	{
		struct stat st;

		WANT(0, stat(P(o, "f"), &st));
		note(o, "exact times: %lld.%09ld %lld.%09ld", (long long)st.st_atim.tv_sec,
		     st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
	/* times before the epoch and far after it */
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { -1, 5 }, { 4102444800LL, 0 } }, 0));
	{
		struct stat st;

		WANT(0, stat(P(o, "f"), &st));
		note(o, "odd times: %lld.%09ld %lld.%09ld", (long long)st.st_atim.tv_sec,
		     st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}

	before(o, "f", NULL, NULL);
	WANT(0, setxattr(P(o, "f"), "user.x", "1", 1, 0));
	after(o, "setxattr");

	before(o, "f", NULL, NULL);
	WANT(1, getxattr(P(o, "f"), "user.x", o->scratch, 10));
	after(o, "getxattr");

	before(o, "f", NULL, NULL);
	WANT(0, removexattr(P(o, "f"), "user.x"));
	after(o, "removexattr");

	before(o, "f", NULL, NULL);
	WANT(-ENODATA, removexattr(P(o, "f"), "user.x"));
	after(o, "removexattr of nothing");

	before(o, "f", ".", NULL);
	WANT(0, access(P(o, "f"), R_OK));
	after(o, "access");
}

SCENARIO(times_namespace)
{
	struct stat st;
	DIR *d;

	WANT(0, mkdir(P(o, "a"), 0755));
	WANT(0, mkdir(P(o, "b"), 0755));
	PUT(o, "a/f", "x", 1);
	age(o, "a");
	age(o, "b");
	age(o, "a/f");

	before(o, "a", "a/f", NULL);
	WANT(0, link(P(o, "a/f"), P(o, "a/g")));
	after(o, "link");

	before(o, "a", "a/f", NULL);
	WANT(0, unlink(P(o, "a/g")));
	after(o, "unlink of the other name");

	before(o, "a", "a/f", NULL);
	WANT(-EEXIST, link(P(o, "a/f"), P(o, "a/f")));
	after(o, "failed link");

	before(o, "a", "b", "a/f");
	WANT(0, rename(P(o, "a/f"), P(o, "b/f")));
	after(o, "rename across dirs");

	before(o, "b", "b/f", NULL);
	WANT(0, rename(P(o, "b/f"), P(o, "b/f2")));
	after(o, "rename in one dir");

	PUT(o, "b/victim", "v", 1);
	WANT(0, link(P(o, "b/victim"), P(o, "b/victim2")));
	age(o, "b/victim2");
	before(o, "b", "b/f2", "b/victim2");
	WANT(0, rename(P(o, "b/f2"), P(o, "b/victim")));
	after(o, "rename over a file (watching its other name)");

	WANT(0, mkdir(P(o, "a/sub"), 0755));
	age(o, "a/sub");
	before(o, "a", "b", "a/sub");
	WANT(0, rename(P(o, "a/sub"), P(o, "b/sub")));
	after(o, "rename of a directory across dirs");

	before(o, "b", "b/sub", NULL);
	WANT(0, mkdir(P(o, "b/sub/x"), 0755));
	after(o, "mkdir");

	before(o, "b", "b/sub", NULL);
	WANT(0, rmdir(P(o, "b/sub/x")));
	after(o, "rmdir");

	before(o, "b", NULL, NULL);
	WANT(0, symlink("t", P(o, "b/sym")));
	after(o, "symlink");

	age(o, "b/sym");
	before(o, "b/sym", NULL, NULL);
	READLINK(o, "b/sym", 100);
	after(o, "readlink");

	before(o, "b", NULL, NULL);
	WANT(0, mknod(P(o, "b/fifo"), S_IFIFO | 0644, 0));
	after(o, "mknod");

	before(o, "b", "b/victim", NULL);
	WANT(0, unlink(P(o, "b/victim")));
	after(o, "unlink");

	before(o, "b", NULL, NULL);
	WANT(-ENOENT, unlink(P(o, "b/victim")));
	after(o, "failed unlink");

	age(o, "b");
	before(o, "b", NULL, NULL);
	d = opendir(P(o, "b"));
	while (d && readdir(d))
		;
	if (d)
		closedir(d);
	after(o, "readdir");

	before(o, "b", NULL, NULL);
	WANT(0, stat(P(o, "b/sub"), &st));
	after(o, "lookup");

	before(o, "a", "b", NULL);
	RENAME2(0, "a", "b", RENAME_EXCHANGE);
	after(o, "exchange");

	before(o, ".", NULL, NULL);
	{
		int fd = open(P(o, "."), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

		after(o, "O_TMPFILE");
		before(o, ".", NULL, NULL);
		WANT(0, linkat(fd, "", AT_FDCWD, P(o, "tmp"), AT_EMPTY_PATH));
		after(o, "linkat of an O_TMPFILE");
		close(fd);
	}
}

/* nanoseconds are kept, and stamps taken now carry them */
SCENARIO(times_nanoseconds)
{
	long nonzero = 0;
	struct stat st;

	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		PUT(o, name, "x", 1);
		tick();
		if (!lstat(P(o, "%s", name), &st))
			nonzero += st.st_mtim.tv_nsec != 0;
	}
	EXPECT("some stamps have nanoseconds", nonzero > 0);
}

TEST_HARNESS_MAIN
