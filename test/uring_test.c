// SPDX-License-Identifier: MIT
/*
 * FUSE over io_uring, the second transport.
 *
 *   opts.*      uring= and uring_depth= values (exit 2 naming the option)
 *   fallback.*  with the kernel's enable_uring off: uring=auto serves through
 *               /dev/fuse, uring=on refuses to start and says why
 *   ring.*      with it on: every queue serves (q.I), nothing but FORGET and
 *               INTERRUPT is read from /dev/fuse after INIT (-d log); the
 *               FORGETs the kernel sends through the ring give entries back
 *   teardown.*  requests on the ring when the connection ends: lazy and
 *               forced umount, fusectl abort, SIGKILL and SIGTERM of the
 *               daemon, a caller killed while its request sits in the
 *               daemon or in the kernel's queue; each wait bounded
 *
 * enable_uring is global, so the tests never switch it: make check (off)
 * runs opts and fallback, make check-uring (on, scripts/with-uring) runs
 * ring and teardown; each skips in the other, saying so.
 */
#include "harness.h"
#include "fuse_util.h"
#include "kpaths.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define PARAM "/sys/module/fuse/parameters/enable_uring"

/* 1: enable_uring is Y, 0: N, -1: the kernel has no such parameter */
static int uring_param(void)
{
	char c = 0;
	int fd = open(PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y';
}

#define REQUIRE_RING()							\
	do {								\
		char _why[256];						\
		int _p = uring_param();					\
									\
		if (rf_can_mount(_why, sizeof(_why)))			\
			SKIP(return, "%s", _why);			\
		if (_p < 0)						\
			SKIP(return, "no " PARAM ": no FUSE over io_uring in "	\
			     "this kernel (Linux 6.14+, CONFIG_FUSE_IO_URING)"); \
		if (_p == 0)						\
			SKIP(return, "enable_uring is off: make check-uring " \
			     "runs this");				\
	} while (0)

/* The CPUs we may run on, as a list (the queues are per CPU). */
static int our_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static int first_cpu(void)
{
	int cpu = 0;

	our_cpus(&cpu, 1);
	return cpu;
}

/* As kpaths' start_kid(), pinned to cpu (so its requests go to queue
 * cpu), n times (KID_STAT: on path0, path1, ...: missing names, one
 * LOOKUP each); it exits with the errno of the first failure, or 0. */
static pid_t kid_on(pid_t *kids, int cpu, enum kid_op op, const char *path, int n)
{
	pid_t pid = fork_clean();

	if (pid == 0) {
		cpu_set_t set;
		struct statfs sfs;
		struct stat st;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			_exit(99);
		for (int i = 0; i < n; i++) {
			char name[300];
			int rc;

			snprintf(name, sizeof(name), "%s%d", path, i);
			rc = op == KID_MKDIR ? mkdir(path, 0755)
			     : op == KID_STATFS ? statfs(path, &sfs) : stat(name, &st);

			if (rc && !(op == KID_STAT && errno == ENOENT))
				_exit(errno);
		}
		_exit(0);
	}
	if (pid > 0)
		add_kid(kids, pid);
	return pid;
}

/* ------------------------------------------------------------------ */
/* opts: no kernel needed                                              */

TEST(opts_bad_values)
{
	static const char *const bad[] = {
		"uring=maybe", "uring=", "uring_depth=0", "uring_depth=1025",
		"uring_depth=-1", "uring_depth=8x",
	};
	char out[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "ramfuse", "-f", "-o", bad[i], "/nonexistent", NULL };
		int rc = rf_run(ramfuse_path(), argv, 10000, out, sizeof(out));
		char name[32];

		EXPECT_EQ(2, rc) TH_LOG("-o %s: exit %d: %s", bad[i], rc, out);
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(bad[i], "="), bad[i]);
		EXPECT_NE(NULL, strstr(out, name)) TH_LOG("-o %s: %s", bad[i], out);
	}
}

/* ------------------------------------------------------------------ */
/* fallback: enable_uring off                                          */

FIXTURE(fallback) {
	struct ramfuse rf;
};

FIXTURE_SETUP(fallback)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	if (uring_param() == 1)
		SKIP(return, "enable_uring is on: the fallback needs it off (make check runs this)");
}

