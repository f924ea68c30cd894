// SPDX-License-Identifier: MIT
/*
 * run-tests - run every *_test binary in a directory, kselftest style.
 *
 *   run-tests [-j N] [-t FILTER] [DIR]
 *
 * DIR defaults to the directory holding run-tests itself.  Every regular,
 * executable file whose name ends in "_test" is run, in name order, with
 * stdin on /dev/null, stdout+stderr streamed to our stdout prefixed by "# ",
 * and TEST_FILTER=FILTER in its environment when -t is given.  With -j N
 * (or RUN_TESTS_JOBS=N) up to N binaries run at once; the output of all but
 * the first unfinished one is held back, so it still reads binary by
 * binary, in name order, exactly as without -j.  Each binary
 * gets RUN_TESTS_TIMEOUT seconds (default 600); then it receives SIGTERM
 * (its harness kills the running test and cleans up) and, 20 s later,
 * SIGKILL.
 *
 * Output: "TAP version 13", "1..M", the nested output, "ok K name" or
 * "not ok K name" per binary, a "# elapsed" line and finally exactly one
 * line "N passed, N failed, N skipped" counting the individual test result
 * lines of all binaries.  A binary that crashes, times out, exits non-zero
 * or reports fewer results than it planned counts as at least one failure.
 * A binary that exits 4 (kselftest's skip: "1..0 # SKIP why") or whose
 * every test skipped is "ok K name # SKIP ..."; one that exits 4 and
 * reports no test counts as one skipped test.
 *
 * Exit status: 0 something was tested and nothing failed; 1 a test failed;
 * 2 usage (a bad option, or -t FILTER matches no test); 4 nothing was
 * tested: no binaries, no tests, every test skipped, or tests skipped while
 * the run lacks root or /dev/fuse (the line before the last says why).
 * Single skips (a kernel too old for one feature) are no reason for 4.
 *
 * No shell is needed.  When run as PID 1 (a bare initramfs), it mounts
 * /proc, /sys and /dev if they are missing, creates /tmp if missing (the
 * initramfs root is writable), reaps orphans, and powers the machine off
 * at the end instead of exiting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "junit.h"

#define GRACE_MS 20000

/* Everything run-tests reports goes through out(): to stdout, and to the
 * --tap file and the JUnit reader when they are asked for. */
static struct {
	FILE *tap;
	struct junit *junit;
} sink;

static void out_str(const char *s)
{
	size_t n = strlen(s);

	fwrite(s, 1, n, stdout);
	if (sink.tap)
		fwrite(s, 1, n, sink.tap);
	if (sink.junit)
		junit_feed(sink.junit, s, n);
}

static void __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0)
		out_str(s);
	free(s);
}

struct counts {
	unsigned long pass, fail, skip;
};

struct binres {
	struct counts c;
	long plan;		/* -1: no plan line seen */
	unsigned long results;
	char skip_why[160];	/* "1..0 # SKIP why", else the first skip's reason */
	struct reasons *reasons;
};

/* Skip reasons of the whole run, for the verdict on a run that skipped
 * everything. */
#define MAX_REASONS 8
struct reasons {
	struct {
		char text[120];
		unsigned long n;
	} r[MAX_REASONS];
	unsigned long other;	/* skips whose reason did not fit */
};

