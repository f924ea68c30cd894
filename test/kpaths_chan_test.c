// SPDX-License-Identifier: MIT
/*
 * kpaths_chan_test - the device channel:
 *   retry.*    the daemon's device reads retried: EINTR (SIGUSR2 to the
 *              daemon), EAGAIN (-o nonblock), and what happens to requests
 *              whose callers die before the daemon read them (ENOENT)
 *   chan.*     cloned device fds: requests on several fds, noclone_fd, and
 *              a refused clone (fault=CLONE:error=EINVAL) falling back
 *   limits.*   one 1 MiB WRITE; 64 parallel readers of one file
 *
 * Each test drives the kernel through paths FUSE bugs live in, on purpose
 * and repeatably, against the real ramfuse binary, and proves the path was
 * taken (stats file, fusectl, the daemon's -d log).  Variants: threads=1
 * and threads=4.
 */
#include "harness.h"
#include "fuse_util.h"
#include "kpaths.h"

#include <sys/statfs.h>

/* ================================================================== */
/* retry: the daemon's device reads                                    */

KP_FIXTURE_THREADS(retry)

/*
 * SIGUSR2 to the daemon lands on a worker blocked in read(2) of /dev/fuse
 * (the only threads that do not block it); the read fails EINTR, the worker
 * counts it and reads again.  Five signals, each waited for, then the mount
 * still works.  Blocking fds never see EAGAIN.
 *
 * Each signal is sent only once every worker sleeps in the device read:
 * a worker busy in user space (e.g. with the FORGET the kernel sends just
 * after an rmdir returns) just runs the handler and its next read is not
 * interrupted - nothing to count, and no bug.
 */
TEST_F_TIMEOUT(retry, eintr, 20)
{
	struct ramfuse *rf = &self->rf;
	long long base, v;
	char seen[512];

	ASSERT_EQ(0, kp_mount(rf, variant->threads, NULL)) TH_LOG("%s", rf->err);
	base = refreshed(_metadata, rf, "retry.EINTR");
	ASSERT_LE(0, base);
	for (int i = 1; i <= 5; i++) {
		if (!wait_workers_in_read(rf->pid, 1000, seen, sizeof(seen)))
			TH_LOG("signal %d: workers not all seen in the device read:%s", i, seen);
		ASSERT_EQ(0, kill(rf->pid, SIGUSR2));
		v = stats_wait_ge(rf, "retry.EINTR", base + i, 3000);
		ASSERT_LE(base + i, v) TH_LOG("signal %d: retry.EINTR %lld", i, v);
		still_serves(_metadata, rf, "eintr");
	}
	EXPECT_EQ(0, refreshed(_metadata, rf, "retry.EAGAIN"));
	EXPECT_EQ(0, stats_get(rf, "retry.ENOENT"));
}

/*
 * -o nonblock: reads of an empty queue fail EAGAIN and the worker waits in
 * poll(2).  Under load (a process stat()ing fast) the count grows, and
 * every call is answered.  Reads are the classic transport's: uring=off.
 */