FIXTURE_TEARDOWN(fallback)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

/* uring=auto: the kernel does not offer the ring, requests come through
 * /dev/fuse, and -d says why */
TEST_F(fallback, auto_serves_classic)
{
	char p[300], log[16384];
	struct stat st;
	long long fds = 0;

	ASSERT_EQ(0, mount_ramfuse_fg(&self->rf, "-d", "uring=auto,threads=2,entry_timeout=0"))
		TH_LOG("%s", self->rf.err);
	snprintf(p, sizeof(p), "%s/missing", self->rf.mnt);
	for (int i = 0; i < 20; i++) {
		EXPECT_EQ(-1, stat(p, &st));
	}
	ASSERT_EQ(0, stats_refresh(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_FALSE(rf_on_ring(&self->rf));
	EXPECT_EQ(0, stats_get(&self->rf, "queues"));
	EXPECT_EQ(-1, stats_get(&self->rf, "q.0"));
	for (int i = 0; i < 2; i++) {
		char name[16];

		snprintf(name, sizeof(name), "fd.%d", i);
		fds += stats_get(&self->rf, name);
	}
	EXPECT_LE(20, fds);
	rf_log(&self->rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "FUSE over io_uring not used: ")) TH_LOG("%s", log);
	if (uring_param() == 0) {
		EXPECT_NE(NULL, strstr(log, "enable_uring is off")) TH_LOG("%s", log);
	}
}

/* uring=on: no mount, exit 1, and the message names the cause */
TEST_F(fallback, on_refuses)
{
	char log[4096];

	ASSERT_EQ(-1, mount_ramfuse(&self->rf, "uring=on"));
	EXPECT_NE(NULL, strstr(self->rf.err, "exit status 1")) TH_LOG("%s", self->rf.err);
	rf_log(&self->rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "uring=on: ")) TH_LOG("%s", log);
	EXPECT_NE(NULL, strstr(log, uring_param() == 0 ? "enable_uring is off" : "io_uring"))
		TH_LOG("%s", log);
	EXPECT_FALSE(is_mounted(self->rf.mnt));
	self->rf.mounted = 0;
}

/* ------------------------------------------------------------------ */
/* ring and teardown: enable_uring on                                  */

FIXTURE(ring) {
	KP_DATA;
};

FIXTURE_SETUP(ring)
{
	REQUIRE_RING();
}

FIXTURE_TEARDOWN(ring)
{
	teardown(_metadata, &self->rf, self->kids, &self->fusectl_ours);
}

static long long queue_count(struct ramfuse *rf, int q)
{
	char name[16];

	snprintf(name, sizeof(name), "q.%d", q);
	return stats_get(rf, name);
}

/* Every CPU we can run on makes its queue serve: a pinned process's LOOKUPs
 * are counted in its queue's q.I, and all pinned processes succeed. */
static void every_queue_serves(struct __test_metadata *_metadata, struct ramfuse *rf,
			       pid_t *kids, const char *tag)
{
	int cpus[64], n = our_cpus(cpus, 64);
	long long before[64];
	char p[300];

	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	for (int i = 0; i < n; i++)
		before[i] = queue_count(rf, cpus[i]);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s-missing-%d", rf->mnt, tag, i);
		pid_t kid = kid_on(kids, cpus[i], KID_STAT, p, 50);

		ASSERT_LT(0, kid);
		EXPECT_EQ(0, reap(kids, kid, 5000)) TH_LOG("%s: cpu %d", tag, cpus[i]);
	}
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	for (int i = 0; i < n; i++) {
		EXPECT_LE(before[i] + 50, queue_count(rf, cpus[i]))
			TH_LOG("%s: queue %d served %lld of 50", tag, cpus[i],
			       queue_count(rf, cpus[i]) - before[i]);
	}
}

/* One -d request line, "ramfuse: fd N unique U OP ..." or "ramfuse: q N
 * ...": the worker kind, its number and the opcode; false for other lines
 * (replies, faults, messages). */
