// SPDX-License-Identifier: MIT
/*
 * posix_names_test - ramfuse behaves like tmpfs in its namespace: symbolic
 * and hard links, nodes of every type, rename (and renameat2's flags),
 * O_TMPFILE, link counts, readdir and telldir, and odd names.
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/xattr.h>

/* ------------------------------------------------------------------ */
/* Symbolic links                                                      */

SCENARIO(symlink_readlink)
{
	char *t4095 = o->scratch, *t4096 = o->scratch + 5000;
	struct stat st;
	int fd;

	memset(t4095, 'a', 4095);
	t4095[4095] = 0;
	memset(t4096, 'b', 4096);
	t4096[4096] = 0;

	WANT(0, symlink("target", P(o, "l")));
	ST(o, "l");
	READLINK(o, "l", 100);
	READLINK(o, "l", 3);		/* truncated, no NUL */
	WANT(-EEXIST, symlink("x", P(o, "l")));
	WANT(-ENOENT, stat(P(o, "l"), &st));	/* dangling */
	WANT(-ENOENT, open(P(o, "l"), O_RDONLY));
	fd = WANT(3, open(P(o, "l"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	if (fd >= 0)
		close(fd);
	ST(o, "target");		/* created through the link */
	WANT(-ELOOP, open(P(o, "l"), O_RDONLY | O_NOFOLLOW));

	WANT(0, symlink(t4095, P(o, "long")));
	ST(o, "long");
	{
		char buf[5000];
		ssize_t n = readlink(P(o, "long"), buf, sizeof(buf));

		WANT(4095, n);
		EXPECT("long target reads back", n == 4095 && !memcmp(buf, t4095, 4095));
	}
	WANT(-ENAMETOOLONG, symlink(t4096, P(o, "toolong")));
	WANT(-ENOENT, symlink("", P(o, "empty")));
	ST(o, "toolong");
	ST(o, "empty");

	WANT(-EINVAL, readlink(P(o, "target"), o->paths[7], 10));
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(0, symlink("d", P(o, "ld")));
	WANT(0, symlink("../target", P(o, "d/up")));
	WANT(0, stat(P(o, "d/up"), &st));
	WANT(0, symlink("loop", P(o, "loop")));
	WANT(-ELOOP, stat(P(o, "loop/x"), &st));
	WANT(-ELOOP, stat(P(o, "loop"), &st));
	WANT(0, mkdir(P(o, "ld/sub"), 0700));
	ST(o, "d/sub");
	WANT(0, lchown(P(o, "ld"), 1001, 1002));
	ST(o, "ld");
	ST(o, "d");
	WANT(-ENOTDIR, rmdir(P(o, "ld")));
	WANT(0, unlink(P(o, "ld")));
	LS(o, ".");
	LS(o, "d");
}

/* ------------------------------------------------------------------ */
/* Hard links                                                          */

SCENARIO(hard_links)
{
	int fd;

	PUT(o, "f", "hello", 5);
	WANT(0, link(P(o, "f"), P(o, "g")));
	ST(o, "f");
	ST(o, "g");
	fd = open(P(o, "g"), O_WRONLY | O_APPEND | O_CLOEXEC);
	WANT(6, write(fd, " world", 6));
	close(fd);
	CONTENT(o, "f");
	WANT(-EEXIST, link(P(o, "f"), P(o, "g")));
	WANT(-ENOENT, link(P(o, "missing"), P(o, "h")));
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(-EPERM, link(P(o, "d"), P(o, "dl")));
	WANT(0, link(P(o, "f"), P(o, "d/f2")));
	ST(o, "f");
	ST(o, "d");
	WANT(-ENOENT, link(P(o, "f"), P(o, "nodir/x")));
	WANT(-ENOTDIR, link(P(o, "f"), P(o, "g/x")));
	WANT(0, unlink(P(o, "f")));
	ST(o, "g");
	WANT(0, symlink("g", P(o, "s")));
	WANT(0, linkat(AT_FDCWD, P(o, "s"), AT_FDCWD, P(o, "s2"), 0));
	ST(o, "s2");
	ST(o, "g");
	WANT(0, linkat(AT_FDCWD, P(o, "s"), AT_FDCWD, P(o, "s3"), AT_SYMLINK_FOLLOW));
	ST(o, "s3");
	ST(o, "s");
	WANT(0, mkfifo(P(o, "fifo"), 0600));
	WANT(0, link(P(o, "fifo"), P(o, "fifo2")));
	ST(o, "fifo");
	WANT(0, unlink(P(o, "d/f2")));
	WANT(0, unlink(P(o, "s3")));
	ST(o, "g");
	CONTENT(o, "s2");
	LS(o, ".");
}

/*
 * File handles (name_to_handle_at, open_by_handle_at) of nodes of every
 * type, while the kernel still has the inode and after it forgot it (the
 * dentry and inode caches dropped: the kernel looks the number up as ".");
 * a handle of a removed file is stale once the kernel has forgotten it.
 * fstests generic/426, 467, 477.
 */
static void by_handle(struct obs *o, int mfd, struct file_handle *h, const char *what)
{
	char buf[16] = { 0 };
	int fd = (int)syscall(SYS_open_by_handle_at, mfd, h, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		rec(o, what, -1);
		return;
	}
	note(o, "%s: read %zd '%s'", what, read(fd, buf, sizeof(buf) - 1), buf);
	close(fd);
}

SCENARIO(file_handles)
{
	static const char *const names[] = { "f", "g", "d", "gone" };
	union { struct file_handle h; char room[sizeof(struct file_handle) + 128]; } fh[4];
	int mfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), mnt;

	PUT(o, "f", "hello", 5);
	WANT(0, link(P(o, "f"), P(o, "g")));
	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "gone", "bye", 3);
	for (int i = 0; i < 4; i++) {
		fh[i].h.handle_bytes = 128;
		WANT(0, (int)syscall(SYS_name_to_handle_at, AT_FDCWD, P(o, "%s", names[i]), &fh[i].h,
				     &mnt, 0));
	}
	WANT(0, unlink(P(o, "gone")));
	/* (not "gone" yet: while the kernel still has its inode, whether it
	 * opens it is the kernel's; Linux 6.1's FUSE does, 6.18's does not) */
	for (int i = 0; i < 3; i++)
		by_handle(o, mfd, &fh[i].h, names[i]);
	drop_caches(2);
	for (int i = 0; i < 4; i++)
		by_handle(o, mfd, &fh[i].h, names[i]);
	close(mfd);
}

/* ------------------------------------------------------------------ */
/* Nodes of every type                                                 */

SCENARIO(mknod_types)
{
	static const struct { const char *name; mode_t mode; dev_t dev; long want; } n[] = {
		{ "reg", S_IFREG | 0640, 0, 0 },
		{ "reg0", 0640, 0, 0 },			/* type 0 is a regular file */
		{ "fifo", S_IFIFO | 0600, 0, 0 },
		{ "sock", S_IFSOCK | 0600, 0, 0 },
		{ "null", S_IFCHR | 0666, 0, 0 },		/* makedev(1, 3) below */
		{ "sda1", S_IFBLK | 0600, 0, 0 },
		{ "chr_big", S_IFCHR | 0600, 0, 0 },
		{ "blk_max", S_IFBLK | 0600, 0, 0 },
		{ "whiteout", S_IFCHR | 0000, 0, 0 },
		{ "dir", S_IFDIR | 0755, 0, -EPERM },
		{ "lnk", S_IFLNK | 0777, 0, -EINVAL },
	};
	const dev_t devs[] = { 0, 0, 0, 0, makedev(1, 3), makedev(8, 1),
			       makedev(300, 70000), makedev(4095, 0xfffff),
			       makedev(0, 0), 0, 0 };
	char buf[8];
	int fd;

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		char what[100];

		snprintf(what, sizeof(what), "mknod %s %06o %u:%u", n[i].name,
			 (unsigned)n[i].mode, major(devs[i]), minor(devs[i]));
		want(o, what, n[i].want, mknod(P(o, "%s", n[i].name), n[i].mode, devs[i]));
		ST(o, n[i].name);
	}
	for (size_t i = 0; i < 8; i++) {
		struct statx_buf sx;

		if (xstatx(AT_FDCWD, P(o, "%s", n[i].name), AT_SYMLINK_NOFOLLOW,
			  STATX_BASIC_STATS, &sx))
			rec(o, "statx", -1);
		else
			note(o, "statx %s: type %o rdev %u:%u", n[i].name,
			     (unsigned)(sx.stx_mode & S_IFMT), sx.stx_rdev_major,
			     sx.stx_rdev_minor);
	}
	WANT(-EEXIST, mknod(P(o, "fifo"), S_IFIFO | 0600, 0));
	/* a device node on a nodev mount cannot be opened */
	WANT(-EACCES, open(P(o, "null"), O_RDONLY));
	fd = WANT(3, open(P(o, "fifo"), O_RDWR | O_NONBLOCK | O_CLOEXEC));
	if (fd >= 0) {
		WANT(3, write(fd, "abc", 3));
		WANT(3, read(fd, buf, sizeof(buf)));
		WANT(-EAGAIN, read(fd, buf, sizeof(buf)));
		close(fd);
	}
	/* a socket node is a name, connecting needs a listener */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", P(o, "sock"));
		WANT(-ECONNREFUSED, connect(s, (struct sockaddr *)&sa, sizeof(sa)));
		close(s);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", P(o, "bound"));
		WANT(0, bind(s, (struct sockaddr *)&sa, sizeof(sa)));
		close(s);
		ST(o, "bound");
	}
	LS(o, ".");
}

