// SPDX-License-Identifier: MIT
/*
 * kpaths_test - drive the kernel through the paths FUSE bugs live in, on
 * purpose and repeatably, against the real ramfuse binary; every test
 * proves the path was taken (stats file, fusectl, the daemon's -d log).
 *
 *   retry.*    the daemon's device reads retried: EINTR (SIGUSR2 to the
 *              daemon), EAGAIN (-o nonblock), and what happens to requests
 *              whose callers die before the daemon read them (ENOENT)
 *   chan.*     cloned device fds: requests on several fds, noclone_fd, and
 *              a refused clone (fault=CLONE:error=EINVAL) falling back
 *   intr.*     FUSE_INTERRUPT: handled signals and SIGKILL of callers
 *              blocked in a delayed request
 *   conn.*     fusectl abort, daemon death, lazy unmount while busy (and
 *              FORGET on the detached mount)
 *   faults.*   replies the kernel refuses: bad unique, short, twice; an
 *              error for one name; a READ never answered
 *   limits.*   one 1 MiB WRITE; 64 parallel readers of one file
 *
 * Variants: threads=1 and threads=4 (conn: threads=1 passthrough=off,
 * threads=4 passthrough=auto).
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define NKIDS 72

/* everything a test may leave behind, as plain data */
#define KP_DATA			\
	struct ramfuse rf;	\
	pid_t kids[NKIDS];	\
	int fusectl_ours

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static void on_signal(int sig)
{
	(void)sig;
}