static void reason_add(struct reasons *rs, const char *why)
{
	size_t i;

	if (!*why)
		why = "no reason given";
	for (i = 0; i < MAX_REASONS && rs->r[i].n; i++) {
		if (!strncmp(rs->r[i].text, why, sizeof(rs->r[i].text) - 1)) {
			rs->r[i].n++;
			return;
		}
	}
	if (i == MAX_REASONS) {
		rs->other++;
		return;
	}
	snprintf(rs->r[i].text, sizeof(rs->r[i].text), "%s", why);
	rs->r[i].n = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* Classify one line of a test binary's own (un-nested) output. */
static void parse_line(const char *line, struct binres *br)
{
	const char *hash;
	bool ok;

	if (!strncmp(line, "ok ", 3))
		ok = true;
	else if (!strncmp(line, "not ok ", 7))
		ok = false;
	else {
		char *end;
		long n;

		if (!strncmp(line, "1..", 3)) {
			n = strtol(line + 3, &end, 10);
			if (end != line + 3 && br->plan < 0)
				br->plan = n;
			/* kselftest's ksft_exit_skip(): the binary skips as a whole */
			if (n == 0 && !strncmp(end, " # SKIP", 7))
				snprintf(br->skip_why, sizeof(br->skip_why), "%s",
					 end + 7 + strspn(end + 7, " "));
		}
		return;
	}
	br->results++;
	hash = strstr(line, " # ");
	if (hash) {
		const char *d = hash + 3;

		while (*d == ' ')
			d++;
		if (!strncasecmp(d, "SKIP", 4)) {
			d += 4;
			d += strspn(d, " ");
			br->c.skip++;
			if (!br->skip_why[0])
				snprintf(br->skip_why, sizeof(br->skip_why), "%s", d);
			if (br->reasons)
				reason_add(br->reasons, d);
			return;
		}
	}
	if (ok)
		br->c.pass++;
	else
		br->c.fail++;
}

/*
 * One binary being run.  Its output is nested and parsed line by line; the
 * job whose turn it is to print (the lowest-numbered unfinished one) streams
 * straight to stdout, the others keep their lines in `held` until their
 * turn, so the output reads as if the binaries ran one after the other.
 */
struct job {
	const char *name;
	pid_t pid;
	int out;		/* read end of its stdout+stderr pipe, or -1 */
	int pidfd;		/* or -1: then poll() wakes every 100 ms */
	long long t0, t_end, deadline, kill_at;
	bool started, exited, timed_out, finished, streaming;
	int status;
	struct binres br;
	char line[4096];	/* the line being read */
	size_t len;
	bool truncated;		/* the current line was longer than line[] */
	char *held;		/* output waiting for its turn */
	size_t held_len, held_cap;
	char how[256];
	bool failed;
};

static void job_put(struct job *j, const char *s)
{
	size_t n = strlen(s);

	if (j->streaming) {
		out_str(s);
		return;
	}
	if (j->held_len + n + 1 > j->held_cap) {
		size_t cap = j->held_cap ? j->held_cap : 65536;
		char *p;

		while (cap < j->held_len + n + 1)
			cap *= 2;
		p = realloc(j->held, cap);
		if (!p) {	/* out of memory: print it now, out of order */
			out_str(s);
			return;
		}
		j->held = p;
		j->held_cap = cap;
	}
	memcpy(j->held + j->held_len, s, n + 1);
	j->held_len += n;
}

static void emit_line(struct job *j)
{
	j->line[j->len] = 0;
	if (!j->truncated) {
		parse_line(j->line, &j->br);
		job_put(j, "# ");
	}
	job_put(j, j->line);
	job_put(j, "\n");
	j->len = 0;
	j->truncated = false;
}

static void feed(struct job *j, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			emit_line(j);
			continue;
		}
		if (j->len == sizeof(j->line) - 1) {
			/* pass an over-long line on in pieces */
			j->line[j->len] = 0;
			if (!j->truncated)
				job_put(j, "# ");
			job_put(j, j->line);
			j->len = 0;
			j->truncated = true;
		}
		j->line[j->len++] = data[i];
	}
	if (j->streaming)
		fflush(stdout);
}

