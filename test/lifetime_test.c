// SPDX-License-Identifier: MIT
/*
 * Inode lifetime: FORGET/BATCH_FORGET bring the daemon's inode count back
 * to its baseline, and one directory with 100,000 entries.
 *
 * Environment:
 *   BIG_DIR_ENTRIES=N   entries in the big directory (default 100000; the
 *                       QEMU runner passes 5000: TCG makes each create
 *                       ~1 ms, and the daemon is the same binary as here)
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

RAMFUSE_FIXTURE(life, "")

static const char *const forget_ops[] = { "op.FORGET", "op.BATCH_FORGET", NULL };

static long long refreshed(struct __test_metadata *_metadata, struct ramfuse *rf,
			   const char *name)
{
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	return stats_get(rf, name);
}

static long long forgets(struct __test_metadata *_metadata, struct ramfuse *rf)
{
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	return stats_sum(rf, forget_ops);
}

#define NFILES 1000

TEST_F(life, forget_returns_to_baseline)
{
	struct ramfuse *rf = &self->rf;
	long long base, f0, v;
	char p[300];

	ASSERT_EQ(0, drop_caches(2));
	base = refreshed(_metadata, rf, "inodes");
	ASSERT_LE(1, base);

	/* files in a small tree */
	for (int d = 0; d < 4; d++) {
		snprintf(p, sizeof(p), "%s/d%d", rf->mnt, d);
		ASSERT_EQ(0, mkdir(p, 0755));
		for (int i = 0; i < NFILES / 4; i++) {
			int fd;

			snprintf(p, sizeof(p), "%s/d%d/f%d", rf->mnt, d, i);
			fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", p, strerror(errno));
			if (i % 7 == 0) {
				EXPECT_EQ(3, write(fd, "xyz", 3));
			}
			close(fd);
		}
	}
	v = refreshed(_metadata, rf, "inodes");
	EXPECT_EQ(base + NFILES + 4, v);

	/* dropping the dentry/inode caches makes the kernel forget them,
	 * but the files exist: the inode count stays */
	f0 = forgets(_metadata, rf);
	ASSERT_EQ(0, drop_caches(2));
	/* (BATCH_FORGET carries many inodes per request) */
	for (long long end = now_ms() + 5000; now_ms() < end; sleep_ms(20))
		if (forgets(_metadata, rf) > f0)
			break;
	EXPECT_LT(f0, forgets(_metadata, rf))
		TH_LOG("FORGET %lld BATCH_FORGET %lld", stats_get(rf, "op.FORGET"),
		       stats_get(rf, "op.BATCH_FORGET"));
	EXPECT_EQ(base + NFILES + 4, refreshed(_metadata, rf, "inodes"));

	/* the files are still there after being forgotten */
	for (int d = 0; d < 4; d++) {
		for (int i = 0; i < NFILES / 4; i++) {
			struct stat st;

			snprintf(p, sizeof(p), "%s/d%d/f%d", rf->mnt, d, i);
			ASSERT_EQ(0, stat(p, &st)) TH_LOG("%s: %s", p, strerror(errno));
			ASSERT_EQ(i % 7 == 0 ? 3 : 0, st.st_size);
		}
	}

	/* delete everything: back to the baseline */
	for (int d = 0; d < 4; d++) {
		for (int i = 0; i < NFILES / 4; i++) {
			snprintf(p, sizeof(p), "%s/d%d/f%d", rf->mnt, d, i);
			ASSERT_EQ(0, unlink(p)) TH_LOG("%s: %s", p, strerror(errno));
		}
		snprintf(p, sizeof(p), "%s/d%d", rf->mnt, d);
		ASSERT_EQ(0, rmdir(p));
	}
	ASSERT_EQ(0, drop_caches(2));
	EXPECT_EQ(base, stats_wait_le(rf, "inodes", base, 5000));
	EXPECT_EQ(0, stats_wait_le(rf, "bytes", 0, 5000));
	EXPECT_LT(0, forgets(_metadata, rf));
}

TEST_F(life, create_delete_churn)
{
	struct ramfuse *rf = &self->rf;
	long long base;
	char p[300];

	base = refreshed(_metadata, rf, "inodes");
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 250; i++) {
			int fd;

			snprintf(p, sizeof(p), "%s/c%d", rf->mnt, i);
			fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", p, strerror(errno));
			close(fd);
		}
		for (int i = 0; i < 250; i++) {
			snprintf(p, sizeof(p), "%s/c%d", rf->mnt, i);
			ASSERT_EQ(0, unlink(p));
		}
	}
	ASSERT_EQ(0, drop_caches(2));
	EXPECT_EQ(base, stats_wait_le(rf, "inodes", base, 5000));
	EXPECT_LT(0, forgets(_metadata, rf));
}