/* ------------------------------------------------------------------ */
/* Rename                                                              */

SCENARIO(rename_files)
{
	PUT(o, "a", "AAAA", 4);
	PUT(o, "b", "BB", 2);
	WANT(0, mkdir(P(o, "e"), 0755));
	WANT(0, rename(P(o, "a"), P(o, "a")));
	WANT(0, link(P(o, "a"), P(o, "a2")));
	/* two names of one inode: nothing happens, both names stay */
	WANT(0, rename(P(o, "a"), P(o, "a2")));
	ST(o, "a");
	ST(o, "a2");
	LS(o, ".");
	WANT(0, unlink(P(o, "a2")));
	WANT(0, rename(P(o, "a"), P(o, "c")));
	WANT(-ENOENT, rename(P(o, "a"), P(o, "x")));
	WANT(0, rename(P(o, "c"), P(o, "b")));	/* over an existing file */
	CONTENT(o, "b");
	ST(o, "b");
	WANT(-EISDIR, rename(P(o, "b"), P(o, "e")));
	WANT(-ENOENT, rename(P(o, "b"), P(o, "nodir/x")));
	WANT(-ENOTDIR, rename(P(o, "b"), P(o, "b/x")));
	WANT(-EBUSY, rename(P(o, "."), P(o, "x")));
	WANT(-EBUSY, rename(P(o, "e/.."), P(o, "x")));
	WANT(-EBUSY, rename(P(o, "e/."), P(o, "x")));
	WANT(0, rename(P(o, "b"), P(o, "e/b")));
	ST(o, "e");
	LS(o, ".");
	LS(o, "e");
	/* rename over an open file: the old one stays readable */
	{
		int fd;

		PUT(o, "old", "old data", 8);
		PUT(o, "new", "new", 3);
		fd = open(P(o, "old"), O_RDONLY | O_CLOEXEC);
		WANT(0, rename(P(o, "new"), P(o, "old")));
		if (fd >= 0) {
			data_note(o, "open old file", fd, 0, 100);
			FST(o, "fstat old file", fd);
			close(fd);
		}
		CONTENT(o, "old");
	}
	RENAME2(-EEXIST, "old", "e/b", RENAME_NOREPLACE);
	RENAME2(0, "old", "fresh", RENAME_NOREPLACE);
	RENAME2(-EINVAL, "fresh", "e/b", RENAME_NOREPLACE | RENAME_EXCHANGE);
	RENAME2(-EINVAL, "fresh", "e/b", 1 << 5);
	RENAME2(-ENOENT, "fresh", "nothere", RENAME_EXCHANGE);
	RENAME2(0, "fresh", "e/b", RENAME_EXCHANGE);
	CONTENT(o, "fresh");
	CONTENT(o, "e/b");
	LS(o, ".");
}

