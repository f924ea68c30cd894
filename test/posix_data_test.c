// SPDX-License-Identifier: MIT
/*
 * posix_data_test - ramfuse behaves like tmpfs with file data and space:
 * fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range, fsync, sparse files and
 * big offsets, statfs and the size= / nr_inodes= limits.
 *
 * Each test runs one scenario on a tmpfs and on a ramfuse side by side and
 * compares what a program sees (oracle.h), under default_permissions and
 * nodefault_permissions.
 */
#include "harness.h"
#include "fuse_util.h"
#include "oracle.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

/* ------------------------------------------------------------------ */
/* fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range                      */

SCENARIO(fallocate_modes)
{
	char *buf = o->scratch;
	int fd, ro;

	fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	WANT(0, fallocate(fd, 0, 0, MiB));
	FST(o, "after fallocate 0..1M", fd);
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, MiB, MiB));
	FST(o, "after KEEP_SIZE 1M..2M", fd);
	data_note(o, "reads as zeros", fd, 0, 4 * MiB);
	pattern_fill((unsigned char *)buf, 65536, 0, 9);
	for (long off = 0; off < MiB; off += 65536)
		pwrite_all(fd, buf, 65536, off);
	WANT(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192));
	FST(o, "after punching 4K..12K", fd);
	WANT(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200));
	FST(o, "after punching 100..300", fd);
	data_note(o, "content", fd, 0, 4 * MiB);
	WANT(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB - 4096, 2 * MiB));
	FST(o, "after punching past EOF", fd);
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096));
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096));
	DO(fallocate(fd, FALLOC_FL_UNSHARE_RANGE, 0, 4096));
	WANT(-EINVAL, fallocate(fd, 0, 0, 0));
	WANT(-EINVAL, fallocate(fd, 0, -1, 4096));
	WANT(-EFBIG, fallocate(fd, 0, LLONG_MAX - 10, 4096));
	WANT(0, fallocate(fd, 0, 3 * MiB + 5, 10));
	FST(o, "after fallocate 3M+5..3M+15", fd);
	WANT(0, posix_fallocate(fd, 0, 5 * MiB));
	FST(o, "after posix_fallocate 0..5M", fd);
	close(fd);
	ro = open(P(o, "f"), O_RDONLY | O_CLOEXEC);
	WANT(-EBADF, fallocate(ro, 0, 0, 4096));
	close(ro);
	ro = open(P(o, "."), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WANT(-EBADF, fallocate(ro, 0, 0, 4096));
	close(ro);
	WANT(0, mkfifo(P(o, "p"), 0644));
	fd = open(P(o, "p"), O_RDWR | O_CLOEXEC);
	WANT(-ESPIPE, fallocate(fd, 0, 0, 4096));
	close(fd);
	ST(o, "f");
}

static void seeks(struct obs *o, int fd, const off_t *offs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char what[80];

		snprintf(what, sizeof(what), "SEEK_DATA %lld", (long long)offs[i]);
		rec(o, what, lseek(fd, offs[i], SEEK_DATA));
		snprintf(what, sizeof(what), "SEEK_HOLE %lld", (long long)offs[i]);
		rec(o, what, lseek(fd, offs[i], SEEK_HOLE));
	}
}