/* Read what is available; returns false on EOF or error. */
static bool drain(struct job *j)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(j->out, buf, sizeof(buf));

		if (n > 0) {
			feed(j, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return false;
	}
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static bool job_start(struct job *j, const char *dir, const char *filter,
		      long timeout_s)
{
	char path[PATH_MAX + 260];
	int pfd[2];

	snprintf(path, sizeof(path), "%s/%s", dir, j->name);
	j->br.plan = -1;
	j->out = j->pidfd = -1;
	j->started = true;
	j->t0 = now_ms();
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(j->how, sizeof(j->how), "pipe: %s", strerror(errno));
		return false;
	}
	fflush(stdout);
	j->pid = fork();
	if (j->pid < 0) {
		snprintf(j->how, sizeof(j->how), "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return false;
	}
	if (j->pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		char *argv[] = { path, NULL };

		setpgid(0, 0);
		if (nul >= 0 && nul != 0) {
			dup2(nul, 0);
			close(nul);
		}
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (filter)
			setenv("TEST_FILTER", filter, 1);
		else
			unsetenv("TEST_FILTER");
		execv(path, argv);
		fprintf(stderr, "run-tests: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	setpgid(j->pid, j->pid);
	close(pfd[1]);
	j->out = pfd[0];
	fcntl(j->out, F_SETFL, fcntl(j->out, F_GETFL) | O_NONBLOCK);
	j->pidfd = pidfd_open_(j->pid);
	j->deadline = j->t0 + timeout_s * 1000;
	return true;
}

/* Whether the ended binary failed; how says how it ended, if not plainly. */
static bool job_failed(struct job *j, long timeout_s)
{
	int status = j->status;

	if (!j->exited)
		return true;	/* it could not start: how says why */
	if (j->timed_out) {
		snprintf(j->how, sizeof(j->how), "TIMEOUT %ld seconds", timeout_s);
		return true;
	}
	if (WIFSIGNALED(status)) {
		snprintf(j->how, sizeof(j->how), "killed by signal %d", WTERMSIG(status));
		return true;
	}
	if (WEXITSTATUS(status) == 4 && j->br.c.fail == 0) {
		/* kselftest: the binary skipped as a whole; it counts as one
		 * skipped test when it reported none */
		snprintf(j->how, sizeof(j->how), "SKIP%s%s",
			 j->br.skip_why[0] ? " " : "", j->br.skip_why);
		if (!j->br.results) {
			j->br.c.skip = 1;
			if (j->br.reasons)
				reason_add(j->br.reasons, j->br.skip_why);
		}
		return false;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(j->how, sizeof(j->how), "exit=%d", WEXITSTATUS(status));
		return true;
	}
	if (j->br.plan < 0 || j->br.results < (unsigned long)j->br.plan) {
		snprintf(j->how, sizeof(j->how), "incomplete: %lu of %ld results",
			 j->br.results, j->br.plan);
		return true;
	}
	if (j->br.c.fail == 0 && j->br.c.pass == 0 && j->br.c.skip > 0)
		snprintf(j->how, sizeof(j->how), "SKIP all %lu tests: %s",
			 j->br.c.skip, j->br.skip_why);
	return j->br.c.fail > 0;
}

/* The binary has ended (or never started): take the rest of its output (a
 * leftover grandchild may hold the pipe: stop after 50 ms of silence) and
 * judge it. */
static void job_finish(struct job *j, long timeout_s)
{
	if (j->out >= 0) {
		struct pollfd p = { .fd = j->out, .events = POLLIN };

		while (poll(&p, 1, 50) > 0 && drain(j))
			;
		close(j->out);
		j->out = -1;
	}
	if (j->len)
		emit_line(j);
	if (j->pidfd >= 0)
		close(j->pidfd);
	j->pidfd = -1;
	j->finished = true;
	j->t_end = now_ms();
	j->failed = job_failed(j, timeout_s);
	if (j->failed && j->br.c.fail == 0)
		j->br.c.fail = 1;
}

static void job_say(struct job *j, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	job_put(j, msg);
	if (j->streaming)
		fflush(stdout);
}

/* Time limits: SIGTERM to the binary's process group at the deadline,
 * SIGKILL GRACE_MS later.  Returns ms until the next one is due. */
static long long job_timers(struct job *j, long timeout_s)
{
	long long left = (j->kill_at ? j->kill_at : j->deadline) - now_ms();

	if (left > 0)
		return left;
	if (!j->kill_at) {
		j->timed_out = true;
		job_say(j, "# run-tests: %s timed out after %ld s, sending SIGTERM\n",
			j->name, timeout_s);
		kill(-j->pid, SIGTERM);
		j->kill_at = now_ms() + GRACE_MS;
		return GRACE_MS;
	}
	job_say(j, "# run-tests: %s still running, sending SIGKILL\n", j->name);
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
	j->kill_at = now_ms() + 3600 * 1000LL;
	return 1000;
}

/* Reap every child that has ended (PID 1 also gets orphans) and mark the
 * jobs they belong to. */
static void reap_all(struct job *jobs, size_t n)
{
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].started && !jobs[i].exited && jobs[i].pid == w) {
				jobs[i].exited = true;
				jobs[i].status = st;
			}
		}
	}
}

/* Run the binaries, up to `parallel` at once; print each one's output,
 * "# NAME: ..." and its "ok K NAME" line in name order. */
