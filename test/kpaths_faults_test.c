// SPDX-License-Identifier: MIT
/*
 * kpaths_faults_test - replies the kernel refuses (-o fault=): bad unique,
 * short, twice; an error for one name; a READ never answered
 *
 * Each test drives the kernel through paths FUSE bugs live in, on purpose
 * and repeatably, against the real ramfuse binary, and proves the path was
 * taken (stats file, fusectl, the daemon's -d log).  Variants: threads=1
 * and threads=4.
 */
#include "harness.h"
#include "fuse_util.h"
#include "kpaths.h"


/* ================================================================== */
/* faults: replies the kernel refuses                                  */

KP_FIXTURE_THREADS(faults)

/* a reply to an unknown unique first: refused (ENOENT, counted as
 * reply.error), then the right one: the stat succeeds */
TEST_F_TIMEOUT(faults, badunique, 20)
{
	struct ramfuse *rf = &self->rf;
	long long e0, g0;
	struct stat st;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "attr_timeout=0,fault=GETATTR:badunique"))
		TH_LOG("%s", rf->err);
	e0 = refreshed(_metadata, rf, "reply.error");
	g0 = stats_get(rf, "op.GETATTR");
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, stat(rf->mnt, &st)) TH_LOG("stat: %s", strerror(errno));
	}
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_LT(g0, stats_get(rf, "op.GETATTR"));
	EXPECT_EQ(stats_get(rf, "op.GETATTR") - g0, stats_get(rf, "reply.error") - e0);
	EXPECT_LE(1, stats_get(rf, "fault.hits"));
	still_serves(_metadata, rf, "badunique");
}

/* an OPEN reply one byte short: the writer gets EINVAL (reply.error), the
 * caller EIO */
TEST_F_TIMEOUT(faults, open_short, 20)
{
	struct ramfuse *rf = &self->rf;
	char p[300];
	long long e0;
	int fd;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "fault=OPEN:short")) TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/f", rf->mnt);
	make_file(_metadata, p, 100, 1);	/* CREATE, not OPEN */
	e0 = refreshed(_metadata, rf, "reply.error");
	errno = 0;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	EXPECT_EQ(-1, fd);
	if (fd >= 0)
		close(fd);
	if (rf_on_ring(rf)) {
		/* the ring's commit carries no length check of its own: the
		 * kernel ends the request with the copy's EINVAL and tells
		 * the daemon nothing */
		EXPECT_EQ(EINVAL, errno) TH_LOG("open with a short reply: %s", strerror(errno));
		ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	} else {
		EXPECT_EQ(EIO, errno) TH_LOG("open with a short reply: %s", strerror(errno));
		/* counted after the refused write returns: maybe after the caller */
		EXPECT_EQ(e0 + 1, stats_wait_ge(rf, "reply.error", e0 + 1, 2000));
	}
	EXPECT_EQ(1, stats_get(rf, "op.OPEN"));
	still_serves(_metadata, rf, "short");
}

/*
 * After an OPEN whose reply the kernel refused, the kernel holds no open
 * file: it never sends RELEASE for it.  The daemon must undo that open
 * itself (as libfuse does when a reply fails), or the file can never be
 * freed: unlink it, let the kernel forget it - "inodes" must come back to
 * the baseline (and, with passthrough, backing ids be closed).
 */
TEST_F_TIMEOUT(faults, open_refused_not_leaked, 20)
{
	struct ramfuse *rf = &self->rf;
	char p[300];
	long long base, v;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "fault=OPEN:short")) TH_LOG("%s", rf->err);
	if (rf_on_ring(rf))
		SKIP(return, "over io_uring the kernel does not tell the daemon that it "
		     "refused a reply: the open cannot be undone");
	ASSERT_EQ(0, drop_caches(2));
	base = refreshed(_metadata, rf, "inodes");
	snprintf(p, sizeof(p), "%s/f", rf->mnt);
	make_file(_metadata, p, 100, 1);
	EXPECT_EQ(-1, open(p, O_RDONLY | O_CLOEXEC));
	ASSERT_EQ(0, unlink(p));
	ASSERT_EQ(0, drop_caches(2));
	v = stats_wait_le(rf, "inodes", base, 3000);
	EXPECT_EQ(base, v) TH_LOG("unlinked file still held after a refused OPEN reply "
				  "(inodes %lld, baseline %lld)", v, base);
	EXPECT_EQ(stats_get(rf, "backing.open"), stats_get(rf, "backing.close"));
}

/* MKDIR answered twice: the second reply is refused, the directory exists
 * once and behaves */