SCENARIO(seek_data_hole)
{
	static const off_t offs[] = { 0, 1, 4095, 4096, 8191, 8192, 65536, MiB - 1,
				      MiB, MiB + 4095, MiB + 4096, 2 * MiB - 1,
				      2 * MiB, 3 * MiB, LLONG_MAX, -1 };
	char page[4096];
	int fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	note(o, "empty file:");
	seeks(o, fd, offs, 3);
	memset(page, 'x', sizeof(page));
	WANT(4096, pwrite(fd, page, 4096, 0));
	WANT(4096, pwrite(fd, page, 4096, MiB));
	note(o, "data 0..4K and 1M..1M+4K:");
	seeks(o, fd, offs, sizeof(offs) / sizeof(offs[0]));
	WANT(0, ftruncate(fd, 2 * MiB));
	note(o, "then a hole to 2M:");
	seeks(o, fd, offs, sizeof(offs) / sizeof(offs[0]));
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 65536, 65536));
	note(o, "64K..128K allocated, never written:");
	seeks(o, fd, offs, sizeof(offs) / sizeof(offs[0]));
	WANT(5, lseek(fd, 5, SEEK_SET));
	WANT(7, lseek(fd, 2, SEEK_CUR));
	WANT(2 * MiB - 1, lseek(fd, -1, SEEK_END));
	WANT(-EINVAL, lseek(fd, -1, SEEK_SET));
	WANT(-EINVAL, lseek(fd, 0, 7));
	FST(o, "file", fd);
	close(fd);
}