static void run_all(struct job *jobs, size_t n, unsigned parallel,
		    const char *dir, const char *filter, long timeout_s,
		    struct counts *tot, struct reasons *rs)
{
	size_t next = 0, head = 0;
	unsigned running = 0;
	struct pollfd *fds = calloc(2 * (parallel ? parallel : 1), sizeof(*fds));

	if (!fds) {
		perror("run-tests: calloc");
		parallel = 1;
	}
	while (head < n) {
		int nfds = 0, tmo = 1000;

		while (running < parallel && next < n) {
			struct job *j = &jobs[next++];

			j->br.reasons = rs;
			if (j == &jobs[head]) {
				j->streaming = true;
				out("# selftests: ramfuse: %s\n", j->name);
			}
			if (job_start(j, dir, filter, timeout_s))
				running++;
			else
				job_finish(j, timeout_s);
		}
		reap_all(jobs, next);
		for (size_t i = head; i < next; i++) {
			struct job *j = &jobs[i];
			long long left;

			if (j->finished)
				continue;
			if (j->exited) {
				job_finish(j, timeout_s);
				running--;
				continue;
			}
			left = job_timers(j, timeout_s);
			if (left < tmo)
				tmo = (int)left;
			if (!fds)
				continue;
			if (j->out >= 0) {
				fds[nfds].fd = j->out;
				fds[nfds++].events = POLLIN;
			}
			if (j->pidfd >= 0) {
				fds[nfds].fd = j->pidfd;
				fds[nfds++].events = POLLIN;
			} else if (tmo > 100) {
				tmo = 100;
			}
		}
		/* print, in order, every finished job whose turn has come */
		while (head < n && jobs[head].finished) {
			struct job *j = &jobs[head];

			if (!j->streaming) {
				out("# selftests: ramfuse: %s\n", j->name);
				if (j->held_len)
					out_str(j->held);
			}
			free(j->held);
			j->held = NULL;
			tot->pass += j->br.c.pass;
			tot->fail += j->br.c.fail;
			tot->skip += j->br.c.skip;
			out("# %s: %lu passed, %lu failed, %lu skipped in %.1f s\n",
			       j->name, j->br.c.pass, j->br.c.fail, j->br.c.skip,
			       (double)(j->t_end - j->t0) / 1000.0);
			out("%s %zu %s%s%s\n", j->failed ? "not ok" : "ok", head + 1,
			       j->name, j->how[0] ? " # " : "", j->how);
			fflush(stdout);
			head++;
			if (head < next && !jobs[head].finished) {
				/* its turn: what it said so far, then live */
				out("# selftests: ramfuse: %s\n", jobs[head].name);
				if (jobs[head].held_len)
					out_str(jobs[head].held);
				jobs[head].held_len = 0;
				jobs[head].streaming = true;
				fflush(stdout);
			}
		}
		if (head >= n)
			break;
		if (!running || (running < parallel && next < n))
			continue;	/* start the next one first */
		if (poll(fds, (nfds_t)nfds, tmo) < 0 && errno != EINTR)
			usleep(10000);
		for (size_t i = head; i < next; i++) {
			struct job *j = &jobs[i];

			if (!j->finished && j->out >= 0 && !drain(j)) {
				close(j->out);
				j->out = -1;
			}
		}
	}
	free(fds);
}

static void mount_if_missing(const char *target, const char *type,
			     const char *probe)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", target, probe);
	if (stat(p, &st) == 0)
		return;
	mkdir(target, 0755);
	mount(type, target, type, 0, NULL);
}

/*
 * PID 1 in a bare initramfs: provide what the tests need, but only what is
 * missing (never mount over an existing /tmp: in a container or a PID
 * namespace we share the mounts of the host).
 */
static void be_init(void)
{
	struct stat st;

	mount_if_missing("/proc", "proc", "self");
	mount_if_missing("/sys", "sysfs", "kernel");
	mount_if_missing("/dev", "devtmpfs", "null");
	if (stat("/tmp", &st) != 0)
		mkdir("/tmp", 01777);
}

/* What every test that mounts needs; without it they skip, and a run of
 * skips tests nothing.  Empty when the run has it all. */
static void run_lacks(char *why, size_t len)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	int n = 0;

	why[0] = 0;
	if (geteuid() != 0)
		n = snprintf(why, len, "not root (euid %u)", (unsigned)geteuid());
	if (fd >= 0)
		close(fd);
	else if (n >= 0 && (size_t)n < len)
		snprintf(why + n, len - (size_t)n, "%s/dev/fuse: %s", n ? ", " : "",
			 strerror(errno));
}

