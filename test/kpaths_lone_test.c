// SPDX-License-Identifier: MIT
/*
 * kpaths_lone_test - FUSE_INTERRUPT when the daemon has one worker
 * (threads=1) and that worker sleeps in a delay fault: the kernel must
 * still deliver the INTERRUPT of every request the daemon has read, and
 * ramfuse's lone worker reads on during its delay to see them.
 *
 *   lone.interrupts   MKDIR "a" delayed; the LOOKUP of mkdir "d/b" and a
 *                     STATFS read during the delay (queued by the worker,
 *                     -d says so); a
 *                     signal to b's caller ends b with EINTR while a still
 *                     sleeps; a signal to a's caller ends a with EINTR
 *                     long before its delay; then the STATFS is served.
 *                     Neither directory exists.
 */
#include "harness.h"
#include "fuse_util.h"
#include "kpaths.h"

#define DELAY_MS 8000
#define WAIT_MS 3000

KP_FIXTURE(lone)

/* wait (bounded) until the daemon's -d log holds what */
static bool log_has(const struct ramfuse *rf, const char *what, int ms)
{
	static char log[1 << 16];
	long long end = now_ms() + ms;

	do {
		rf_log(rf, log, sizeof(log));
		if (strstr(log, what))
			return true;
		sleep_ms(20);
	} while (now_ms() < end);
	return false;
}

TEST_F_TIMEOUT(lone, interrupts, 30)
{
	struct ramfuse *rf = &self->rf;
	char opts[128], a[300], b[300];
	long long t0, took;
	struct stat st;
	pid_t ka, kb, kc;
	int rc;

	/* the lone worker is the classic transport's: uring=off */
	snprintf(opts, sizeof(opts), "uring=off,fault=MKDIR:delay=%d:name=a", DELAY_MS);
	ASSERT_EQ(0, kp_mount_fg(rf, "-d", 1, opts)) TH_LOG("%s", rf->err);
	snprintf(a, sizeof(a), "%s/a", rf->mnt);
	/*
	 * b in another directory: a's MKDIR holds the lock of its parent.
	 * d's dentry must stay cached: a drop_caches beside us (run-tests -j)
	 * would make mkdir d/b look d up under that lock, and b's LOOKUP
	 * would never be sent.
	 */
	caches_keep();
	snprintf(b, sizeof(b), "%s/d", rf->mnt);
	ASSERT_EQ(0, mkdir(b, 0755));
	snprintf(b, sizeof(b), "%s/d/b", rf->mnt);
	ka = start_kid(self->kids, KID_MKDIR, a);
	ASSERT_LT(0, ka);
	ASSERT_LE(2, stats_wait_ge(rf, "op.MKDIR", 2, WAIT_MS)) TH_LOG("MKDIR a never arrived");
	kb = start_kid(self->kids, KID_MKDIR, b);
	ASSERT_LT(0, kb);
	/* mkdir d/b starts with LOOKUP b, which the worker reads and keeps */
	ASSERT_TRUE(log_has(rf, "LOOKUP read during a delay", WAIT_MS))
		TH_LOG("the lone worker did not read b's LOOKUP during its delay");
	kc = start_kid(self->kids, KID_STATFS, rf->mnt);
	ASSERT_LT(0, kc);
	ASSERT_TRUE(log_has(rf, "STATFS read during a delay", WAIT_MS));

	/* b was read, not served: its INTERRUPT answers it while a sleeps */
	t0 = now_ms();
	ASSERT_EQ(0, kill(kb, SIGUSR1));
	rc = reap(self->kids, kb, WAIT_MS);
	took = now_ms() - t0;
	ASSERT_NE(-1, rc) TH_LOG("b's caller still blocked %lld ms after the signal", took);
	EXPECT_EQ(EINTR, rc) TH_LOG("mkdir b: %s", strerror(rc));
	EXPECT_TRUE(kid_running(ka)) TH_LOG("a ended before its delay or signal");

	t0 = now_ms();
	ASSERT_EQ(0, kill(ka, SIGUSR1));
	rc = reap(self->kids, ka, WAIT_MS);
	took = now_ms() - t0;
	ASSERT_NE(-1, rc) TH_LOG("a's caller still blocked %lld ms after the signal", took);
	EXPECT_EQ(EINTR, rc) TH_LOG("mkdir a: %s", strerror(rc));
	EXPECT_GT(DELAY_MS / 2, took);

	rc = reap(self->kids, kc, WAIT_MS);
	EXPECT_EQ(0, rc) TH_LOG("the STATFS read during the delay: %s",
				rc < 0 ? "never answered" : strerror(rc));
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	TH_LOG("op.INTERRUPT %lld, interrupt.found %lld, reply.enoent %lld",
	       stats_get(rf, "op.INTERRUPT"), stats_get(rf, "interrupt.found"),
	       stats_get(rf, "reply.enoent"));
	EXPECT_LE(2, stats_get(rf, "op.INTERRUPT"));
	EXPECT_LE(2, stats_get(rf, "interrupt.found"));
	EXPECT_EQ(0, stats_get(rf, "reply.enoent"));
	errno = 0;
	EXPECT_EQ(-1, stat(a, &st));
	EXPECT_EQ(-1, stat(b, &st)) TH_LOG("an interrupted mkdir left its directory");
	still_serves(_metadata, rf, "lone");
}

TEST_HARNESS_MAIN