#define BIG_DEFAULT 100000

/* one mount, no variants: this one is worth running once */
FIXTURE(big) {
	struct ramfuse rf;
};

FIXTURE_SETUP(big)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "threads=2")) TH_LOG("%s", self->rf.err);
}

FIXTURE_TEARDOWN(big)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

static int big_entries(void)
{
	const char *v = getenv("BIG_DIR_ENTRIES");
	char *end;
	long n;

	if (!v || !*v)
		return BIG_DEFAULT;
	errno = 0;
	n = strtol(v, &end, 10);
	return !errno && !*end && n >= 1 && n <= 10000000 ? (int)n : -1;
}

TEST_F_TIMEOUT(big, dir_entries, 240)
{
	struct ramfuse *rf = &self->rf;
	const int nents = big_entries();
	unsigned char *seen;
	char dir[256], p[300];
	long long t0 = now_ms(), base;
	struct dirent *de;
	struct stat st;
	int n = 0, dots = 0, dfd;
	DIR *d;

	ASSERT_LT(0, nents) TH_LOG("BIG_DIR_ENTRIES=%s: wants 1..10000000",
				  getenv("BIG_DIR_ENTRIES"));
	seen = calloc(nents, 1);
	ASSERT_NE(NULL, seen);
	base = refreshed(_metadata, rf, "inodes");
	snprintf(dir, sizeof(dir), "%s/big", rf->mnt);
	ASSERT_EQ(0, mkdir(dir, 0755));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dfd);
	/* mknod: a directory entry costs no open and release */
	for (int i = 0; i < nents; i++) {
		snprintf(p, sizeof(p), "file-%07d", i);
		ASSERT_EQ(0, mknodat(dfd, p, S_IFREG | 0644, 0))
			TH_LOG("%s: %s", p, strerror(errno));
	}
	TH_LOG("created %d in %lld ms", nents, now_ms() - t0);
	EXPECT_EQ(base + nents + 1, refreshed(_metadata, rf, "inodes"));
	ASSERT_EQ(0, fstat(dfd, &st));

	/* lookups, positive and negative */
	for (int i = 0; i < nents; i += nents / 100 + 1) {
		snprintf(p, sizeof(p), "file-%07d", i);
		ASSERT_EQ(0, fstatat(dfd, p, &st, 0)) TH_LOG("%s", p);
		EXPECT_TRUE(S_ISREG(st.st_mode));
	}
	snprintf(p, sizeof(p), "file-%07d", nents);
	EXPECT_EQ(-1, fstatat(dfd, p, &st, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, fstatat(dfd, "file-000001", &st, 0));
	EXPECT_EQ(ENOENT, errno);

	/* every name exactly once */
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	while ((errno = 0, de = readdir(d))) {
		int i;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			dots++;
			continue;
		}
		ASSERT_EQ(1, sscanf(de->d_name, "file-%d", &i)) TH_LOG("%s", de->d_name);
		ASSERT_TRUE(i >= 0 && i < nents) TH_LOG("%s", de->d_name);
		EXPECT_EQ(0, seen[i]) TH_LOG("%s twice", de->d_name);
		seen[i] = 1;
		n++;
	}
	EXPECT_EQ(0, errno);
	closedir(d);
	EXPECT_EQ(2, dots);
	EXPECT_EQ(nents, n);
	TH_LOG("listed after %lld ms", now_ms() - t0);

	for (int i = 0; i < nents; i++) {
		snprintf(p, sizeof(p), "file-%07d", i);
		ASSERT_EQ(0, unlinkat(dfd, p, 0)) TH_LOG("%s: %s", p, strerror(errno));
	}
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	n = 0;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	EXPECT_EQ(2, n);
	close(dfd);
	ASSERT_EQ(0, rmdir(dir));
	ASSERT_EQ(0, drop_caches(2));
	EXPECT_EQ(base, stats_wait_le(rf, "inodes", base, 5000));
	/* functionality, not timing: the time is only logged */
	TH_LOG("done in %lld ms", now_ms() - t0);
	free(seen);
}

TEST_HARNESS_MAIN