static bool request_line(const char *line, char *kind, int *num, char *op)
{
	unsigned long long unique;

	if (sscanf(line, "ramfuse: %3s %d unique %llu %31s", kind, num, &unique, op) != 4)
		return false;
	return strcmp(op, "reply") && op[strlen(op) - 1] != ':';
}

TEST_F_TIMEOUT(ring, serves_every_queue, 30)
{
	struct ramfuse *rf = &self->rf;
	static char log[1 << 20];
	long long ring_lines[64] = { 0 }, fd_lines = 0, forgets;
	char p[300], kind[4], op[32];
	int num, queues;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-d", "uring=on,entry_timeout=0,attr_timeout=0"))
		TH_LOG("%s", rf->err);
	ASSERT_TRUE(rf_on_ring(rf));
	queues = (int)stats_get(rf, "queues");
	EXPECT_LE(1, queues);
	for (int q = 0; q < queues; q++) {
		EXPECT_LE(0, queue_count(rf, q)) TH_LOG("no q.%d line", q);
	}
	every_queue_serves(_metadata, rf, self->kids, "serve");
	/* unlinked names the kernel forgets: FORGETs, through /dev/fuse */
	for (int i = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "%s/f%d", rf->mnt, i);
		ASSERT_EQ(0, mknod(p, S_IFREG | 0644, 0)) TH_LOG("%s", strerror(errno));
		ASSERT_EQ(0, unlink(p));
	}
	ASSERT_EQ(0, drop_caches(2));
	forgets = stats_wait_ge(rf, "op.FORGET", 1, 3000) + stats_get(rf, "op.BATCH_FORGET");
	EXPECT_LE(1, forgets);
	rf_log(rf, log, sizeof(log));
	for (char *l = log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!request_line(l, kind, &num, op))
			continue;
		if (!strcmp(kind, "q")) {
			if (num >= 0 && num < 64)
				ring_lines[num]++;
			continue;
		}
		fd_lines++;
		EXPECT_TRUE(!strcmp(op, "FORGET") || !strcmp(op, "BATCH_FORGET") ||
			    !strcmp(op, "INTERRUPT"))
			TH_LOG("read from /dev/fuse after INIT: %.80s", l);
	}
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	/* FORGETs came as fd lines; every ring request is counted in its q.I */
	EXPECT_LE(1, fd_lines);
	for (int q = 0; q < queues && q < 64; q++) {
		EXPECT_EQ(ring_lines[q], queue_count(rf, q)) TH_LOG("queue %d", q);
	}
}

/* uring=auto takes the ring when offered; uring_depth=1 still serves */
TEST_F_TIMEOUT(ring, auto_and_depth1, 30)
{
	struct ramfuse *rf = &self->rf;
	char log[16384];

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-d", "uring=auto,uring_depth=1,entry_timeout=0"))
		TH_LOG("%s", rf->err);
	EXPECT_TRUE(rf_on_ring(rf));
	every_queue_serves(_metadata, rf, self->kids, "depth1");
	rf_log(rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "queues of 1 entries")) TH_LOG("%.2000s", log);
}

/* Entries the kernel refuses from a READDIRPLUS (a bad file type) it
 * forgets at once, with a FORGET of its own through the ring
 * (fuse_force_forget): the daemon gives each one's ring entry back.  With
 * one entry per queue, a kept one would block the next request of its
 * queue for good. */
