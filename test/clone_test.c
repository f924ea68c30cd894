// SPDX-License-Identifier: MIT
/*
 * Worker threads and cloned /dev/fuse descriptors: with threads=2 both
 * workers take requests from their own cloned fd; with noclone_fd they share
 * one descriptor.  These are facts of the classic transport (requests read
 * from /dev/fuse fds), so every mount here says uring=off, also under
 * make check-uring.
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

FIXTURE(clone) {
	struct ramfuse rf;
	struct stat_load load;
};

FIXTURE_SETUP(clone)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(clone)
{
	stat_load_stop(&self->load);
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

TEST_F(clone, threads2_cloned)
{
	struct ramfuse *rf = &self->rf;
	long long fd0, fd1;

	ASSERT_EQ(0, mount_ramfuse(rf, "uring=off,threads=2,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
	EXPECT_EQ(2, stats_get(rf, "workers"));
	EXPECT_EQ(1, stats_get(rf, "clone"));
	/* load until both fds have served requests (5 s at most) */
	ASSERT_EQ(0, stat_load_start(&self->load, rf->mnt, 4, 10000));
	stats_wait_fds(rf, 2, 10, 5000);
	EXPECT_EQ(0, stat_load_stop(&self->load));
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	fd0 = stats_get(rf, "fd.0");
	fd1 = stats_get(rf, "fd.1");
	TH_LOG("fd.0 %lld fd.1 %lld", fd0, fd1);
	EXPECT_LT(0, fd0);
	EXPECT_LT(0, fd1);
	EXPECT_EQ(-1, stats_get(rf, "fd.2"));
	EXPECT_EQ(1, stats_get(rf, "clone"));
}

TEST_F(clone, threads4_all_busy)
{
	struct ramfuse *rf = &self->rf;
	char name[16];

	ASSERT_EQ(0, mount_ramfuse(rf, "uring=off,threads=4,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
	EXPECT_EQ(4, stats_get(rf, "workers"));
	EXPECT_EQ(1, stats_get(rf, "clone"));
	ASSERT_EQ(0, stat_load_start(&self->load, rf->mnt, 8, 10000));
	stats_wait_fds(rf, 4, 10, 5000);
	EXPECT_EQ(0, stat_load_stop(&self->load));
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "fd.%d", i);
		EXPECT_LT(0, stats_get(rf, name)) TH_LOG("%s idle", name);
	}
	EXPECT_EQ(-1, stats_get(rf, "fd.4"));
}

TEST_F(clone, noclone_shared_fd)
{
	struct ramfuse *rf = &self->rf;
	long long fd0, fd1;

	ASSERT_EQ(0, mount_ramfuse(rf, "uring=off,threads=2,noclone_fd,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
	EXPECT_EQ(0, stats_get(rf, "clone"));
	EXPECT_EQ(2, stats_get(rf, "workers"));
	ASSERT_EQ(0, stat_load_start(&self->load, rf->mnt, 4, 10000));
	stats_wait_ge(rf, "op.LOOKUP", 1001, 5000);
	EXPECT_EQ(0, stat_load_stop(&self->load));
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_EQ(0, stats_get(rf, "clone"));
	fd0 = stats_get(rf, "fd.0");
	fd1 = stats_get(rf, "fd.1");
	TH_LOG("noclone: fd.0 %lld fd.1 %lld", fd0, fd1);
	/* fd.I counts requests read by worker I, whatever fd it reads */
	EXPECT_LE(0, fd0);
	EXPECT_LE(0, fd1);
	EXPECT_LT(1000, fd0 + fd1);
}

/* SIGUSR1 is never lost, also while the workers are busy */
TEST_F(clone, stats_refresh_under_load)
{
	struct ramfuse *rf = &self->rf;
	long long seq;

	ASSERT_EQ(0, mount_ramfuse(rf, "uring=off,threads=2,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
	ASSERT_EQ(0, stat_load_start(&self->load, rf->mnt, 4, 30000));
	seq = stats_get(rf, "seq");
	for (int i = 0; i < 100; i++) {
		ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("refresh %d: %s", i, rf->err);
		ASSERT_LT(seq, stats_get(rf, "seq"));
		seq = stats_get(rf, "seq");
	}
	EXPECT_EQ(0, stat_load_stop(&self->load));
}

TEST_F(clone, threads1_single)
{
	struct ramfuse *rf = &self->rf;

	ASSERT_EQ(0, mount_ramfuse(rf, "uring=off,threads=1,entry_timeout=0"))
		TH_LOG("%s", rf->err);
	EXPECT_EQ(1, stats_get(rf, "workers"));
	ASSERT_EQ(0, stat_load_start(&self->load, rf->mnt, 2, 10000));
	stats_wait_ge(rf, "op.LOOKUP", 100, 5000);
	EXPECT_EQ(0, stat_load_stop(&self->load));
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_LT(0, stats_get(rf, "fd.0"));
	EXPECT_EQ(-1, stats_get(rf, "fd.1"));
}

TEST_F(clone, default_threads_online_cpus)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "uring=off")) TH_LOG("%s", self->rf.err);
	if (cpus > 256)
		cpus = 256;
	EXPECT_EQ(cpus, stats_get(&self->rf, "workers"));
}

TEST_F(clone, threads256)
{
	char p[256];
	struct stat st;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "uring=off,threads=256")) TH_LOG("%s", self->rf.err);
	EXPECT_EQ(256, stats_get(&self->rf, "workers"));
	EXPECT_LE(0, stats_get(&self->rf, "fd.255"));
	snprintf(p, sizeof(p), "%s/x", self->rf.mnt);
	EXPECT_EQ(-1, stat(p, &st));
}

TEST_HARNESS_MAIN
