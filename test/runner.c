// SPDX-License-Identifier: MIT
/*
 * run-tests - run every *_test binary in a directory, kselftest style.
 *
 *   run-tests [-t FILTER] [DIR]
 *
 * DIR defaults to the directory holding run-tests itself.  Every regular,
 * executable file whose name ends in "_test" is run, in name order, with
 * stdin on /dev/null, stdout+stderr streamed to our stdout prefixed by "# ",
 * and TEST_FILTER=FILTER in its environment when -t is given.  Each binary
 * gets RUN_TESTS_TIMEOUT seconds (default 600); then it receives SIGTERM
 * (its harness kills the running test and cleans up) and, 20 s later,
 * SIGKILL.
 *
 * Output: "TAP version 13", "1..M", the nested output, "ok K name" or
 * "not ok K name" per binary, a "# elapsed" line and finally exactly one
 * line "N passed, N failed, N skipped" counting the individual test result
 * lines of all binaries.  A binary that crashes, times out, exits non-zero
 * or reports fewer results than it planned counts as at least one failure.
 * Exit status 0 iff nothing failed.
 *
 * No shell is needed.  When run as PID 1 (a bare initramfs), it mounts
 * /proc, /sys and /dev if they are missing, creates /tmp if missing (the
 * initramfs root is writable), reaps orphans, and powers the machine off
 * at the end instead of exiting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
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

#define GRACE_MS 20000

struct counts {
	unsigned long pass, fail, skip;
};

struct binres {
	struct counts c;
	long plan;		/* -1: no plan line seen */
	unsigned long results;
};

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
			br->c.skip++;
			return;
		}
	}
	if (ok)
		br->c.pass++;
	else
		br->c.fail++;
}

struct linebuf {
	char buf[4096];
	size_t len;
	bool truncated;		/* the current line was longer than buf */
};

static void emit_line(struct linebuf *lb, struct binres *br)
{
	lb->buf[lb->len] = 0;
	if (!lb->truncated)
		parse_line(lb->buf, br);
	fputs("# ", stdout);
	fputs(lb->buf, stdout);
	fputc('\n', stdout);
	lb->len = 0;
	lb->truncated = false;
}

static void feed(struct linebuf *lb, const char *data, size_t n,
		 struct binres *br)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			emit_line(lb, br);
			continue;
		}
		if (lb->len == sizeof(lb->buf) - 1) {
			/* flush an over-long line in pieces */
			lb->buf[lb->len] = 0;
			fputs(lb->truncated ? "" : "# ", stdout);
			fputs(lb->buf, stdout);
			lb->len = 0;
			lb->truncated = true;
		}
		lb->buf[lb->len++] = data[i];
	}
	fflush(stdout);
}

/* Read what is available; returns false on EOF or error. */
static bool drain(int fd, struct linebuf *lb, struct binres *br)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			feed(lb, buf, (size_t)n, br);
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

/* Reap children; true once `pid` has been reaped (status in *status). */
static bool reap(pid_t pid, int *status)
{
	bool done = false;
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		if (w == pid) {
			*status = st;
			done = true;
		}
	}
	return done;
}

/*
 * Run one binary.  Returns a description of how it ended in `how` and
 * whether it should be counted as a failure.
 */