SCENARIO(rename_dirs)
{
	struct stat a, b;

	WANT(0, mkdir(P(o, "d1"), 0755));
	WANT(0, mkdir(P(o, "d1/sub"), 0755));
	WANT(0, mkdir(P(o, "d2"), 0755));
	WANT(0, mkdir(P(o, "d2/full"), 0755));
	PUT(o, "d2/full/x", "x", 1);
	WANT(0, mkdir(P(o, "e"), 0700));
	PUT(o, "f", "file", 4);
	ST(o, ".");

	WANT(-ENOTDIR, rename(P(o, "d1"), P(o, "f")));	/* dir over non-dir */
	WANT(-ENOTEMPTY, rename(P(o, "d1"), P(o, "d2")));	/* over non-empty */
	WANT(-EINVAL, rename(P(o, "d2"), P(o, "d2/full/inside")));	/* own subtree */
	WANT(-EINVAL, rename(P(o, "d2"), P(o, "d2/full")));
	WANT(-ENOTEMPTY, rename(P(o, "d2/full"), P(o, "d2")));	/* onto an ancestor */
	WANT(0, rename(P(o, "d1"), P(o, "e")));		/* over an empty dir */
	ST(o, ".");
	ST(o, "e");
	LS(o, ".");
	/* across directories: the parents' link counts and ".." follow */
	WANT(0, rename(P(o, "e/sub"), P(o, "d2/sub")));
	ST(o, "e");
	ST(o, "d2");
	WANT(0, stat(P(o, "d2/sub/.."), &a));
	WANT(0, stat(P(o, "d2"), &b));
	EXPECT("d2/sub/.. is d2", a.st_ino == b.st_ino);
	LS(o, "d2");
	/* exchange a file and a directory across directories */
	PUT(o, "e/file", "in e", 4);
	RENAME2(0, "e/file", "d2/sub", RENAME_EXCHANGE);
	ST(o, "e");
	ST(o, "d2");
	ST(o, "e/file");
	ST(o, "d2/sub");
	WANT(0, stat(P(o, "e/file/.."), &a));
	WANT(0, stat(P(o, "e"), &b));
	EXPECT("e/file/.. is e", a.st_ino == b.st_ino);
	LS(o, "e");
	LS(o, "d2");
	/* exchange two directories, one inside the other: refused */
	RENAME2(-EINVAL, "d2", "d2/full", RENAME_EXCHANGE);
	RENAME2(-EINVAL, "d2/full", "d2", RENAME_EXCHANGE);
	/* exchange two directories of different parents */
	RENAME2(0, "e/file", "d2/full", RENAME_EXCHANGE);
	LS(o, "e/file");
	LS(o, "d2/full");
	ST(o, "e");
	ST(o, "d2");
	/* an emptied directory can be renamed over */
	WANT(0, unlink(P(o, "e/file/x")));
	WANT(0, rename(P(o, "d2/full"), P(o, "e/file")));
	ST(o, "e");
	ST(o, "d2");
	LS(o, ".");
	LS(o, "e");
	LS(o, "d2");
}