/* in a child: a handler without SA_RESTART, so blocked calls may EINTR */
static void catch_signal(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int add_kid(pid_t *kids, pid_t pid)
{
	for (int i = 0; i < NKIDS; i++)
		if (!kids[i]) {
			kids[i] = pid;
			return 0;
		}
	return -1;
}

static void forget_kid(pid_t *kids, pid_t pid)
{
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* wait (bounded) for one kid: exit code, 128+signal, or -1 on timeout */
static int reap(pid_t *kids, pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0) {
			forget_kid(kids, pid);
			return -1;
		}
		if (now_ms() >= end)
			return -1;
		sleep_ms(2);
	}
	forget_kid(kids, pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool kid_running(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

static void kill_kids(pid_t *kids, int ms)
{
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			reap(kids, kids[i], ms);
}

/* a child doing one call on path and exiting with its errno (0: done) */
enum kid_op { KID_MKDIR, KID_STATFS, KID_STAT, KID_READ };

static pid_t start_kid(pid_t *kids, enum kid_op op, const char *path)
{
	pid_t pid = fork_clean();

	if (pid == 0) {
		struct statfs sfs;
		struct stat st;
		char buf[4096];
		int fd, rc = 0;

		catch_signal(SIGUSR1);
		switch (op) {
		case KID_MKDIR:
			rc = mkdir(path, 0755);
			break;
		case KID_STATFS:
			rc = statfs(path, &sfs);
			break;
		case KID_STAT:
			rc = stat(path, &st);
			break;
		case KID_READ:
			fd = open(path, O_RDONLY);
			if (fd < 0)
				_exit(100 + errno);
			rc = pread(fd, buf, sizeof(buf), 0) < 0 ? -1 : 0;
			break;
		}
		_exit(rc ? errno : 0);
	}
	if (pid > 0)
		add_kid(kids, pid);
	return pid;
}

static void teardown(struct __test_metadata *_metadata, struct ramfuse *rf,
		     pid_t *kids, int *fusectl_ours)
{
	/* kids blocked in a request the daemon still serves die once it is
	 * answered or the connection goes: kill, unmount, reap */
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	EXPECT_EQ(0, rf_cleanup(rf)) TH_LOG("%s", rf->err);
	kill_kids(kids, 3000);
	if (*fusectl_ours) {
		if (umount2(FUSECTL, 0))
			umount2(FUSECTL, MNT_DETACH);
		*fusectl_ours = 0;
	}
}

#define KP_FIXTURE(fname)						\
	FIXTURE(fname) { KP_DATA; };					\
	FIXTURE_SETUP(fname)						\
	{								\
		char why[256];						\
									\
		if (rf_can_mount(why, sizeof(why)))			\
			SKIP(return, "%s", why);			\
	}								\
	FIXTURE_TEARDOWN(fname)						\
	{								\
		teardown(_metadata, &self->rf, self->kids,		\
			 &self->fusectl_ours);				\
	}

/* mount "threads=N[,more]" */
static int kp_mount(struct ramfuse *rf, int threads, const char *more)
{
	char o[900];

	snprintf(o, sizeof(o), "threads=%d%s%s", threads, more && *more ? "," : "",
		 more ? more : "");
	return mount_ramfuse(rf, o);
}

static int kp_mount_fg(struct ramfuse *rf, const char *flag, int threads,
		       const char *more)
{
	char o[900];

	snprintf(o, sizeof(o), "threads=%d%s%s", threads, more && *more ? "," : "",
		 more ? more : "");
	return mount_ramfuse_fg(rf, flag, o);
}

static long long refreshed(struct __test_metadata *_metadata, struct ramfuse *rf,
			   const char *name)
{
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	return stats_get(rf, name);
}

/* the connection still serves: mkdir, stat, rmdir of a fresh name */
static void still_serves(struct __test_metadata *_metadata, struct ramfuse *rf,
			 const char *tag)
{
	char p[300];
	struct stat st;

	snprintf(p, sizeof(p), "%s/alive-%s", rf->mnt, tag);
	ASSERT_EQ(0, mkdir(p, 0755)) TH_LOG("%s: mkdir: %s", tag, strerror(errno));
	ASSERT_EQ(0, stat(p, &st)) TH_LOG("%s: stat: %s", tag, strerror(errno));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(0, rmdir(p)) TH_LOG("%s: rmdir: %s", tag, strerror(errno));
}

/* a file of len pattern bytes (seed) */
static void make_file(struct __test_metadata *_metadata, const char *p,
		      size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len);
	int fd;

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, len, 0, seed);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", p, strerror(errno));
	ASSERT_EQ((ssize_t)len, pwrite_all(fd, buf, len, 0));
	close(fd);
	free(buf);
}

/* /proc/PID/stat state letter, or 0 */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* wait (bounded) until pid sleeps in the kernel */
static void wait_sleeping(pid_t pid, int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		char s = proc_state(pid);

		if (s == 'S' || s == 'D')
			break;
		sleep_ms(2);
	}
}

/*
 * Wait (bounded) until every worker of daemon pid (all threads but the
 * main one) sleeps in the FUSE device read, so that a signal now can only
 * interrupt a read.  Returns true when that was seen; otherwise (e.g. a
 * kernel whose wchan names nothing) false after ms, with the wchans seen.
 */
static bool wait_workers_in_read(pid_t pid, int ms, char *seen, size_t seenlen)
{
	long long end = now_ms() + ms;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	do {
		DIR *d = opendir(path);
		struct dirent *de;
		int workers = 0, reading = 0;
		size_t sl = 0;

		if (!d)
			return false;
		seen[0] = 0;
		while ((de = readdir(d))) {
			char wp[400], w[64];
			ssize_t n;
			int fd;

			if (de->d_name[0] == '.' || atoi(de->d_name) == (int)pid)
				continue;
			workers++;
			snprintf(wp, sizeof(wp), "%s/%s/wchan", path, de->d_name);
			fd = open(wp, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, w, sizeof(w) - 1);
			if (fd >= 0)
				close(fd);
			w[n > 0 ? n : 0] = 0;
			if (sl < seenlen)
				sl += (size_t)snprintf(seen + sl, seenlen - sl, " %s", w);
			if (strstr(w, "fuse_dev_do_read") || strstr(w, "fuse_dev_read"))
				reading++;
		}
		closedir(d);
		if (workers && reading == workers) {
			sleep_ms(5);
			return true;
		}
		sleep_ms(5);
	} while (now_ms() < end);
	return false;
}