TEST_F_TIMEOUT(retry, eagain, 20)
{
	struct ramfuse *rf = &self->rf;
	long long base, ops0, v;
	pid_t kid;

	ASSERT_EQ(0, kp_mount(rf, variant->threads,
			      "uring=off,nonblock,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
	base = refreshed(_metadata, rf, "retry.EAGAIN");
	ops0 = stats_get(rf, "op.LOOKUP");
	TH_LOG("retry.EAGAIN after start: %lld", base);
	ASSERT_LE(0, base);
	kid = fork_clean();
	ASSERT_LE(0, kid);
	if (kid == 0) {
		char p[300];
		struct stat st;

		for (int i = 0; i < 3000; i++) {
			snprintf(p, sizeof(p), "%s/n%d", rf->mnt, i % 50);
			if (stat(p, &st) == 0 || errno != ENOENT)
				_exit(1);
		}
		_exit(0);
	}
	add_kid(self->kids, kid);
	EXPECT_EQ(0, reap(self->kids, kid, 15000));
	v = refreshed(_metadata, rf, "retry.EAGAIN");
	TH_LOG("retry.EAGAIN %lld -> %lld, LOOKUPs %lld", base, v,
	       stats_get(rf, "op.LOOKUP") - ops0);
	EXPECT_LT(base, v);
	EXPECT_LE(ops0 + 3000, stats_get(rf, "op.LOOKUP"));
	EXPECT_EQ(0, stats_get(rf, "retry.ENOENT"));
	still_serves(_metadata, rf, "eagain");
}

/*
 * ENOENT on read(2): the daemon is ready to retry it ("a request aborted
 * before the daemon read it").  We try to provoke it: every worker is kept
 * busy by a delayed STATFS, 16 more callers queue STATFS requests (fusectl's
 * "waiting" proves they are queued), then all 16 are SIGKILLed.
 *
 * What the kernel does (6.1 .. 6.18): a killed caller whose request is still
 * pending takes it off the input queue itself (request_wait_answer), so the
 * daemon never sees it and read(2) never fails ENOENT: that errno can only
 * come from a request aborted while being copied, and then the connection is
 * gone and read reports ENODEV/ECONNABORTED instead.  So we assert what is
 * observable: the killed callers die at once, none of their requests
 * reaches the daemon (op.STATFS counts only the busy ones), retry.ENOENT
 * stays 0, and the next STATFS is served.  About the classic transport's
 * input queue and reads: uring=off (uring_test has the ring's case).
 */
TEST_F_TIMEOUT(retry, enoent_killed_pending, 20)
{
	struct ramfuse *rf = &self->rf;
	int n = variant->threads, waiting_ok = 0;
	pid_t busy[4], queued[16];
	char opts[128], dir[128], why[256], wpath[160];
	struct statfs sfs;
	long long w, t_busy;

	/* the delay must outlast queueing and killing 16 callers: ~30 ms
	 * under TCG alone (logged below), over 600 ms with a second binary
	 * running beside this one in the VM */
	snprintf(opts, sizeof(opts), "uring=off,fault=STATFS:delay=2000:count=%d", n);
	ASSERT_EQ(0, kp_mount(rf, n, opts)) TH_LOG("%s", rf->err);
	if (conn_dir(rf, &self->fusectl_ours, dir, sizeof(dir), why, sizeof(why)) == 0) {
		snprintf(wpath, sizeof(wpath), "%s/waiting", dir);
		waiting_ok = read_num(wpath) >= 0;
	} else {
		TH_LOG("no fusectl (%s): queueing not proven by 'waiting'", why);
	}
	for (int i = 0; i < n; i++) {
		busy[i] = start_kid(self->kids, KID_STATFS, rf->mnt);
		ASSERT_LT(0, busy[i]);
	}
	ASSERT_LE(n, stats_wait_ge(rf, "op.STATFS", n, 3000))
		TH_LOG("the workers did not all get a STATFS");
	t_busy = now_ms();
	for (int i = 0; i < 16; i++) {
		queued[i] = start_kid(self->kids, KID_STATFS, rf->mnt);
		ASSERT_LT(0, queued[i]);
	}
	if (waiting_ok) {
		long long end = now_ms() + 3000;

		while ((w = read_num(wpath)) < n + 16 && now_ms() < end)
			sleep_ms(5);
		ASSERT_EQ(n + 16, w) TH_LOG("fusectl waiting %lld", w);
	} else {
		for (int i = 0; i < 16; i++)
			wait_sleeping(queued[i], 2000);
		sleep_ms(200);
	}
	for (int i = 0; i < 16; i++)
		kill(queued[i], SIGKILL);
	for (int i = 0; i < 16; i++) {
		EXPECT_EQ(128 + SIGKILL, reap(self->kids, queued[i], 1000))
			TH_LOG("queued caller %d did not die at once", i);
	}
	if (waiting_ok) {
		w = read_num(wpath);
		EXPECT_EQ(n, w) TH_LOG("fusectl waiting %lld after the kills", w);
	}
	TH_LOG("16 callers queued and killed %lld ms after the workers got busy",
	       now_ms() - t_busy);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(0, reap(self->kids, busy[i], 6000));
	}
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_EQ(n, stats_get(rf, "op.STATFS")) TH_LOG("a killed caller's request was delivered");
	EXPECT_EQ(n, stats_get(rf, "fault.hits"));
	EXPECT_EQ(0, stats_get(rf, "retry.ENOENT"));
	EXPECT_EQ(0, stats_get(rf, "reply.enoent"));
	EXPECT_EQ(0, statfs(rf->mnt, &sfs));
	EXPECT_EQ(n + 1, refreshed(_metadata, rf, "op.STATFS"));
}

/* ================================================================== */
/* chan: cloned device fds                                             */

KP_FIXTURE(chan)

/* threads=4 under 8 processes of load: requests come in on several
 * cloned fds (the classic transport's: uring=off) */
TEST_F_TIMEOUT(chan, cloned_parallel, 20)
{
	struct ramfuse *rf = &self->rf;
	struct stat_load load = { .n = 0 };
	int busy;

	ASSERT_EQ(0, kp_mount(rf, 4, "uring=off,entry_timeout=0,attr_timeout=0")) TH_LOG("%s", rf->err);
	EXPECT_EQ(1, stats_get(rf, "clone"));
	/* load until all four fds served requests (3 s at most) */
	ASSERT_EQ(0, stat_load_start(&load, rf->mnt, 8, 10000));
	busy = stats_wait_fds(rf, 4, 1, 3000);
	EXPECT_EQ(0, stat_load_stop(&load));
	TH_LOG("fd.0..3: %lld %lld %lld %lld", stats_get(rf, "fd.0"), stats_get(rf, "fd.1"),
	       stats_get(rf, "fd.2"), stats_get(rf, "fd.3"));
	EXPECT_LE(2, busy);
	EXPECT_EQ(1, stats_get(rf, "clone"));
}

TEST_F_TIMEOUT(chan, noclone, 20)
{
	struct ramfuse *rf = &self->rf;
	struct stat_load load = { .n = 0 };

	ASSERT_EQ(0, kp_mount(rf, 4, "noclone_fd,entry_timeout=0")) TH_LOG("%s", rf->err);
	EXPECT_EQ(0, stats_get(rf, "clone"));
	EXPECT_EQ(4, stats_get(rf, "workers"));
	ASSERT_EQ(0, stat_load_start(&load, rf->mnt, 4, 10000));
	EXPECT_LE(200, stats_wait_ge(rf, "op.LOOKUP", 200, 5000));
	EXPECT_EQ(0, stat_load_stop(&load));
	still_serves(_metadata, rf, "noclone");
	EXPECT_EQ(0, refreshed(_metadata, rf, "clone"));
}

/* the distinct "fd N" of the -d log's request lines */
static int log_fds(const struct ramfuse *rf, int *fds, int max)
{
	FILE *f = fopen(rf->log, "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, ": fd ");
		int fd, k;

		if (!p || sscanf(p, ": fd %d unique", &fd) != 1)
			continue;
		for (k = 0; k < n && fds[k] != fd; k++)
			;
		if (k == n && n < max)
			fds[n++] = fd;
	}
	fclose(f);
	return n;
}

/*
 * A refused FUSE_DEV_IOC_CLONE (simulated: fault=CLONE:error=EINVAL) makes
 * the workers share the mount's fd: "clone 0", the -d log names the
 * failure and every request line carries the same fd; the mount serves.
 * The same under -d without the fault shows several fds.
 */
TEST_F_TIMEOUT(chan, clone_refused_falls_back, 20)
{
	struct ramfuse *rf = &self->rf;
	struct stat_load load = { .n = 0 };
	char log[65536];
	int fds[8], n, busy;

	ASSERT_EQ(0, kp_mount_fg(rf, "-d", 2, "uring=off,fault=CLONE:error=EINVAL,entry_timeout=0"))
		TH_LOG("%s", rf->err);
	EXPECT_EQ(0, stats_get(rf, "clone"));
	EXPECT_EQ(2, stats_get(rf, "workers"));
	ASSERT_EQ(0, stat_load_start(&load, rf->mnt, 4, 10000));
	EXPECT_LE(200, stats_wait_ge(rf, "op.LOOKUP", 200, 5000));
	EXPECT_EQ(0, stat_load_stop(&load));
	still_serves(_metadata, rf, "clonefault");
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_EQ(0, stats_get(rf, "clone"));
	EXPECT_LT(0, stats_get(rf, "fd.0") + stats_get(rf, "fd.1"));
	rf_log(rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "FUSE_DEV_IOC_CLONE: Invalid argument"))
		TH_LOG("log: %.400s", log);
	n = log_fds(rf, fds, 8);
	EXPECT_EQ(1, n) TH_LOG("requests on %d distinct fds", n);
	EXPECT_EQ(0, rf_cleanup(rf)) TH_LOG("%s", rf->err);

	/* and the control: cloned fds show up as different numbers */
	ASSERT_EQ(0, kp_mount_fg(rf, "-d", 2, "uring=off,entry_timeout=0")) TH_LOG("%s", rf->err);
	EXPECT_EQ(1, stats_get(rf, "clone"));
	ASSERT_EQ(0, stat_load_start(&load, rf->mnt, 4, 10000));
	busy = stats_wait_fds(rf, 2, 1, 3000);
	EXPECT_EQ(0, stat_load_stop(&load));
	if (busy == 2) {
		n = log_fds(rf, fds, 8);
		EXPECT_EQ(2, n) TH_LOG("requests on %d distinct fds", n);
	} else {
		TH_LOG("one worker took all requests: fd numbers not compared");
	}
}