/* RENAME_WHITEOUT leaves an overlayfs whiteout (a 0:0 character device
 * with no permission bits) at the old name, as on tmpfs; with EXCHANGE it
 * is EINVAL, with NOREPLACE onto an existing name EEXIST. */
TEST_F(posix, rename_whiteout)
{
	const char *roots[2] = { self->tmp, self->rf.mnt };

	for (int k = 0; k < 2; k++) {
		const char *fs = k ? "ramfuse" : "tmpfs";
		char a[300], b[300], c[300];
		struct stat st;

		snprintf(a, sizeof(a), "%s/a", roots[k]);
		snprintf(b, sizeof(b), "%s/b", roots[k]);
		snprintf(c, sizeof(c), "%s/c", roots[k]);
		ASSERT_EQ(0, mknod(a, S_IFREG | 0644, 0));
		ASSERT_EQ(0, mknod(c, S_IFREG | 0644, 0));
		EXPECT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, c,
				      RENAME_WHITEOUT | RENAME_EXCHANGE)) TH_LOG("%s", fs);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", fs);
		EXPECT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, c,
				      RENAME_WHITEOUT | RENAME_NOREPLACE)) TH_LOG("%s", fs);
		EXPECT_EQ(EEXIST, errno) TH_LOG("%s", fs);
		ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
				     RENAME_WHITEOUT | RENAME_NOREPLACE)) TH_LOG("%s", fs);
		ASSERT_EQ(0, lstat(a, &st)) TH_LOG("%s: no whiteout", fs);
		EXPECT_EQ(S_IFCHR, st.st_mode) TH_LOG("%s: whiteout mode %o", fs, st.st_mode);
		EXPECT_EQ(0, st.st_rdev) TH_LOG("%s", fs);
		EXPECT_EQ(1, st.st_nlink) TH_LOG("%s", fs);
		EXPECT_EQ(0, lstat(b, &st)) TH_LOG("%s: the file did not move", fs);
		EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", fs);
		/* onto an existing name: replaced, whiteout left */
		ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, b, AT_FDCWD, c, RENAME_WHITEOUT))
			TH_LOG("%s", fs);
		EXPECT_EQ(0, lstat(b, &st)) TH_LOG("%s", fs);
		EXPECT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s", fs);
	}
}