TEST_F_TIMEOUT(faults, mkdir_twice, 20)
{
	struct ramfuse *rf = &self->rf;
	char p[300], q[320];
	long long e0, i0, m0;
	struct stat st;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "fault=MKDIR:twice")) TH_LOG("%s", rf->err);
	e0 = refreshed(_metadata, rf, "reply.error");
	i0 = stats_get(rf, "inodes");
	m0 = stats_get(rf, "op.MKDIR");
	snprintf(p, sizeof(p), "%s/d", rf->mnt);
	ASSERT_EQ(0, mkdir(p, 0750)) TH_LOG("%s", strerror(errno));
	/* the second reply goes out after the first has woken the caller */
	EXPECT_EQ(e0 + 1, stats_wait_ge(rf, "reply.error", e0 + 1, 2000));
	EXPECT_EQ(i0 + 1, stats_get(rf, "inodes"));
	ASSERT_EQ(0, stat(p, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0750, st.st_mode & 07777);
	EXPECT_EQ(2, st.st_nlink);
	ASSERT_EQ(0, stat(rf->mnt, &st));
	EXPECT_EQ(3, st.st_nlink);
	errno = 0;
	EXPECT_EQ(-1, mkdir(p, 0750));
	EXPECT_EQ(EEXIST, errno);
	snprintf(q, sizeof(q), "%s/sub", p);
	EXPECT_EQ(0, mkdir(q, 0755));
	EXPECT_EQ(0, rmdir(q));
	EXPECT_EQ(0, rmdir(p));
	/* every MKDIR sent (the EEXIST one is decided by the kernel's
	 * dentry, not sent) had its second reply refused */
	EXPECT_EQ(e0 + 2, stats_wait_ge(rf, "reply.error", e0 + 2, 2000));
	EXPECT_EQ(2, stats_get(rf, "op.MKDIR") - m0);
}

/* LOOKUP of one name fails EIO; other names are untouched */
TEST_F_TIMEOUT(faults, lookup_error_by_name, 20)
{
	struct ramfuse *rf = &self->rf;
	char p[300];
	struct stat st;
	int fd;

	ASSERT_EQ(0, kp_mount(rf, variant->threads,
			      "entry_timeout=0,fault=LOOKUP:error=EIO:name=bad"))
		TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/good", rf->mnt);
	make_file(_metadata, p, 10, 2);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/bad", rf->mnt);
		errno = 0;
		EXPECT_EQ(-1, stat(p, &st));
		EXPECT_EQ(EIO, errno);
		errno = 0;
		fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(EIO, errno) TH_LOG("create of 'bad': %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		snprintf(p, sizeof(p), "%s/good", rf->mnt);
		EXPECT_EQ(0, stat(p, &st));
		EXPECT_EQ(10, st.st_size);
		snprintf(p, sizeof(p), "%s/missing", rf->mnt);
		errno = 0;
		EXPECT_EQ(-1, stat(p, &st));
		EXPECT_EQ(ENOENT, errno);
	}
	EXPECT_LE(6, refreshed(_metadata, rf, "fault.hits"));
	still_serves(_metadata, rf, "lookup");
}

/*
 * A READ that is never answered (passthrough=off so reads reach the daemon;
 * drop caches so the first read is not served from the page cache).  The
 * kernel reads ahead with an asynchronous READ and the caller waits on the
 * page lock: still blocked half a second later; a handled signal does not free
 * it (that wait is only killable - logged, not asserted); SIGKILL does.
 * The connection keeps serving everything else.  (The unanswered READ and
 * its locked page stay until the connection ends: the unmount in the
 * teardown aborts the connection first, which unlocks it.)
 */
TEST_F_TIMEOUT(faults, read_dropped, 20)
{
	struct ramfuse *rf = &self->rf;
	char p[300], q[300];
	pid_t kid;
	int rc;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "passthrough=off,fault=READ:drop:count=1"))
		TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/stuck", rf->mnt);
	make_file(_metadata, p, 65536, 3);
	snprintf(q, sizeof(q), "%s/other", rf->mnt);
	make_file(_metadata, q, 65536, 4);
	ASSERT_EQ(0, drop_caches(1));
	kid = start_kid(self->kids, KID_READ, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "fault.hits", 1, 3000)) TH_LOG("no READ dropped");
	sleep_ms(500);
	ASSERT_TRUE(kid_running(kid)) TH_LOG("read returned without an answer");
	kill(kid, SIGUSR1);
	sleep_ms(200);
	if (kid_running(kid)) {
		TH_LOG("handled signal: the reader stays blocked (killable wait)");
		kill(kid, SIGKILL);
		rc = reap(self->kids, kid, 3000);
		if (rc == -1) {
			/* not even killable: free it by ending the daemon */
			kill(rf->pid, SIGKILL);
			rc = reap(self->kids, kid, 3000);
			ASSERT_EQ(128 + SIGKILL, rc);
			ASSERT_TRUE(false) TH_LOG("SIGKILL did not free a reader of a dropped READ");
		}
		EXPECT_EQ(128 + SIGKILL, rc);
	} else {
		rc = reap(self->kids, kid, 1000);
		TH_LOG("handled signal ended the read: %s", rc > 0 ? strerror(rc) : "0");
		EXPECT_EQ(EINTR, rc);
	}
	/* the connection survives: other files read fine */
	{
		unsigned char buf[4096];
		int fd = open(q, O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, fd);
		EXPECT_EQ(4096, pread_all(fd, buf, 4096, 0));
		EXPECT_EQ(-1, pattern_check(buf, 4096, 0, 4));
		close(fd);
	}
	still_serves(_metadata, rf, "drop");
	EXPECT_EQ(1, refreshed(_metadata, rf, "fault.hits"));
}

TEST_HARNESS_MAIN