/* ================================================================== */
/* limits of the channel                                               */

KP_FIXTURE_THREADS(limits)

#define MIB (1 << 20)

/* One 1 MiB write(2) of an aligned buffer: one WRITE of 1 MiB (max_write
 * and max_pages = 256 negotiated), with O_DIRECT and through the cache. */
TEST_F_TIMEOUT(limits, write_1mib_one_request, 20)
{
	struct ramfuse *rf = &self->rf;
	unsigned char *buf = NULL;
	long long w0;
	char p[300];
	int fd;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "passthrough=off")) TH_LOG("%s", rf->err);
	/* 256 pages in one request need FUSE_MAX_PAGES (7.28) */
	if (!(stats_get_u64(rf, "flags", NULL) & (1ULL << 22))) {
		char proto[32];

		stats_get_str(rf, "proto", proto, sizeof(proto));
		SKIP(return, "FUSE_MAX_PAGES not negotiated (proto %s)", proto);
	}
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, MIB));
	pattern_fill(buf, MIB, 0, 9);
	for (int direct = 1; direct >= 0; direct--) {
		snprintf(p, sizeof(p), "%s/big%d", rf->mnt, direct);
		fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC | (direct ? O_DIRECT : 0), 0644);
		ASSERT_LE(0, fd) TH_LOG("open%s: %s", direct ? " O_DIRECT" : "",
					strerror(errno));
		w0 = refreshed(_metadata, rf, "op.WRITE");
		EXPECT_EQ(MIB, pwrite(fd, buf, MIB, 0)) TH_LOG("%s", strerror(errno));
		close(fd);
		ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
		EXPECT_EQ(MIB, stats_get(rf, "write.max"));
		EXPECT_EQ(w0 + 1, stats_get(rf, "op.WRITE"))
			TH_LOG("%s: %lld WRITEs for one 1 MiB write(2)",
			       direct ? "O_DIRECT" : "buffered",
			       stats_get(rf, "op.WRITE") - w0);
	}
	/* the data arrived whole */
	{
		unsigned char *back = malloc(MIB);

		ASSERT_NE(NULL, back);
		for (int k = 0; k < 2; k++) {
			snprintf(p, sizeof(p), "%s/big%d", rf->mnt, k);
			fd = open(p, O_RDONLY | O_CLOEXEC);
			ASSERT_LE(0, fd);
			EXPECT_EQ(MIB, pread_all(fd, back, MIB, 0));
			EXPECT_EQ(-1, pattern_check(back, MIB, 0, 9));
			close(fd);
		}
		free(back);
	}
	free(buf);
}