/* ================================================================== */
/* retry: the daemon's device reads                                    */

KP_FIXTURE(retry)
FIXTURE_VARIANT(retry) { int threads; };
FIXTURE_VARIANT_ADD(retry, threads1) { .threads = 1 };
FIXTURE_VARIANT_ADD(retry, threads4) { .threads = 4 };

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
	 * under TCG (logged below) */
	snprintf(opts, sizeof(opts), "uring=off,fault=STATFS:delay=600:count=%d", n);
	ASSERT_EQ(0, kp_mount(rf, n, opts)) TH_LOG("%s", rf->err);
	if (fusectl_dir(rf, &self->fusectl_ours, dir, sizeof(dir), why, sizeof(why)) == 0) {
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
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(128 + SIGKILL, reap(self->kids, queued[i], 1000))
			TH_LOG("queued caller %d did not die at once", i);
	if (waiting_ok) {
		w = read_num(wpath);
		EXPECT_EQ(n, w) TH_LOG("fusectl waiting %lld after the kills", w);
	}
	TH_LOG("16 callers queued and killed %lld ms after the workers got busy",
	       now_ms() - t_busy);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(0, reap(self->kids, busy[i], 6000));
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

	ASSERT_EQ(0, kp_mount(rf, 4, "uring=off,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
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

	/* cloned fds are the classic transport's: uring=off */
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
/* intr: FUSE_INTERRUPT                                                */

KP_FIXTURE(intr)
FIXTURE_VARIANT(intr) { int threads; };
FIXTURE_VARIANT_ADD(intr, threads1) { .threads = 1 };
FIXTURE_VARIANT_ADD(intr, threads4) { .threads = 4 };

/*
 * A caller blocked in a delayed MKDIR gets a handled signal (no
 * SA_RESTART).  The kernel sends FUSE_INTERRUPT and keeps waiting for the
 * answer.
 *  threads=4: another worker reads the INTERRUPT, finds the request
 *    (interrupt.found) and wakes its worker, which answers EINTR without
 *    doing anything: the caller gets EINTR long before the delay is over,
 *    and the directory does not exist.
 *  threads=1: the only worker sleeps in the delay, nobody reads the
 *    INTERRUPT; when the MKDIR is answered the kernel withdraws the queued
 *    INTERRUPT, so it never arrives (op.INTERRUPT stays 0): the caller gets
 *    0 after the full delay and the directory exists - consistent too.
 *  over io_uring: the MKDIR sleeps in a queue thread, the INTERRUPT comes
 *    through /dev/fuse to a classic worker, which is free: as threads=4.
 */
TEST_F_TIMEOUT(intr, handled_signal, 20)
{
	struct ramfuse *rf = &self->rf;
	int delay = variant->threads > 1 ? 5000 : 1000;
	long long t0, took, intr0, found0;
	bool found;
	char opts[128], p[300];
	struct stat st;
	pid_t kid;
	int rc;

	snprintf(opts, sizeof(opts), "fault=MKDIR:delay=%d:count=1", delay);
	ASSERT_EQ(0, kp_mount(rf, variant->threads, opts)) TH_LOG("%s", rf->err);
	/* someone is free to read the INTERRUPT */
	found = variant->threads > 1 || rf_on_ring(rf);
	intr0 = refreshed(_metadata, rf, "op.INTERRUPT");
	found0 = stats_get(rf, "interrupt.found");
	snprintf(p, sizeof(p), "%s/slow", rf->mnt);
	kid = start_kid(self->kids, KID_MKDIR, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000)) TH_LOG("MKDIR never arrived");
	sleep_ms(100);
	t0 = now_ms();
	ASSERT_EQ(0, kill(kid, SIGUSR1));
	rc = reap(self->kids, kid, delay + 4000);
	took = now_ms() - t0;
	ASSERT_NE(-1, rc) TH_LOG("caller still blocked %lld ms after the signal", took);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	TH_LOG("threads=%d: mkdir -> %s after %lld ms; op.INTERRUPT %lld->%lld, "
	       "interrupt.found %lld->%lld, reply.enoent %lld", variant->threads,
	       rc ? strerror(rc) : "0", took, intr0, stats_get(rf, "op.INTERRUPT"),
	       found0, stats_get(rf, "interrupt.found"), stats_get(rf, "reply.enoent"));
	if (found) {
		EXPECT_EQ(EINTR, rc);
		EXPECT_GT(delay / 2, took) TH_LOG("EINTR only after %lld ms", took);
		EXPECT_LT(intr0, stats_get(rf, "op.INTERRUPT"));
		EXPECT_LT(found0, stats_get(rf, "interrupt.found"));
		errno = 0;
		EXPECT_EQ(-1, stat(p, &st));
		EXPECT_EQ(ENOENT, errno) TH_LOG("an interrupted mkdir left its directory");
	} else {
		EXPECT_EQ(0, rc);
		EXPECT_LE(delay - 300, took);
		EXPECT_EQ(intr0, stats_get(rf, "op.INTERRUPT"));
		EXPECT_EQ(found0, stats_get(rf, "interrupt.found"));
		EXPECT_EQ(0, stat(p, &st)) TH_LOG("mkdir said 0, no directory");
	}
	still_serves(_metadata, rf, "intr");
}

/*
 * SIGKILL of a caller blocked in a delayed MKDIR that the daemon already
 * read.  The kernel cannot take a sent request back: it sends INTERRUPT
 * and the dying caller waits (uninterruptibly) for the answer.
 *  threads=4: the INTERRUPT wakes the worker, it answers EINTR, the kernel
 *    takes that answer (the request is still waited for), the caller dies
 *    promptly, no directory.
 *  threads=1: the answer comes after the full delay; the directory exists.
 *  over io_uring: a classic worker is free for the INTERRUPT: as threads=4.
 * Either way the kernel refuses nothing (reply.enoent and reply.error stay
 * 0: the "late reply refused" case does not happen for a killed caller,
 * only after an abort - see conn.abort) and the daemon goes on serving.
 */
TEST_F_TIMEOUT(intr, sigkill_caller, 20)
{
	struct ramfuse *rf = &self->rf;
	int delay = variant->threads > 1 ? 5000 : 1000;
	long long t0, took, found0;
	bool found;
	char opts[128], p[300];
	struct stat st;
	pid_t kid;
	int rc;

	snprintf(opts, sizeof(opts), "fault=MKDIR:delay=%d:count=1", delay);
	ASSERT_EQ(0, kp_mount(rf, variant->threads, opts)) TH_LOG("%s", rf->err);
	found = variant->threads > 1 || rf_on_ring(rf);
	found0 = refreshed(_metadata, rf, "interrupt.found");
	snprintf(p, sizeof(p), "%s/killed", rf->mnt);
	kid = start_kid(self->kids, KID_MKDIR, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000)) TH_LOG("MKDIR never arrived");
	sleep_ms(100);
	t0 = now_ms();
	ASSERT_EQ(0, kill(kid, SIGKILL));
	rc = reap(self->kids, kid, delay + 4000);
	took = now_ms() - t0;
	ASSERT_EQ(128 + SIGKILL, rc) TH_LOG("caller not dead %lld ms after SIGKILL", took);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	TH_LOG("threads=%d: killed caller gone after %lld ms; op.INTERRUPT %lld, "
	       "interrupt.found %lld, reply.enoent %lld, reply.error %lld",
	       variant->threads, took, stats_get(rf, "op.INTERRUPT"),
	       stats_get(rf, "interrupt.found"), stats_get(rf, "reply.enoent"),
	       stats_get(rf, "reply.error"));
	if (found) {
		EXPECT_GT(delay / 2, took);
		EXPECT_LT(found0, stats_get(rf, "interrupt.found"));
		errno = 0;
		EXPECT_EQ(-1, stat(p, &st));
		EXPECT_EQ(ENOENT, errno);
	} else {
		EXPECT_LE(delay - 300, took);
		EXPECT_EQ(0, stat(p, &st));
	}
	EXPECT_EQ(0, stats_get(rf, "reply.enoent"));
	EXPECT_EQ(0, stats_get(rf, "reply.error"));
	still_serves(_metadata, rf, "sigkill");
}

/* ================================================================== */
/* conn: abort, daemon death, lazy unmount                             */

KP_FIXTURE(conn)
FIXTURE_VARIANT(conn) { int threads; const char *opts; };
FIXTURE_VARIANT_ADD(conn, threads1_pt_off) { .threads = 1, .opts = "passthrough=off" };
FIXTURE_VARIANT_ADD(conn, threads4_pt_auto) { .threads = 4, .opts = "passthrough=auto" };

/*
 * echo 1 > /sys/fs/fuse/connections/N/abort while a MKDIR sits delayed in
 * the daemon: the waiting caller and every new call fail; the daemon's
 * reads end (ENODEV), the late MKDIR reply is refused (reply.enoent in the
 * final stats), the daemon exits 0 saying the connection was aborted, and
 * umount still works.
 *
 * The errors, as the kernel gives them: the pending caller ECONNABORTED
 * (requests ended by the abort), new calls ENOTCONN.  Over io_uring the late
 * commit is refused with ENOTCONN, which just ends the queue: nothing is
 * counted in reply.enoent there.
 */
TEST_F_TIMEOUT(conn, abort, 20)
{
	struct ramfuse *rf = &self->rf;
	char o[200], dir[128], why[256], path[200], p[300], log[8192];
	struct statfs sfs;
	long long t0;
	pid_t kid;
	int rc;

	snprintf(o, sizeof(o), "%s,fault=MKDIR:delay=10000", variant->opts);
	ASSERT_EQ(0, kp_mount_fg(rf, "-f", variant->threads, o)) TH_LOG("%s", rf->err);
	if (fusectl_dir(rf, &self->fusectl_ours, dir, sizeof(dir), why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(p, sizeof(p), "%s/pending", rf->mnt);
	kid = start_kid(self->kids, KID_MKDIR, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000));
	snprintf(path, sizeof(path), "%s/waiting", dir);
	EXPECT_LE(1, read_num(path));
	snprintf(path, sizeof(path), "%s/abort", dir);
	t0 = now_ms();
	ASSERT_EQ(0, write_str(path, "1")) TH_LOG("%s: %s", path, strerror(errno));
	rc = reap(self->kids, kid, 2000);
	TH_LOG("pending mkdir -> %s after %lld ms", rc > 0 ? strerror(rc) : "?",
	       now_ms() - t0);
	EXPECT_EQ(ECONNABORTED, rc);
	snprintf(p, sizeof(p), "%s/new", rf->mnt);
	errno = 0;
	EXPECT_EQ(-1, mkdir(p, 0755));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("new call: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, statfs(rf->mnt, &sfs));	/* never from a cache */
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("statfs: %s", strerror(errno));
	/* the daemon ends by itself, at once: its delayed worker sees the
	 * connection end (POLLERR), answers late and is refused */
	ASSERT_EQ(0, rf_wait_exit(rf, 2500)) TH_LOG("daemon still running after abort");
	EXPECT_TRUE(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == 0)
		TH_LOG("exit status 0x%x", rf->exit_status);
	rf_log(rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "the connection was aborted")) TH_LOG("log: %s", log);
	TH_LOG("final stats: op.MKDIR %lld reply.enoent %lld reply.error %lld",
	       stats_get(rf, "op.MKDIR"), stats_get(rf, "reply.enoent"),
	       stats_get(rf, "reply.error"));
	if (!rf_on_ring(rf))
		EXPECT_LE(1, stats_get(rf, "reply.enoent"));
	EXPECT_EQ(0, stats_get(rf, "reply.error"));
	EXPECT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount after abort: %s", strerror(errno));
	rf->mounted = 0;
	EXPECT_FALSE(is_mounted(rf->mnt));
}

/*
 * SIGKILL of the daemon: its fds close, the kernel aborts the connection,
 * calls fail ENOTCONN; umount works and a new ramfuse serves on the same
 * mountpoint.
 */
TEST_F_TIMEOUT(conn, daemon_death, 20)
{
	struct ramfuse *rf = &self->rf;
	char o[1024], out[512], p[300];
	const char *argv[6];
	struct statfs sfs;
	struct stat st;
	long long pid;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, variant->opts)) TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/before", rf->mnt);
	ASSERT_EQ(0, mkdir(p, 0755));
	ASSERT_EQ(0, kill(rf->pid, SIGKILL));
	ASSERT_EQ(0, wait_pid_gone(rf->pid, 3000));
	/* the main thread is a zombie before the last worker has gone and
	 * the device fd closed: until then calls may still be queued, and
	 * end ECONNABORTED when the closing fd aborts the connection */
	for (long long end = now_ms() + 3000; now_ms() < end; sleep_ms(5)) {
		errno = 0;
		if (statfs(rf->mnt, &sfs) < 0 && errno == ENOTCONN)
			break;
	}
	errno = 0;
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("stat after daemon death: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, statfs(rf->mnt, &sfs));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("statfs after daemon death: %s", strerror(errno));
	ASSERT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount: %s", strerror(errno));
	rf->mounted = 0;
	rf->pid = 0;
	ASSERT_FALSE(is_mounted(rf->mnt));

	/* a new daemon on the very same directory */
	unlink(rf->stats);
	snprintf(o, sizeof(o), "stats=%s,threads=%d,%s", rf->stats, variant->threads,
		 variant->opts);
	argv[0] = "ramfuse";
	argv[1] = "-o";
	argv[2] = o;
	argv[3] = rf->mnt;
	argv[4] = NULL;
	ASSERT_EQ(0, rf_run(ramfuse_path(), argv, 10000, out, sizeof(out)))
		TH_LOG("remount: %s", out);
	rf->mounted = 1;
	for (long long end = now_ms() + 5000; (pid = stats_get(rf, "pid")) <= 0 &&
	     now_ms() < end;)
		sleep_ms(5);
	ASSERT_LT(0, pid);
	rf->pid = (pid_t)pid;
	ASSERT_TRUE(is_mounted(rf->mnt));
	errno = 0;
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOENT, errno) TH_LOG("a fresh ramfuse is empty");
	still_serves(_metadata, rf, "remount");
}