/* A whiteout is an inode: with nr_inodes used up the rename fails, ENOSPC,
 * and leaves the source where it was. */
TEST(rename_whiteout_counts_inodes)
{
	struct ramfuse rf = { 0 };
	char tmp[64], dirs[2][256];

	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), "nr_inodes=3"));
	ASSERT_EQ(0, mount_ramfuse(&rf, "nr_inodes=3")) TH_LOG("%s", rf.err);
	snprintf(dirs[0], sizeof(dirs[0]), "%s", tmp);
	snprintf(dirs[1], sizeof(dirs[1]), "%s", rf.mnt);
	for (int k = 0; k < 2; k++) {
		char a[300], b[300];
		struct stat st;

		snprintf(a, sizeof(a), "%s/a", dirs[k]);
		snprintf(b, sizeof(b), "%s/b", dirs[k]);
		ASSERT_EQ(0, mknod(a, S_IFREG | 0644, 0));
		ASSERT_EQ(0, mknod(b, S_IFREG | 0644, 0)); /* root, a, b: full */
		EXPECT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_WHITEOUT))
			TH_LOG("%s", k ? "ramfuse" : "tmpfs");
		EXPECT_EQ(ENOSPC, errno) TH_LOG("%s", k ? "ramfuse" : "tmpfs");
		EXPECT_EQ(0, lstat(a, &st));
		EXPECT_TRUE(S_ISREG(st.st_mode));
		/* a plain rename needs no inode */
		EXPECT_EQ(0, rename(a, b));
	}
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	tmpfs_umount(tmp);
}

/* ------------------------------------------------------------------ */
/* O_TMPFILE                                                           */