static bool run_one(const char *dir, const char *name, const char *filter,
		    long timeout_s, struct binres *br, char *how, size_t howlen)
{
	char path[PATH_MAX + 260];
	struct linebuf lb = { .len = 0 };
	long long deadline, kill_at = 0;
	bool open_pipe = true, exited = false, timed_out = false;
	int pfd[2], pidfd, status = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	br->plan = -1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(how, howlen, "pipe: %s", strerror(errno));
		return true;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(how, howlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return true;
	}
	if (pid == 0) {
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
	setpgid(pid, pid);
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
	pidfd = pidfd_open_(pid);
	deadline = now_ms() + timeout_s * 1000;

	while (!exited) {
		struct pollfd fds[2];
		int nfds = 0, tmo;
		long long left;

		if (reap(pid, &status)) {
			exited = true;
			break;
		}
		left = (kill_at ? kill_at : deadline) - now_ms();
		if (left <= 0) {
			if (!kill_at) {
				timed_out = true;
				fprintf(stdout, "# run-tests: %s timed out after %ld s, sending SIGTERM\n",
					name, timeout_s);
				kill(-pid, SIGTERM);
				kill_at = now_ms() + GRACE_MS;
			} else {
				fprintf(stdout, "# run-tests: %s still running, sending SIGKILL\n",
					name);
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				kill_at = now_ms() + 3600 * 1000LL;
			}
			continue;
		}
		if (open_pipe) {
			fds[nfds].fd = pfd[0];
			fds[nfds++].events = POLLIN;
		}
		if (pidfd >= 0) {
			fds[nfds].fd = pidfd;
			fds[nfds++].events = POLLIN;
		}
		tmo = pidfd >= 0 ? 1000 : 100;
		if (left < tmo)
			tmo = (int)left;
		if (poll(fds, (nfds_t)nfds, tmo) < 0 && errno != EINTR)
			usleep(10000);
		if (open_pipe && !drain(pfd[0], &lb, br))
			open_pipe = false;
	}
	/* output written before exit; a leftover grandchild may hold the pipe */
	if (open_pipe) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };

		while (poll(&p, 1, 50) > 0 && drain(pfd[0], &lb, br))
			;
	}
	if (lb.len)
		emit_line(&lb, br);
	close(pfd[0]);
	if (pidfd >= 0)
		close(pidfd);

	if (timed_out) {
		snprintf(how, howlen, "TIMEOUT %ld seconds", timeout_s);
		return true;
	}
	if (WIFSIGNALED(status)) {
		snprintf(how, howlen, "killed by signal %d", WTERMSIG(status));
		return true;
	}
	if (WEXITSTATUS(status) == 4 && br->c.fail == 0) {
		snprintf(how, howlen, "SKIP");
		return false;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(how, howlen, "exit=%d", WEXITSTATUS(status));
		return true;
	}
	if (br->plan < 0 || br->results < (unsigned long)br->plan) {
		snprintf(how, howlen, "incomplete: %lu of %ld results", br->results,
			 br->plan);
		return true;
	}
	how[0] = 0;
	return br->c.fail > 0;
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

static void usage(FILE *f)
{
	fprintf(f, "usage: run-tests [-t FILTER] [DIR]\n"
		   "  runs DIR/*_test (default: the directory of run-tests)\n"
		   "  -t FILTER  passed to every binary as TEST_FILTER\n"
		   "  RUN_TESTS_TIMEOUT=SECS per binary (default 600)\n");
}

int main(int argc, char **argv)
{
	const char *filter = NULL, *env;
	char dir[PATH_MAX], how[128];
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct counts tot = { 0, 0, 0 };
	long timeout_s = 600;
	long long start = now_ms();
	bool init = getpid() == 1;
	struct dirent *de;
	DIR *d;
	int opt;

	while ((opt = getopt(argc, argv, "t:h")) != -1) {
		switch (opt) {
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
		printf("0 passed, 1 failed, 0 skipped\n");
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

	printf("TAP version 13\n");
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		struct binres br;
		long long t0 = now_ms();
		bool failed;

		memset(&br, 0, sizeof(br));
		printf("# selftests: ramfuse: %s\n", names[i]);
		failed = run_one(dir, names[i], filter, timeout_s, &br, how,
				 sizeof(how));
		if (failed && br.c.fail == 0)
			br.c.fail = 1;
		tot.pass += br.c.pass;
		tot.fail += br.c.fail;
		tot.skip += br.c.skip;
		printf("# %s: %lu passed, %lu failed, %lu skipped in %.1f s\n",
		       names[i], br.c.pass, br.c.fail, br.c.skip,
		       (double)(now_ms() - t0) / 1000.0);
		printf("%s %zu %s%s%s\n",
		       failed ? "not ok" : "ok", i + 1, names[i],
		       how[0] ? " # " : "", how);
		free(names[i]);
	}
	free(names);
	printf("# elapsed %.1f s\n", (double)(now_ms() - start) / 1000.0);
	printf("%lu passed, %lu failed, %lu skipped\n", tot.pass, tot.fail,
	       tot.skip);
	fflush(stdout);
	if (init) {
		sync();
		reboot(RB_POWER_OFF);
		for (;;)
			pause();
	}
	return tot.fail ? 1 : 0;
}