/*
 * 64 processes read one 4 MiB file at once, 1 MiB each in 64 KiB pieces
 * (passthrough=off; odd ones with O_DIRECT, which goes out as background
 * requests, even ones through the page cache).  All finish, with the
 * right data, within the time limit: no deadlock between the kernel's
 * background limit and the workers.
 */
TEST_F_TIMEOUT(limits, readers64, 20)
{
	struct ramfuse *rf = &self->rf;
	long long r0, end;
	char p[300];
	int failed = 0, left = 64;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "passthrough=off")) TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/shared", rf->mnt);
	make_file(_metadata, p, 4 * MIB, 11);
	ASSERT_EQ(0, drop_caches(1));
	r0 = refreshed(_metadata, rf, "op.READ");
	for (int i = 0; i < 64; i++) {
		pid_t kid = fork_clean();

		ASSERT_LE(0, kid);
		if (kid == 0) {
			unsigned char *buf = NULL;
			int fd = open(p, O_RDONLY | (i & 1 ? O_DIRECT : 0));

			if (fd < 0 || posix_memalign((void **)&buf, 4096, 65536))
				_exit(2);
			for (int k = 0; k < 16; k++) {
				off_t off = (off_t)((4 * k + i) % 64) * 65536;

				if (pread_all(fd, buf, 65536, off) != 65536)
					_exit(3);
				if (pattern_check(buf, 65536, (unsigned long long)off, 11) != -1)
					_exit(4);
			}
			_exit(0);
		}
		add_kid(self->kids, kid);
	}
	end = now_ms() + 15000;
	while (left && now_ms() < end) {
		int status;
		pid_t w = waitpid(-1, &status, WNOHANG);

		if (w > 0) {
			forget_kid(self->kids, w);
			left--;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				failed++;
		} else {
			sleep_ms(5);
		}
	}
	ASSERT_EQ(0, left) TH_LOG("%d readers still blocked after 15 s", left);
	EXPECT_EQ(0, failed);
	EXPECT_LE(r0 + 32, refreshed(_metadata, rf, "op.READ"));
	still_serves(_metadata, rf, "readers");
}

TEST_HARNESS_MAIN