XATTR_SCENARIO(tmpfile_linkat)
{
	char proc[64];
	int fd, ex;

	WANT(0, mkdir(P(o, "d"), 0755));
	fd = WANT(3, open(P(o, "d"), O_TMPFILE | O_RDWR | O_CLOEXEC, 0640));
	FST(o, "tmpfile", fd);
	LS(o, "d");
	WANT(5, write(fd, "hello", 5));
	WANT(0, fchmod(fd, 0600));
	WANT(0, fsetxattr(fd, "user.t", "x", 1, 0));
	WANT(0, linkat(fd, "", AT_FDCWD, P(o, "d/named"), AT_EMPTY_PATH));
	FST(o, "tmpfile after linkat", fd);
	ST(o, "d/named");
	CONTENT(o, "d/named");
	WANT(1, getxattr(P(o, "d/named"), "user.t", o->scratch, 10));
	WANT(-EEXIST, linkat(fd, "", AT_FDCWD, P(o, "d/named"), AT_EMPTY_PATH));
	close(fd);

	/* through /proc: a plain link(2) links the magic symlink itself */
	fd = open(P(o, "d"), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	WANT(-EXDEV, linkat(AT_FDCWD, proc, AT_FDCWD, P(o, "viaproc"), 0));
	WANT(0, linkat(AT_FDCWD, proc, AT_FDCWD, P(o, "viaproc"), AT_SYMLINK_FOLLOW));
	ST(o, "viaproc");
	close(fd);

	/* O_EXCL: never to be linked */
	ex = open(P(o, "d"), O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	WANT(-ENOENT, linkat(ex, "", AT_FDCWD, P(o, "d/ex"), AT_EMPTY_PATH));
	close(ex);

	WANT(-EINVAL, open(P(o, "d"), O_TMPFILE | O_RDONLY, 0600));
	WANT(-ENOTDIR, open(P(o, "viaproc"), O_TMPFILE | O_RDWR, 0600));
	WANT(-ENOENT, open(P(o, "nodir"), O_TMPFILE | O_RDWR, 0600));

	/* an unlinked file cannot be linked back, an O_TMPFILE one can */
	fd = open(P(o, "d/named"), O_RDWR | O_CLOEXEC);
	WANT(0, unlink(P(o, "d/named")));
	WANT(-ENOENT, linkat(fd, "", AT_FDCWD, P(o, "back"), AT_EMPTY_PATH));
	close(fd);
	ST(o, "d");
	LS(o, "d");
	LS(o, ".");
}

/* ------------------------------------------------------------------ */
/* Link counts and blocks                                               */

SCENARIO(link_counts_and_blocks)
{
	char page[8192];
	int fd;

	ST(o, ".");
	WANT(0, mkdir(P(o, "d"), 0755));
	ST(o, ".");
	ST(o, "d");
	for (int i = 0; i < 5; i++)
		WANT(0, mkdir(P(o, "d/%d", i), 0755));
	PUT(o, "d/file", "x", 1);
	WANT(0, symlink("x", P(o, "d/sym")));
	ST(o, "d");
	WANT(0, rmdir(P(o, "d/3")));
	ST(o, "d");
	WANT(0, rename(P(o, "d/4"), P(o, "d4")));
	ST(o, "d");
	ST(o, ".");
	ST(o, "d4");

	/* blocks count allocated pages only */
	memset(page, 'b', sizeof(page));
	fd = open(P(o, "s"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	FST(o, "empty", fd);
	WANT(1, write(fd, "x", 1));
	FST(o, "1 byte", fd);
	WANT(4097, pwrite(fd, page, 4097, 4095));
	FST(o, "up to 8192", fd);
	WANT(1, pwrite(fd, "y", 1, 10 * MiB));
	FST(o, "a byte at 10M", fd);
	WANT(0, ftruncate(fd, 100 * MiB));
	FST(o, "truncated to 100M", fd);
	WANT(0, ftruncate(fd, 4096));
	FST(o, "truncated to 4K", fd);
	WANT(0, ftruncate(fd, 0));
	FST(o, "truncated to 0", fd);
	close(fd);
	ST(o, "d/sym");
}

/* ------------------------------------------------------------------ */
/* readdir                                                             */

SCENARIO(readdir_types)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "d/reg", "", 0);
	WANT(0, mkdir(P(o, "d/dir"), 0755));
	WANT(0, symlink("reg", P(o, "d/lnk")));
	WANT(0, mknod(P(o, "d/fifo"), S_IFIFO | 0644, 0));
	WANT(0, mknod(P(o, "d/sock"), S_IFSOCK | 0644, 0));
	WANT(0, mknod(P(o, "d/chr"), S_IFCHR | 0644, makedev(1, 7)));
	WANT(0, mknod(P(o, "d/blk"), S_IFBLK | 0644, makedev(7, 1)));
	LS(o, "d");
	LS(o, "d/dir");
	/* d_ino is the inode number stat gives ("..": the parent's) */
	d = opendir(P(o, "d"));
	while (d && (de = readdir(d))) {
		ino_t ino;

		if (!strcmp(de->d_name, ".."))
			ino = stat(P(o, "."), &st) ? 0 : st.st_ino;
		else
			ino = lstat(P(o, "d/%s", de->d_name), &st) ? 0 : st.st_ino;
		if (ino != de->d_ino)
			note(o, "d_ino of %s is not its st_ino", de->d_name);
	}
	if (d)
		closedir(d);
	/* a removed directory reads as gone */
	{
		int fd;
		char buf[4096];

		WANT(0, mkdir(P(o, "gone"), 0755));
		fd = open(P(o, "gone"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		WANT(0, rmdir(P(o, "gone")));
		WANT(-ENOENT, syscall(SYS_getdents64, fd, buf, sizeof(buf)));
		FST(o, "removed dir", fd);
		WANT(-ENOENT, openat(fd, "x", O_CREAT | O_WRONLY, 0644));
		close(fd);
	}
	WANT(-ENOTDIR, open(P(o, "d/reg"), O_RDONLY | O_DIRECTORY));
	WANT(-EISDIR, open(P(o, "d"), O_WRONLY));
	{
		char buf[10];
		int fd = open(P(o, "d"), O_RDONLY | O_CLOEXEC);

		WANT(-EISDIR, read(fd, buf, sizeof(buf)));
		close(fd);
	}
}

/*
 * Entries that exist throughout a listing are returned exactly once, while
 * others come and go; the listing also works one small getdents at a time.
 */
SCENARIO(readdir_stable_offsets)
{
	enum { N = 300 };
	static unsigned char seen[N + 100];
	char buf[4096];
	int fd, calls = 0, dup = 0, missed = 0;
	long n;

	WANT(0, mkdir(P(o, "d"), 0755));
	for (int i = 0; i < N; i++)
		mknod(P(o, "d/e%03d", i), S_IFREG | 0644, 0);
	memset(seen, 0, sizeof(seen));
	fd = open(P(o, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* small reads: a few entries per call */
	while ((n = syscall(SYS_getdents64, fd, buf, 120)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			int i;

			if (sscanf(de->d_name, "e%d", &i) == 1 && i >= 0 && i < N + 100) {
				if (seen[i]++)
					dup++;
			}
			off += de->d_reclen;
		}
		if (++calls == 20) {
			/* remove some seen and some unseen entries, add others */
			for (int i = 0; i < N; i += 7)
				unlink(P(o, "d/e%03d", i));
			for (int i = N; i < N + 100; i++)
				mknod(P(o, "d/e%03d", i), S_IFREG | 0644, 0);
		}
	}
	rec(o, "getdents64 end", n);
	close(fd);
	for (int i = 0; i < N; i++)
		if (i % 7 && !seen[i])
			missed++;
	note(o, "calls > 20: %d", calls > 20);
	WANT(0, dup);
	WANT(0, missed);
}

/*
 * A reader that renames each entry it reads (to a temporary name and
 * back: a new place in the directory) comes to the end: a stream lists no
 * entry made after its first read, as tmpfs's does (fstests generic/736),
 * and after rewinddir() it lists what was made before it.  Not against
 * tmpfs: how many renamed entries a stream shows again is unspecified
 * (and differs between kernels); here it is none.
 */
#define RENAMED 300
TEST_F(posix, readdir_while_renaming_ends)
{
	char dir[300], p[600], q[400];
	struct dirent *de;
	int seen = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/rw", self->rf.mnt);
	ASSERT_EQ(0, mkdir(dir, 0755));
	for (int i = 0; i < RENAMED; i++) {
		snprintf(p, sizeof(p), "%s/%d", dir, i);
		ASSERT_EQ(0, mknod(p, S_IFREG | 0644, 0)) TH_LOG("%s: %s", p, strerror(errno));
	}
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	snprintf(q, sizeof(q), "%s/TEMPFILE", dir);
	while ((de = readdir(d)) && seen <= 3 * RENAMED) {
		seen++;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		ASSERT_EQ(0, rename(p, q)) TH_LOG("%s: %s", p, strerror(errno));
		ASSERT_EQ(0, rename(q, p)) TH_LOG("%s: %s", p, strerror(errno));
	}
	EXPECT_EQ(RENAMED + 2, seen);
	/* made before the rewind: listed after it */
	snprintf(p, sizeof(p), "%s/late", dir);
	ASSERT_EQ(0, mknod(p, S_IFREG | 0644, 0));
	rewinddir(d);
	seen = 0;
	while ((de = readdir(d)))
		seen++;
	EXPECT_EQ(RENAMED + 3, seen);
	closedir(d);
}

SCENARIO(telldir_seekdir)
{
	long pos[64];
	char name[64][256], again[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	WANT(0, mkdir(P(o, "d"), 0755));
	for (int i = 0; i < 40; i++)
		mknod(P(o, "d/n%02d", i), S_IFREG | 0644, 0);
	d = opendir(P(o, "d"));
	if (!d) {
		rec(o, "opendir", -1);
		return;
	}
	for (;;) {
		long p = telldir(d);

		de = readdir(d);
		if (!de || n == 64)
			break;
		pos[n] = p;
		snprintf(name[n], sizeof(name[n]), "%s", de->d_name);
		n++;
	}
	note(o, "%d entries", n);
	/* going back to any remembered position returns the same entry */
	for (int i = n - 1; i >= 0; i -= 3) {
		seekdir(d, pos[i]);
		de = readdir(d);
		snprintf(again, sizeof(again), "%s", de ? de->d_name : "(end)");
		if (strcmp(again, name[i]))
			want(o, "seekdir returns the same entry", 0, -1);
	}
	/* removing the entry at a position: seekdir there gives the next one */
	for (int i = 10; i < 14; i++) {
		if (name[i][0] == '.')
			continue;
		WANT(0, unlink(P(o, "d/%s", name[i])));
	}
	seekdir(d, pos[10]);
	de = readdir(d);
	snprintf(again, sizeof(again), "%s", de ? de->d_name : "(end)");
	EXPECT("after removals seekdir goes on with the next entry",
	       !strcmp(again, name[14]) || (name[14][0] == '.'));
	rewinddir(d);
	n = 0;
	while (readdir(d))
		n++;
	note(o, "after rewinddir %d entries", n);
	closedir(d);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

SCENARIO(names)
{
	static const char *const odd[] = {
		"with\nnewline", "\xff\xfe", "with space", " ", "  lead", "trail ",
		"-dash", "back\\slash", "tab\there", "\x01\x02", "caf\xc3\xa9", "...",
		".hidden", "a:b", "*?[]", "\x7f",
	};
	char name[300];
	int fd;

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		fd = open(P(o, "%s", odd[i]), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		want(o, "create an odd name", 1, fd >= 0);
		if (fd >= 0) {
			WANT(1, write(fd, "x", 1));
			close(fd);
		}
	}
	LS(o, ".");
	WANT(0, rename(P(o, "with\nnewline"), P(o, "with\nnewline\n2")));
	WANT(0, mkdir(P(o, "\xff"), 0755));
	WANT(0, rename(P(o, "\xff\xfe"), P(o, "\xff/\xfe")));
	LS(o, "\xff");
	/* 255 bytes is the limit */
	memset(name, 'n', sizeof(name));
	name[255] = 0;
	fd = open(P(o, "%s", name), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	want(o, "create a 255-byte name", 1, fd >= 0);
	close(fd);
	WANT(0, mkdir(P(o, "d%.254s", name), 0755));
	WANT(0, symlink("x", P(o, "s%.254s", name)));
	WANT(0, link(P(o, "%s", name), P(o, "l%.254s", name)));
	WANT(0, rename(P(o, "%s", name), P(o, "r%.254s", name)));
	name[255] = 'n';
	name[256] = 0;
	WANT(-ENAMETOOLONG, open(P(o, "%s", name), O_WRONLY | O_CREAT, 0644));
	WANT(-ENAMETOOLONG, open(P(o, "%s", name), O_RDONLY));
	WANT(-ENAMETOOLONG, mkdir(P(o, "%s", name), 0755));
	WANT(-ENAMETOOLONG, symlink("x", P(o, "%s", name)));
	WANT(-ENAMETOOLONG, mknod(P(o, "%s", name), S_IFIFO | 0644, 0));
	WANT(-ENAMETOOLONG, link(P(o, "r%.254s", name), P(o, "%s", name)));
	WANT(-ENAMETOOLONG, rename(P(o, "r%.254s", name), P(o, "%s", name)));
	WANT(-ENAMETOOLONG, unlink(P(o, "%s", name)));
	WANT(-ENAMETOOLONG, rmdir(P(o, "%s", name)));
	WANT(-ENAMETOOLONG, access(P(o, "%s/x", name), F_OK));
	{
		struct stat st;

		WANT(-ENAMETOOLONG, stat(P(o, "%s", name), &st));
	}
	LS(o, ".");
	{
		struct statfs sf;

		WANT(0, statfs(o->root, &sf));
		note(o, "f_namelen %ld", (long)sf.f_namelen);
	}
}

TEST_HARNESS_MAIN