TEST_F_TIMEOUT(ring, forced_forgets_return_entries, 30)
{
	struct ramfuse *rf = &self->rf;
	char p[300];
	struct dirent *de;
	struct stat st;
	int names = 0;
	DIR *d;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,uring_depth=1,"
				      "fault=READDIRPLUS:set=entry.attr.mode=0170000"))
		TH_LOG("%s", rf->err);
	ASSERT_TRUE(rf_on_ring(rf));
	snprintf(p, sizeof(p), "%s/d", rf->mnt);
	ASSERT_EQ(0, mkdir(p, 0755));
	for (int i = 0; i < 8; i++) {
		snprintf(p, sizeof(p), "%s/d/f%d", rf->mnt, i);
		ASSERT_EQ(0, mknod(p, S_IFREG | 0644, 0)) TH_LOG("%s", strerror(errno));
	}
	ASSERT_EQ(0, drop_caches(2));
	snprintf(p, sizeof(p), "%s/d", rf->mnt);
	d = opendir(p);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		names++;
	closedir(d);
	EXPECT_EQ(10, names);
	EXPECT_LE(1, stats_wait_ge(rf, "op.READDIRPLUS", 1, 3000));
	EXPECT_LE(8, stats_wait_ge(rf, "op.FORGET", 8, 3000) + stats_get(rf, "op.BATCH_FORGET"))
		TH_LOG("the kernel forgot none of the refused entries");
	/* every queue still serves: each CPU's calls go to its own queue */
	every_queue_serves(_metadata, rf, self->kids, "after-forgets");
	for (int i = 0; i < 8; i++) {
		snprintf(p, sizeof(p), "%s/d/f%d", rf->mnt, i);
		EXPECT_EQ(0, stat(p, &st)) TH_LOG("%s: %s", p, strerror(errno));
	}
}

/* Starts one kid per CPU (at most max) doing op on its own name under the
 * mount: KID_MKDIR makes dI/slow, in a directory of its own (mkdir holds
 * its parent's lock: two in one directory would wait in the VFS, not on
 * the ring); waits until the daemon has them all.  Returns how many. */
static int kids_in_flight(struct __test_metadata *_metadata, struct ramfuse *rf,
			  pid_t *kids, pid_t *started, int max, enum kid_op op)
{
	int cpus[64], n = our_cpus(cpus, 64);
	char p[300];

	if (n > max)
		n = max;
	/* first the directories: once a request sleeps in a queue, our own
	 * calls from that CPU would wait behind it (one thread per queue) */
	for (int i = 0; op == KID_MKDIR && i < n; i++) {
		snprintf(p, sizeof(p), "%s/d%d", rf->mnt, i);
		if (mkdir(p, 0755))
			return 0;
	}
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), op == KID_STATFS ? "%s" : "%s/d%d/slow", rf->mnt, i);
		started[i] = kid_on(kids, cpus[i], op, p, 1);
		if (started[i] <= 0)
			return 0;
	}
	/* each sits in a fault (delay, drop) of the daemon */
	if (stats_wait_ge(rf, "fault.hits", n, 5000) < n)
		TH_LOG("only %lld of %d requests reached the daemon", stats_get(rf, "fault.hits"), n);
	return n;
}

static void reap_all(struct __test_metadata *_metadata, pid_t *kids, pid_t *pids, int n,
		     int ms, const char *tag, int *results)
{
	for (int i = 0; i < n; i++) {
		results[i] = reap(kids, pids[i], ms);
		EXPECT_NE(-1, results[i]) TH_LOG("%s: caller %d still blocked after %d ms",
						 tag, i, ms);
	}
}

static void daemon_exits(struct __test_metadata *_metadata, struct ramfuse *rf, int ms,
			 int want)
{
	ASSERT_EQ(0, rf_wait_exit(rf, ms)) TH_LOG("daemon still running after %d ms", ms);
	if (want >= 0) {
		EXPECT_TRUE(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == want)
			TH_LOG("exit status 0x%x", rf->exit_status);
	}
}

/* umount -l while a STATFS sleeps in every queue: they are answered, then
 * the connection ends, the queues see it and the daemon exits 0 */
TEST_F_TIMEOUT(ring, teardown_lazy_umount, 30)
{
	struct ramfuse *rf = &self->rf;
	pid_t pids[64];
	int res[64], n;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,fault=STATFS:delay=1500"))
		TH_LOG("%s", rf->err);
	ASSERT_TRUE(rf_on_ring(rf));
	n = kids_in_flight(_metadata, rf, self->kids, pids, 64, KID_STATFS);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, umount2(rf->mnt, MNT_DETACH)) TH_LOG("%s", strerror(errno));
	rf->mounted = 0;
	reap_all(_metadata, self->kids, pids, n, 1500 * n + 3000, "lazy", res);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(0, res[i]) TH_LOG("statfs %d: %s", i, strerror(res[i]));
	}
	daemon_exits(_metadata, rf, 5000, 0);
}

/* umount -f aborts the connection: the sleeping MKDIRs fail at once, the
 * daemon ends; the umount itself may find the mount busy until they do */