/*
 * The run's exit status beyond "something failed" (1): a -t FILTER that
 * matches no test is a usage error (2); a run that tested nothing (no
 * binaries, no tests, every test skipped, or tests skipped while the run
 * lacks root or /dev/fuse) is kselftest's skip (4), never a pass.
 */
static int verdict(const struct counts *tot, size_t n, const char *dir, const char *filter, const char *lacks,
		   const struct reasons *rs)
{
	char list[400];
	size_t at = 0, used[MAX_REASONS] = { 0 };

	if (tot->fail)
		return 1;
	if (filter && n && !tot->pass && !tot->skip) {
		out("# run-tests: -t %s: no test matches it\n", filter);
		fprintf(stderr, "run-tests: -t %s: no test matches it "
			"(names are binary.fixture[.variant].test)\n", filter);
		return 2;
	}
	if (!n || (!tot->pass && !tot->skip)) {
		out("# run-tests: SKIP: nothing was tested: %s %s\n",
		       n ? "the binaries hold no tests in" : "no *_test binaries in", dir);
		return 4;
	}
	if (tot->pass && (!tot->skip || !lacks[0]))
		return 0;
	/* the reasons, most frequent first */
	list[0] = 0;
	for (int k = 0; k < 3; k++) {
		int best = -1;

		for (int i = 0; i < MAX_REASONS && rs->r[i].n; i++)
			if (!used[i] && (best < 0 || rs->r[i].n > rs->r[best].n ||
					 (rs->r[i].n == rs->r[best].n &&
					  strcmp(rs->r[i].text, rs->r[best].text) < 0)))
				best = i;	/* ties by name: the same with -j */
		if (best < 0)
			break;
		used[best] = 1;
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%lu x %s",
				       at ? "; " : "", rs->r[best].n, rs->r[best].text);
		if (at >= sizeof(list))
			break;
	}
	if (!tot->pass)
		out("# run-tests: SKIP: nothing was tested: all %lu tests skipped (%s)\n",
		       tot->skip, list);
	else
		out("# run-tests: SKIP: %lu tests skipped because the run lacks what "
		       "the suite needs: %s; run as root with /dev/fuse (%s)\n",
		       tot->skip, lacks, list);
	return 4;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: run-tests [-j N] [-t FILTER] [--tap FILE] [--junit FILE] [DIR]\n"
		   "       run-tests --tap-to-junit IN --junit FILE\n"
		   "  runs DIR/*_test (default: the directory of run-tests)\n"
		   "  -j N       run N binaries at once (default 1, or RUN_TESTS_JOBS);\n"
		   "             the output still comes binary by binary, in order\n"
		   "  -t FILTER  passed to every binary as TEST_FILTER; matching no\n"
		   "             test is a usage error (exit 2)\n"
		   "  --tap FILE    also write the TAP stream (stdout) to FILE\n"
		   "  --junit FILE  write the results as JUnit XML to FILE\n"
		   "  --tap-to-junit IN  run nothing: read IN (run-tests' output,\n"
		   "             e.g. a VM console log; - for stdin) for --junit\n"
		   "  RUN_TESTS_TIMEOUT=SECS per binary (default 600)\n"
		   "exit: 0 passed, 1 a test failed, 2 usage, 4 nothing was tested\n");
}

static int parse_jobs(const char *s, unsigned *jobs)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 64)
		return -1;
	*jobs = (unsigned)v;
	return 0;
}