/*
 * umount2(MNT_DETACH) while a reader has the file open and reads: the mount
 * leaves the namespace at once, the reader keeps working (data checked,
 * GETATTRs served), a directory fd still reaches the filesystem: files
 * created and unlinked through it come back as FORGET/BATCH_FORGET after
 * drop_caches and the daemon frees them ("inodes" back to its baseline).
 * When the reader closes, the superblock goes and the daemon exits 0.
 */
TEST_F_TIMEOUT(conn, lazy_umount_busy, 20)
{
	struct ramfuse *rf = &self->rf;
	char o[200], p[300], name[32];
	long long base, forgets0, v, ops0, ops1;
	static const char *const forget_ops[] = { "op.FORGET", "op.BATCH_FORGET", NULL };
	static const char *const attr_ops[] = { "op.GETATTR", "op.STATX", "op.READ", NULL };
	pid_t kid;
	int dfd, rc, *stop;

	snprintf(o, sizeof(o), "%s,attr_timeout=0,entry_timeout=0", variant->opts);
	ASSERT_EQ(0, kp_mount_fg(rf, "-f", variant->threads, o)) TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/data", rf->mnt);
	make_file(_metadata, p, 1 << 20, 7);
	/* the reader reads until told to stop (at most 10 s); fork_clean
	 * closes every fd, so the word is in shared memory */
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stop);
	kid = fork_clean();
	ASSERT_LE(0, kid);
	if (kid == 0) {
		unsigned char *buf = malloc(65536);
		long long end = now_ms() + 10000;
		struct stat st;
		int fd = open(p, O_RDONLY);

		if (fd < 0 || !buf)
			_exit(2);
		for (unsigned i = 0;
		     now_ms() < end && !__atomic_load_n(stop, __ATOMIC_ACQUIRE); i++) {
			off_t off = (off_t)(i % 16) * 65536;

			if (pread_all(fd, buf, 65536, off) != 65536 ||
			    pattern_check(buf, 65536, (unsigned long long)off, 7) != -1)
				_exit(3);
			if (fstat(fd, &st) || st.st_size != 1 << 20)
				_exit(4);
		}
		close(fd);
		_exit(0);
	}
	add_kid(self->kids, kid);
	dfd = open(rf->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dfd);
	sleep_ms(300);
	ASSERT_TRUE(kid_running(kid));
	base = refreshed(_metadata, rf, "inodes");
	ops0 = stats_sum(rf, attr_ops);
	ASSERT_EQ(0, umount2(rf->mnt, MNT_DETACH)) TH_LOG("%s", strerror(errno));
	rf->mounted = 0;
	EXPECT_FALSE(is_mounted(rf->mnt));

	/* the detached filesystem still works through the fds */
	forgets0 = stats_sum(rf, forget_ops);
	for (int i = 0; i < 40; i++) {
		int fd;

		snprintf(name, sizeof(name), "tmp%d", i);
		fd = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd) TH_LOG("openat %s on the detached mount: %s", name,
					strerror(errno));
		close(fd);
	}
	EXPECT_EQ(base + 40, refreshed(_metadata, rf, "inodes"));
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "tmp%d", i);
		ASSERT_EQ(0, unlinkat(dfd, name, 0));
	}
	close(dfd);
	ASSERT_EQ(0, drop_caches(2));
	v = stats_wait_le(rf, "inodes", base, 5000);
	EXPECT_EQ(base, v) TH_LOG("inodes %lld, baseline %lld", v, base);
	EXPECT_LT(forgets0, stats_sum(rf, forget_ops))
		TH_LOG("FORGET %lld BATCH_FORGET %lld", stats_get(rf, "op.FORGET"),
		       stats_get(rf, "op.BATCH_FORGET"));
	ops1 = stats_sum(rf, attr_ops);
	EXPECT_LT(ops0, ops1) TH_LOG("the reader's calls stopped reaching the daemon");
	EXPECT_FALSE(pid_gone(rf->pid)) TH_LOG("daemon ended while the reader works");
	EXPECT_TRUE(kid_running(kid)) TH_LOG("the reader stopped before it was told to");

	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	rc = reap(self->kids, kid, 5000);
	munmap(stop, sizeof(*stop));
	EXPECT_EQ(0, rc) TH_LOG("reader failed after the detach (exit %d)", rc);
	ASSERT_EQ(0, rf_wait_exit(rf, 5000)) TH_LOG("daemon still running after the last close");
	EXPECT_TRUE(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == 0)
		TH_LOG("exit status 0x%x", rf->exit_status);
}

/* ================================================================== */
/* faults: replies the kernel refuses                                  */

KP_FIXTURE(faults)
FIXTURE_VARIANT(faults) { int threads; };
FIXTURE_VARIANT_ADD(faults, threads1) { .threads = 1 };
FIXTURE_VARIANT_ADD(faults, threads4) { .threads = 4 };

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
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, stat(rf->mnt, &st)) TH_LOG("stat: %s", strerror(errno));
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

/* ================================================================== */
/* limits of the channel                                               */

KP_FIXTURE(limits)
FIXTURE_VARIANT(limits) { int threads; };
FIXTURE_VARIANT_ADD(limits, threads1) { .threads = 1 };
FIXTURE_VARIANT_ADD(limits, threads4) { .threads = 4 };

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