TEST_F_TIMEOUT(ring, teardown_force_umount, 30)
{
	struct ramfuse *rf = &self->rf;
	pid_t pids[64];
	int res[64], n;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,fault=MKDIR:delay=20000:name=slow"))
		TH_LOG("%s", rf->err);
	n = kids_in_flight(_metadata, rf, self->kids, pids, 64, KID_MKDIR);
	ASSERT_LT(0, n);
	if (umount2(rf->mnt, MNT_FORCE) == 0)
		rf->mounted = 0;
	reap_all(_metadata, self->kids, pids, n, 3000, "force", res);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(ECONNABORTED, res[i]) TH_LOG("mkdir %d: %s", i, strerror(res[i]));
	}
	daemon_exits(_metadata, rf, 3000, 0);
}

/* fusectl abort while every queue holds a request the daemon drops (never
 * answers: the entry stays with the daemon): the callers fail, the daemon
 * ends, umount works */
TEST_F_TIMEOUT(ring, teardown_abort, 30)
{
	struct ramfuse *rf = &self->rf;
	char dir[128], why[256], path[200], log[8192];
	pid_t pids[64];
	int res[64], n;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,fault=MKDIR:drop:name=slow"))
		TH_LOG("%s", rf->err);
	if (conn_dir(rf, &self->fusectl_ours, dir, sizeof(dir), why, sizeof(why)))
		SKIP(return, "%s", why);
	n = kids_in_flight(_metadata, rf, self->kids, pids, 64, KID_MKDIR);
	ASSERT_LT(0, n);
	sleep_ms(100);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(-1, wait_child(pids[i], 0)) TH_LOG("a dropped mkdir returned");
	}
	snprintf(path, sizeof(path), "%s/abort", dir);
	ASSERT_EQ(0, write_str(path, "1")) TH_LOG("%s: %s", path, strerror(errno));
	reap_all(_metadata, self->kids, pids, n, 3000, "abort", res);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(ECONNABORTED, res[i]) TH_LOG("mkdir %d: %s", i, strerror(res[i]));
	}
	daemon_exits(_metadata, rf, 3000, 0);
	rf_log(rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "the connection was aborted")) TH_LOG("log: %s", log);
	EXPECT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount after abort: %s", strerror(errno));
	rf->mounted = 0;
}

/* SIGKILL of the daemon with requests in every queue: its rings and
 * /dev/fuse close, the kernel ends the requests, the callers return */
TEST_F_TIMEOUT(ring, teardown_sigkill_daemon, 30)
{
	struct ramfuse *rf = &self->rf;
	pid_t pids[64];
	int res[64], n;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,fault=MKDIR:delay=20000:name=slow"))
		TH_LOG("%s", rf->err);
	n = kids_in_flight(_metadata, rf, self->kids, pids, 64, KID_MKDIR);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, kill(rf->pid, SIGKILL));
	reap_all(_metadata, self->kids, pids, n, 3000, "sigkill", res);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(ECONNABORTED, res[i]) TH_LOG("mkdir %d: %s", i, strerror(res[i]));
	}
	daemon_exits(_metadata, rf, 3000, -1);
	EXPECT_TRUE(WIFSIGNALED(rf->exit_status)) TH_LOG("status 0x%x", rf->exit_status);
	rf->pid = 0;
	EXPECT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount after SIGKILL: %s", strerror(errno));
	rf->mounted = 0;
}

/* SIGTERM with requests sleeping in every queue: the daemon unmounts
 * (lazily: the callers keep it busy), its queues stop, it exits 0 */
TEST_F_TIMEOUT(ring, teardown_sigterm, 30)
{
	struct ramfuse *rf = &self->rf;
	pid_t pids[64];
	int res[64], n;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,fault=MKDIR:delay=1500:name=slow"))
		TH_LOG("%s", rf->err);
	n = kids_in_flight(_metadata, rf, self->kids, pids, 64, KID_MKDIR);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, kill(rf->pid, SIGTERM));
	daemon_exits(_metadata, rf, 5000, 0);
	reap_all(_metadata, self->kids, pids, n, 5000, "sigterm", res);
	EXPECT_FALSE(is_mounted(rf->mnt));
	rf->mounted = 0;
}