/* --tap-to-junit: the JUnit of a saved run (one reader for both). */
static int tap_to_junit(const char *in, const char *junit)
{
	struct junit *j = junit_new();
	FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
	char buf[8192];
	size_t n;
	int err;

	if (!f || !j) {
		fprintf(stderr, "run-tests: --tap-to-junit %s: %s\n", in,
			strerror(f ? ENOMEM : errno));
		junit_free(j);
		return 2;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		junit_feed(j, buf, n);
	err = ferror(f) ? -EIO : 0;
	if (f != stdin)
		fclose(f);
	if (!err)
		err = junit_write(j, junit);
	junit_free(j);
	if (err) {
		fprintf(stderr, "run-tests: --junit %s: %s\n", junit, strerror(-err));
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tap", required_argument, NULL, 'T' },
		{ "junit", required_argument, NULL, 'J' },
		{ "tap-to-junit", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tap = NULL, *junit = NULL, *from_tap = NULL;
	const char *filter = NULL, *env;
	char dir[PATH_MAX];
	char **names = NULL;
	struct job *jobs;
	unsigned parallel = 1;
	size_t n = 0, cap = 0;
	struct counts tot = { 0, 0, 0 };
	struct reasons reasons;
	char lacks[200];
	int rc;
	long timeout_s = 600;
	long long start = now_ms();
	bool init = getpid() == 1;
	struct dirent *de;
	DIR *d;
	int opt;

	env = getenv("RUN_TESTS_JOBS");
	if (env && *env && parse_jobs(env, &parallel)) {
		fprintf(stderr, "run-tests: RUN_TESTS_JOBS=%s: want a number 1..64\n", env);
		return 2;
	}
	while ((opt = getopt_long(argc, argv, "j:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			tap = optarg;
			break;
		case 'J':
			junit = optarg;
			break;
		case 'X':
			from_tap = optarg;
			break;
		case 'j':
			if (parse_jobs(optarg, &parallel)) {
				fprintf(stderr, "run-tests: -j %s: want a number 1..64\n", optarg);
				return 2;
			}
			break;
		case 't':
			filter = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (from_tap) {
		if (!junit || tap || optind < argc) {
			fprintf(stderr, "run-tests: --tap-to-junit IN wants --junit FILE and nothing else\n");
			return 2;
		}
		return tap_to_junit(from_tap, junit);
	}
	if (tap) {
		sink.tap = fopen(tap, "we");
		if (!sink.tap) {
			fprintf(stderr, "run-tests: --tap %s: %s\n", tap, strerror(errno));
			return 2;
		}
	}
	if (junit && !(sink.junit = junit_new())) {
		fprintf(stderr, "run-tests: --junit: out of memory\n");
		return 2;
	}
	if (init)
		be_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	env = getenv("RUN_TESTS_TIMEOUT");
	if (env && atol(env) > 0)
		timeout_s = atol(env);

	if (optind < argc) {
		snprintf(dir, sizeof(dir), "%s", argv[optind]);
	} else {
		ssize_t l = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		char *slash;

		if (l > 0)
			dir[l] = 0;
		else
			snprintf(dir, sizeof(dir), "%s", argv[0]);
		slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = 0;
		else if (slash)
			slash[1] = 0;
		else
			snprintf(dir, sizeof(dir), ".");
	}

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "run-tests: %s: %s\n", dir, strerror(errno));
		out("0 passed, 1 failed, 0 skipped\n");
		return 1;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX + 260];
		struct stat st;

		if (!ends_with(de->d_name, "_test"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || access(path, X_OK))
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 16;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				perror("run-tests: realloc");
				return 1;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			perror("run-tests: strdup");
			return 1;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);

	jobs = calloc(n ? n : 1, sizeof(*jobs));
	if (!jobs) {
		perror("run-tests: calloc");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		jobs[i].name = names[i];
	memset(&reasons, 0, sizeof(reasons));
	run_lacks(lacks, sizeof(lacks));
	out("TAP version 13\n");
	out("1..%zu\n", n);
	if (lacks[0])
		out("# run-tests: this run lacks %s: tests that mount will skip\n", lacks);
	run_all(jobs, n, parallel, dir, filter, timeout_s, &tot, &reasons);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(jobs);
	out("# elapsed %.1f s\n", (double)(now_ms() - start) / 1000.0);
	rc = verdict(&tot, n, dir, filter, lacks, &reasons);
	out("%lu passed, %lu failed, %lu skipped\n", tot.pass, tot.fail,
	       tot.skip);
	fflush(stdout);
	if (sink.tap && fclose(sink.tap)) {
		fprintf(stderr, "run-tests: --tap %s: %s\n", tap, strerror(errno));
		rc = rc ? rc : 2;
	}
	if (sink.junit) {
		int err = junit_write(sink.junit, junit);

		if (err) {
			fprintf(stderr, "run-tests: --junit %s: %s\n", junit, strerror(-err));
			rc = rc ? rc : 2;
		}
		junit_free(sink.junit);
	}
	if (init) {
		sync();
		reboot(RB_POWER_OFF);
		for (;;)
			pause();
	}
	return rc;
}