SCENARIO(copy_range)
{
	char *buf = o->scratch;
	int in, out, dir;
	loff_t a, b;

	pattern_fill((unsigned char *)buf, 65536, 0, 5);
	in = open(P(o, "in"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	out = open(P(o, "out"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	WANT(65536, pwrite_all(in, buf, 65536, 0));
	a = 100;
	b = 5000;
	WANT(10000, copy_file_range(in, &a, out, &b, 10000, 0));
	note(o, "offsets now %lld %lld", (long long)a, (long long)b);
	FST(o, "out", out);
	data_note(o, "out", out, 0, MiB);
	a = 60000;
	b = 0;
	WANT(5536, copy_file_range(in, &a, out, &b, 10000, 0));	/* short at EOF */
	a = 65536;
	WANT(0, copy_file_range(in, &a, out, &b, 10000, 0));	/* at EOF */
	a = 0;
	b = 200000;		/* beyond the end of out: a hole before */
	WANT(4096, copy_file_range(in, &a, out, &b, 4096, 0));
	FST(o, "out", out);
	data_note(o, "out", out, 0, MiB);
	/* the file offsets move when no offsets are given */
	WANT(1000, lseek(in, 1000, SEEK_SET));
	WANT(3, lseek(out, 3, SEEK_SET));
	WANT(50, copy_file_range(in, NULL, out, NULL, 50, 0));
	note(o, "file offsets %lld %lld", (long long)lseek(in, 0, SEEK_CUR),
	     (long long)lseek(out, 0, SEEK_CUR));
	a = 0;
	b = 10;
	WANT(-EINVAL, copy_file_range(in, &a, in, &b, 100, 0));	/* overlap */
	b = 1000;
	WANT(100, copy_file_range(in, &a, in, &b, 100, 0));
	WANT(-EINVAL, copy_file_range(in, &a, out, &b, 100, 1));
	dir = open(P(o, "."), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WANT(-EISDIR, copy_file_range(dir, NULL, out, NULL, 100, 0));
	close(dir);
	/* a target made immutable after its open (fstests generic/553) */
	{
		int fl = FS_IMMUTABLE_FL;

		WANT(0, ioctl(out, FS_IOC_SETFLAGS, &fl));
		a = 0;
		WANT(-EPERM, copy_file_range(in, &a, out, NULL, 100, 0));
		fl = 0;
		WANT(0, ioctl(out, FS_IOC_SETFLAGS, &fl));
	}
	data_note(o, "in", in, 0, MiB);
	data_note(o, "out", out, 0, MiB);
	close(in);
	close(out);
	in = open(P(o, "in"), O_RDONLY | O_CLOEXEC);
	WANT(-EBADF, copy_file_range(in, NULL, in, NULL, 100, 0));
	close(in);
}

SCENARIO(fsync_dir)
{
	int d, f;

	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "d/f", "x", 1);
	d = open(P(o, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WANT(0, fsync(d));
	WANT(0, fdatasync(d));
	WANT(0, syncfs(d));
	close(d);
	d = open(P(o, "d"), O_PATH | O_CLOEXEC);
	WANT(-EBADF, fsync(d));
	close(d);
	f = open(P(o, "d/f"), O_RDONLY | O_CLOEXEC);
	WANT(0, fsync(f));
	WANT(0, fdatasync(f));
	WANT(0, sync_file_range(f, 0, 0, SYNC_FILE_RANGE_WRITE));
	close(f);
}

/* ------------------------------------------------------------------ */
/* Sparse files and big offsets                                         */

SCENARIO(sparse_and_big_offsets)
{
	char buf[4];
	int fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	WANT(3, pwrite(fd, "end", 3, MiB + 5));
	FST(o, "after write at 1M+5", fd);
	data_note(o, "content", fd, 0, 2 * MiB);
	WANT(1, pwrite(fd, "T", 1, 1LL << 40));
	FST(o, "after write at 1T", fd);
	data_note(o, "near 1T", fd, (1LL << 40) - 10, 20);
	WANT(1, pwrite(fd, "E", 1, LLONG_MAX - 1));
	FST(o, "after write at 2^63-2", fd);
	/* offset + length beyond 2^63-1 is refused before the filesystem */
	WANT(-EINVAL, pwrite(fd, "FG", 2, LLONG_MAX - 1));
	WANT(-EINVAL, pwrite(fd, "X", 1, LLONG_MAX));
	WANT(-EINVAL, pwrite(fd, "X", 1, -1));
	WANT(1, pread(fd, buf, 1, LLONG_MAX - 1));
	WANT(-EINVAL, pread(fd, buf, 4, LLONG_MAX - 1));
	WANT(LLONG_MAX, lseek(fd, 0, SEEK_END));
	WANT(-EINVAL, lseek(fd, 1, SEEK_END));
	WANT(LLONG_MAX - 1, lseek(fd, -1, SEEK_END));
	WANT(1, write(fd, "Z", 1));
	DO(write(fd, "Z", 1));		/* at 2^63-1 */
	WANT(0, ftruncate(fd, 1LL << 50));
	FST(o, "truncated to 2^50", fd);
	WANT(0, ftruncate(fd, LLONG_MAX));
	FST(o, "truncated to 2^63-1", fd);
	WANT(-EINVAL, ftruncate(fd, -1));
	WANT(0, ftruncate(fd, 100));
	FST(o, "truncated to 100", fd);
	close(fd);
	fd = open(P(o, "a"), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	WANT(2, pwrite(fd, "ab", 2, 100));	/* O_APPEND: at the end */
	WANT(2, pwrite(fd, "cd", 2, 0));
	FST(o, "append file", fd);
	close(fd);
	CONTENT(o, "a");
	CONTENT(o, "f");
}

/* ------------------------------------------------------------------ */
/* statfs and the size= / nr_inodes= limits                             */

static void statfs_note(struct obs *o, const char *what)
{
	struct statfs sf;

	if (statfs(o->root, &sf)) {
		rec(o, what, -1);
		return;
	}
	note(o, "%s: bsize %ld frsize %ld blocks %llu bfree %llu bavail %llu files %llu ffree %llu namelen %ld flags %#lx",
	     what, (long)sf.f_bsize, (long)sf.f_frsize, (unsigned long long)sf.f_blocks,
	     (unsigned long long)sf.f_bfree, (unsigned long long)sf.f_bavail,
	     (unsigned long long)sf.f_files, (unsigned long long)sf.f_ffree,
	     (long)sf.f_namelen, (unsigned long)sf.f_flags);
}

SCENARIO(statfs_defaults)
{
	statfs_note(o, "fresh");
	PUT(o, "f", o->scratch, 65536);
	WANT(0, mkdir(P(o, "d"), 0755));
	statfs_note(o, "64K and two inodes more");
}

/* fill with 4K writes until ENOSPC: how much went in */
static void fill(struct obs *o, const char *rel)
{
	char buf[4096];
	long long total = 0;
	ssize_t n;
	int fd = open(P(o, "%s", rel), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	memset(buf, 'f', sizeof(buf));
	while ((n = write(fd, buf, sizeof(buf))) > 0)
		total += n;
	note(o, "filled %s: %lld bytes, then %s", rel, total,
	     n < 0 ? ename(errno) : "a zero write");
	FST(o, rel, fd);
	close(fd);
}

static void limits(struct obs *o)
{
	struct stat st;
	int made = 0, fd;
	long v;

	statfs_note(o, "fresh");
	fill(o, "big");
	statfs_note(o, "full");
	/* a full filesystem still works */
	WANT(0, stat(P(o, "big"), &st));
	fd = open(P(o, "big"), O_WRONLY | O_CLOEXEC);
	WANT(-ENOSPC, fallocate(fd, 0, 0, 8 * MiB));
	close(fd);
	fd = open(P(o, "small"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	WANT(-ENOSPC, write(fd, "x", 1));
	close(fd);
	WANT(0, truncate(P(o, "big"), 512 * KiB));
	statfs_note(o, "after truncating to 512K");
	fill(o, "small");
	WANT(0, unlink(P(o, "big")));
	WANT(0, unlink(P(o, "small")));
	/* FUSE's RELEASE is asynchronous: ramfuse frees the data when it comes
	 * (a slow kernel sends it after the next STATFS) */
	for (long long end = now_ms() + 3000; now_ms() < end; sleep_ms(20)) {
		struct statfs sf;

		if (statfs(o->root, &sf) || sf.f_bfree == sf.f_blocks)
			break;
	}
	statfs_note(o, "empty again");

	/* inodes */
	for (;;) {
		v = mknod(P(o, "i%d", made), S_IFREG | 0644, 0);
		if (v)
			break;
		made++;
	}
	note(o, "made %d inodes, then %s", made, ename(errno));
	statfs_note(o, "no inodes left");
	WANT(-ENOSPC, mkdir(P(o, "dir"), 0755));
	WANT(-ENOSPC, symlink("x", P(o, "sym")));
	WANT(-ENOSPC, open(P(o, "new"), O_CREAT | O_WRONLY, 0644));
	WANT(-ENOSPC, open(P(o, "."), O_TMPFILE | O_WRONLY, 0644));
	DO(link(P(o, "i0"), P(o, "hardlink")));
	WANT(0, unlink(P(o, "i1")));
	WANT(0, mkdir(P(o, "dir"), 0755));
	WANT(0, stat(P(o, "dir"), &st));
	statfs_note(o, "after one more");
}

/* a tmpfs and a ramfuse both mounted with opts, the scenario run on both */
static void both_with(struct __test_metadata *_metadata, const char *opts, scenario_fn *fn)
{
	char tmp[64];
	struct ramfuse rf;

	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), opts));
	if (mount_ramfuse(&rf, opts)) {
		tmpfs_umount(tmp);
		ASSERT_EQ(0, 1) TH_LOG("%s", rf.err);
	}
	both(_metadata, tmp, rf.mnt, fn);
	/* the daemon lived through it */
	EXPECT_TRUE(is_mounted(rf.mnt));
	EXPECT_FALSE(pid_gone(rf.pid));
	tmpfs_umount(tmp);
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	EXPECT_FALSE(is_mounted(tmp));
}

TEST(limits_size_and_nr_inodes)
{
	REQUIRE_MOUNT();
	both_with(_metadata, "size=4m,nr_inodes=50", limits);
}

static void unlimited(struct obs *o)
{
	statfs_note(o, "unlimited");
}

/* size=0 and nr_inodes=0 mean "no limit": statfs reports zeros */
TEST(limits_unlimited_statfs)
{
	REQUIRE_MOUNT();
	both_with(_metadata, "size=0,nr_inodes=0", unlimited);
}

TEST_HARNESS_MAIN