/* A caller SIGKILLed while the daemon sleeps on its request: the kernel
 * sends INTERRUPT through /dev/fuse, a classic worker finds the queue
 * thread and wakes it, the request is answered EINTR, the caller dies at
 * once; every queue goes on serving */
TEST_F_TIMEOUT(ring, killed_caller_in_daemon, 30)
{
	struct ramfuse *rf = &self->rf;
	char p[300];
	struct stat st;
	long long t0;
	pid_t kid;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", "uring=on,fault=MKDIR:delay=20000:name=slow"))
		TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/slow", rf->mnt);
	kid = kid_on(self->kids, first_cpu(), KID_MKDIR, p, 1);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000)) TH_LOG("MKDIR never arrived");
	sleep_ms(50);
	t0 = now_ms();
	ASSERT_EQ(0, kill(kid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, reap(self->kids, kid, 3000))
		TH_LOG("caller not dead %lld ms after SIGKILL", now_ms() - t0);
	EXPECT_LE(1, stats_wait_ge(rf, "interrupt.found", 1, 2000));
	EXPECT_EQ(-1, stat(p, &st)) TH_LOG("an interrupted mkdir left its directory");
	every_queue_serves(_metadata, rf, self->kids, "killed");
}

/* With one entry per queue, a second caller on the same CPU waits in the
 * kernel's queue; SIGKILLed there, the kernel takes its request back (the
 * daemon never sees it) and it dies at once.  Then the first one too. */
TEST_F_TIMEOUT(ring, killed_caller_queued, 30)
{
	struct ramfuse *rf = &self->rf;
	char a[300], b[300], dir[128], why[256], wpath[200];
	long long w = -1;
	pid_t first, second;
	struct stat st;
	bool fusectl;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f",
				      "uring=on,uring_depth=1,fault=MKDIR:delay=20000:name=slow"))
		TH_LOG("%s", rf->err);
	fusectl = !conn_dir(rf, &self->fusectl_ours, dir, sizeof(dir), why, sizeof(why));
	snprintf(wpath, sizeof(wpath), "%s/waiting", dir);
	/* two parents: mkdir holds its parent's lock */
	snprintf(a, sizeof(a), "%s/pa", rf->mnt);
	snprintf(b, sizeof(b), "%s/pb", rf->mnt);
	ASSERT_EQ(0, mkdir(a, 0755));
	ASSERT_EQ(0, mkdir(b, 0755));
	strcat(a, "/slow");
	strcat(b, "/second");
	first = kid_on(self->kids, first_cpu(), KID_MKDIR, a, 1);
	ASSERT_LT(0, first);
	ASSERT_LE(3, stats_wait_ge(rf, "op.MKDIR", 3, 3000)) TH_LOG("MKDIR never arrived");
	second = kid_on(self->kids, first_cpu(), KID_MKDIR, b, 1);
	ASSERT_LT(0, second);
	if (fusectl) {
		long long end = now_ms() + 3000;

		while ((w = read_num(wpath)) < 2 && now_ms() < end)
			sleep_ms(5);
		EXPECT_EQ(2, w) TH_LOG("fusectl waiting %lld", w);
	} else {
		TH_LOG("no fusectl (%s): the queued request is not proven by 'waiting'", why);
		sleep_ms(300);
	}
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_EQ(3, stats_get(rf, "op.MKDIR")) TH_LOG("the second MKDIR reached the daemon");
	ASSERT_EQ(0, kill(second, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, reap(self->kids, second, 1000))
		TH_LOG("the queued caller did not die at once");
	if (fusectl) {
		EXPECT_EQ(1, read_num(wpath));
	}
	ASSERT_EQ(0, kill(first, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, reap(self->kids, first, 3000))
		TH_LOG("the first caller not dead after SIGKILL");
	every_queue_serves(_metadata, rf, self->kids, "queued");
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_EQ(3, stats_get(rf, "op.MKDIR"));
	EXPECT_EQ(0, mkdir(b, 0755)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, stat(b, &st));
}

TEST_HARNESS_MAIN
