/*
 * vm/init.c: PID 1 of the ramfuse test VM (see vm/run).
 *
 * Sets up a minimal system (proc, sysfs, devtmpfs, tmpfs on /tmp, the FUSE
 * module and fusectl), runs the test runner as its child with its output
 * on the console, reaps orphans meanwhile, then prints one result line
 *
 *	RAMFUSE-VM-RESULT: exit=N	the runner exited with status N
 *	RAMFUSE-VM-RESULT: timeout	the runner ran past ramfuse.timeout
 *	RAMFUSE-VM-RESULT: error	the VM could not run the suite
 *
 * and powers off.  When QEMU has an isa-debug-exit device at port 0xf4,
 * the same result is also written there (0x10 passed, 0x11 failed,
 * 0x12 timeout, 0x13 error), which makes QEMU exit with status
 * 2 * value + 1 (33, 35, 37, 39: apart from QEMU's own 0 and 1).
 *
 * Options come from the kernel command line (/proc/cmdline, and from argv
 * for use outside a VM):
 *	ramfuse.tests=FILTER	passed to the runner as -t FILTER
 *	ramfuse.timeout=S	kill the runner after S seconds (0: never)
 *	ramfuse.runner=PATH	runner binary (default /test/run-tests)
 *	ramfuse.testdir=DIR	test directory (default /test)
 *	ramfuse.env.NAME=VALUE	NAME=VALUE in the runner's environment
 *				(a later one for the same NAME wins)
 *	ramfuse.uring=1		switch the kernel's FUSE over io_uring on
 *				(enable_uring; Linux 6.14+, CONFIG_FUSE_IO_URING)
 *	ramfuse.coverage=1	zero the kernel's gcov counters before the
 *				suite; after it, print fs/fuse's .gcda files
 *				(vm/run --coverage reads them back):
 *		RAMFUSE-GCOV-BEGIN
 *		RAMFUSE-GCOV-FILE SIZE fs/fuse/NAME.gcda
 *		base64 lines
 *		RAMFUSE-GCOV-END
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define RESULT_PREFIX "RAMFUSE-VM-RESULT: "
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_BASE 0x10
#define MODULE_INIT_COMPRESSED_FILE 4
#define MAX_ENV 16

enum result { RES_PASS, RES_FAIL, RES_TIMEOUT, RES_ERROR };

struct options {
	char tests[256];
	char runner[256];
	char testdir[256];
	long timeout;		/* seconds, 0 = none */
	char *env[MAX_ENV + 1];	/* ramfuse.env.NAME=VALUE, NULL-terminated */
	int nenv;
	bool uring;		/* ramfuse.uring=1 */
	bool coverage;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "init: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t r = write(STDOUT_FILENO, line, n);
	(void)r;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Make fds 0, 1 and 2 the console; the kernel does so only when the
 * initramfs has /dev/console. */
static void open_console(void)
{
	if (fcntl(STDOUT_FILENO, F_GETFD) >= 0)
		return;
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") != 0)
		mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;		/* nowhere to report; carry on blind */
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* Mount TYPE on DIR; EBUSY (already mounted) counts as success. */
static bool mount_fs(const char *type, const char *dir, unsigned long flags,
		     const char *data)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		say("cannot create %s: %s", dir, strerror(errno));
		return false;
	}
	if (mount(type, dir, type, flags, data) != 0 && errno != EBUSY) {
		say("cannot mount %s on %s: %s", type, dir, strerror(errno));
		return false;
	}
	return true;
}

static bool fs_registered(const char *name)
{
	FILE *f = fopen("/proc/filesystems", "r");
	if (!f)
		return false;
	char line[128];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *tab = strrchr(line, '\t');
		char *p = tab ? tab + 1 : line;
		p[strcspn(p, "\n")] = '\0';
		found = strcmp(p, name) == 0;
	}
	fclose(f);
	return found;
}

/* Load /lib/modules/NAME.ko (or .ko.xz/.ko.zst/.ko.gz, which the kernel
 * decompresses itself when built with CONFIG_MODULE_DECOMPRESS).
 * Returns 1 loaded, 0 no such file, -1 failed. */
static int load_module(const char *name)
{
	static const char *const sfx[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "/lib/modules/%s%s", name, sfx[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		int flags = i ? MODULE_INIT_COMPRESSED_FILE : 0;
		long r = syscall(SYS_finit_module, fd, "", flags);
		int err = errno;
		close(fd);
		if (r == 0) {
			say("loaded %s", path);
			return 1;
		}
		if (err == EEXIST)
			return 1;
		say("cannot load %s: %s%s", path, strerror(err),
		    err == ENOEXEC ? " (module built for another kernel?)" : "");
		return -1;
	}
	return 0;
}

/* FUSE built in or loaded from /lib/modules, /dev/fuse present, fusectl
 * mounted when the kernel has it.  False when FUSE cannot work. */
static bool setup_fuse(void)
{
	if (!fs_registered("fuse")) {
		int r = load_module("fuse");
		if (r == 0) {
			say("the kernel has no FUSE (CONFIG_FUSE_FS) and "
			    "/lib/modules has no fuse.ko");
			return false;
		}
		if (r < 0 || !fs_registered("fuse")) {
			say("FUSE unavailable: fuse module did not register");
			return false;
		}
	} else {
		say("FUSE is built into the kernel");
	}
	load_module("cuse");	/* optional */

	struct stat st;
	if (stat("/dev/fuse", &st) != 0) {
		say("devtmpfs has no /dev/fuse, creating it (10:229)");
		if (mknod("/dev/fuse", S_IFCHR | 0666, makedev(10, 229)) != 0) {
			say("cannot create /dev/fuse: %s", strerror(errno));
			return false;
		}
	} else if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 10 ||
		   minor(st.st_rdev) != 229) {
		say("/dev/fuse is not the 10:229 character device");
		return false;
	} else {
		chmod("/dev/fuse", 0666);
	}
	if (fs_registered("fusectl") && access("/sys/fs/fuse/connections", F_OK) == 0)
		mount_fs("fusectl", "/sys/fs/fuse/connections", 0, NULL);
	return true;
}

/* The guest is ours alone: the parameter stays on until power-off. */
static void enable_uring(void)
{
	const char *p = "/sys/module/fuse/parameters/enable_uring";
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "Y", 1) != 1)
		say("ramfuse.uring=1: %s: %s", p, fd < 0 && errno == ENOENT
		    ? "no FUSE over io_uring in this kernel" : strerror(errno));
	else
		say("FUSE over io_uring switched on (enable_uring=Y)");
	if (fd >= 0)
		close(fd);
}

static void copy_opt(char *dst, size_t size, const char *val, const char *key)
{
	if (strlen(val) >= size) {
		say("ignoring ramfuse.%s: longer than %zu bytes", key, size - 1);
		return;
	}
	strcpy(dst, val);
}

static void set_option(struct options *o, const char *arg)
{
	if (strncmp(arg, "ramfuse.", 8) != 0)
		return;
	const char *key = arg + 8;
	const char *eq = strchr(key, '=');
	if (!eq)
		return;
	size_t klen = eq - key;
	const char *val = eq + 1;
	if (klen == 5 && !strncmp(key, "tests", 5)) {
		copy_opt(o->tests, sizeof(o->tests), val, "tests");
	} else if (klen == 6 && !strncmp(key, "runner", 6)) {
		copy_opt(o->runner, sizeof(o->runner), val, "runner");
	} else if (klen == 7 && !strncmp(key, "testdir", 7)) {
		copy_opt(o->testdir, sizeof(o->testdir), val, "testdir");
	} else if (klen == 7 && !strncmp(key, "timeout", 7)) {
		char *end;
		errno = 0;
		long t = strtol(val, &end, 10);
		if (errno || end == val || *end || t < 0)
			say("ignoring ramfuse.timeout=%s: not a number of seconds", val);
		else
			o->timeout = t;
	} else if (klen == 5 && !strncmp(key, "uring", 5)) {
		o->uring = !strcmp(val, "1");
	} else if (klen == 8 && !strncmp(key, "coverage", 8)) {
		o->coverage = !strcmp(val, "1");
	} else if (klen > 4 && !strncmp(key, "env.", 4)) {
		const char *name = key + 4;
		bool ok = name != eq;
		for (const char *c = name; c < eq; c++)
			ok &= isalnum((unsigned char)*c) || *c == '_';
		int slot = o->nenv;
		/* a later ramfuse.env.NAME= wins, as vm/run's --append expects */
		for (int i = 0; ok && i < o->nenv; i++)
			if (!strncmp(o->env[i], name, eq - name + 1))
				slot = i;
		if (!ok || slot >= MAX_ENV)
			say("ignoring %s: %s", arg, ok ? "too many ramfuse.env options"
						   : "not a variable name");
		else {
			o->env[slot] = strdup(name);
			if (slot == o->nenv)
				o->nenv++;
		}
	} else {
		say("ignoring unknown option %.*s", (int)(eq - arg), arg);
	}
}

/* Split the command line like the kernel does: blanks separate words,
 * double quotes group (and are removed). */
static void parse_cmdline(struct options *o)
{
	static char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say("cannot read /proc/cmdline: %s", strerror(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = buf;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		char *w = p, *out = p;
		bool quoted = false;
		while (*p && (quoted || !isspace((unsigned char)*p))) {
			if (*p == '"')
				quoted = !quoted;
			else
				*out++ = *p;
			p++;
		}
		if (*p)
			p++;
		*out = '\0';
		set_option(o, w);
	}
}

static pid_t start_runner(const struct options *o)
{
	char *argv[6];
	int argc = 0;
	argv[argc++] = (char *)o->runner;
	if (o->tests[0]) {
		argv[argc++] = "-t";
		argv[argc++] = (char *)o->tests;
	}
	argv[argc++] = (char *)o->testdir;
	argv[argc] = NULL;
	static const char *const base_env[] = {
		"PATH=/bin:/test", "RAMFUSE=/bin/ramfuse", "HOME=/",
		"TMPDIR=/tmp", "TERM=dumb", "RAMFUSE_VM=1",
	};
	enum { NBASE = sizeof(base_env) / sizeof(base_env[0]) };
	char *envp[NBASE + MAX_ENV + 1];
	int n = 0;
	for (int i = 0; i < o->nenv; i++) {	/* first: getenv() finds these */
		envp[n++] = o->env[i];
		say("environment: %s", o->env[i]);
	}
	for (int i = 0; i < NBASE; i++)
		envp[n++] = (char *)base_env[i];
	envp[n] = NULL;

	say("running %s%s%s %s%s", o->runner, o->tests[0] ? " -t " : "",
	    o->tests, o->testdir, o->timeout ? "" : " (no time limit)");
	pid_t pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		if (chdir("/") != 0)
			_exit(127);
		execve(o->runner, argv, envp);
		say("cannot run %s: %s", o->runner, strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Wait for the runner, reaping every other child on the way.  Returns its
 * wait status, or -1 when it ran past the time limit. */
static int wait_runner(pid_t runner, long timeout)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	double deadline = timeout ? now() + timeout : 0;

	for (;;) {
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == runner)
				return status;
		if (pid < 0 && errno == ECHILD) {
			say("lost the test runner");
			return 127 << 8;
		}
		if (!deadline) {
			sigwaitinfo(&chld, NULL);
			continue;
		}
		double left = deadline - now();
		if (left <= 0)
			return -1;
		struct timespec ts = { (time_t)left,
				       (long)((left - (time_t)left) * 1e9) };
		sigtimedwait(&chld, NULL, &ts);
	}
}

#define GCOV_DIR "/sys/kernel/debug/gcov"

/* debugfs, and the gcov counters zeroed: the suite's coverage only */
static bool gcov_start(void)
{
	if (!mount_fs("debugfs", "/sys/kernel/debug", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return false;
	int fd = open(GCOV_DIR "/reset", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		say("coverage: %s/reset: %s (no CONFIG_GCOV_KERNEL?)", GCOV_DIR, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* One .gcda under fs/fuse/ as a header line and base64 lines of 76. */
static int gcov_print(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *rel = strstr(path, "/fs/fuse/");
	size_t len = strlen(path);
	(void)st, (void)ftw;
	if (type != FTW_F || !rel || len < 5 || strcmp(path + len - 5, ".gcda"))
		return 0;
	/* debugfs sizes are 0: read it whole first */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 16, n = 0;
	unsigned char *data = malloc(cap);
	ssize_t r = 0;
	while (fd >= 0 && data && (r = read(fd, data + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			unsigned char *more = realloc(data, cap *= 2);
			if (!more)
				break;
			data = more;
		}
	}
	if (fd >= 0)
		close(fd);
	if (fd < 0 || !data || r < 0) {
		say("coverage: %s: %s", path, strerror(errno));
		free(data);
		return 0;
	}
	printf("RAMFUSE-GCOV-FILE %zu %s\n", n, rel + 1);
	char line[80];
	size_t l = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (i + 1 < n ? data[i + 1] << 8 : 0) |
			     (i + 2 < n ? data[i + 2] : 0);
		line[l++] = b64[v >> 18 & 63];
		line[l++] = b64[v >> 12 & 63];
		line[l++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		line[l++] = i + 2 < n ? b64[v & 63] : '=';
		if (l == 76 || i + 3 >= n) {
			printf("%.*s\n", (int)l, line);
			l = 0;
		}
	}
	free(data);
	return 0;
}

/* After the suite: fs/fuse's counters on the console, the kernel quiet
 * meanwhile so that no message splits a line. */
static void gcov_dump(void)
{
	int fd = open("/proc/sys/kernel/printk", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			say("coverage: quieting the kernel: %s", strerror(errno));
		close(fd);
	}
	printf("RAMFUSE-GCOV-BEGIN\n");
	if (nftw(GCOV_DIR, gcov_print, 16, FTW_PHYS) != 0)
		say("coverage: %s: %s", GCOV_DIR, strerror(errno));
	printf("RAMFUSE-GCOV-END\n");
	fflush(stdout);
}

static void finish(enum result res, int code) __attribute__((noreturn));
static void finish(enum result res, int code)
{
	char line[64];
	switch (res) {
	case RES_PASS:
	case RES_FAIL:
		snprintf(line, sizeof(line), "\n" RESULT_PREFIX "exit=%d\n", code);
		break;
	case RES_TIMEOUT:
		snprintf(line, sizeof(line), "\n" RESULT_PREFIX "timeout\n");
		break;
	default:
		snprintf(line, sizeof(line), "\n" RESULT_PREFIX "error\n");
		break;
	}
	ssize_t r = write(STDOUT_FILENO, line, strlen(line));
	(void)r;
	tcdrain(STDOUT_FILENO);	/* all of it out of the UART before exit */

	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outb((unsigned char)(DEBUG_EXIT_BASE + res), DEBUG_EXIT_PORT);
	/* No isa-debug-exit device (or no ioperm): power off.  No sync():
	 * there is no disk, and a dead FUSE daemon could block it. */
	reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	say("cannot power off: %s", strerror(errno));
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	open_console();
	if (getpid() != 1)
		say("warning: not PID 1 (pid %d)", (int)getpid());

	/* Keep SIGCHLD pending for sigtimedwait; PID 1 gets no default
	 * actions anyway. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	struct utsname u;
	if (uname(&u) == 0)
		say("ramfuse test VM, kernel %s %s", u.release, u.version);

	bool ok = mount_fs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	ok &= mount_fs("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	ok &= mount_fs("devtmpfs", "/dev", MS_NOSUID, "mode=0755");
	ok &= mount_fs("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
	if (!ok)
		finish(RES_ERROR, 0);
	mount_fs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777");

	struct options o = { .runner = "/test/run-tests", .testdir = "/test" };
	parse_cmdline(&o);
	for (int i = 1; i < argc; i++)
		set_option(&o, argv[i]);

	if (!setup_fuse())
		finish(RES_ERROR, 0);
	if (o.uring)
		enable_uring();
	if (access(o.runner, X_OK) != 0) {
		say("no test runner at %s: %s", o.runner, strerror(errno));
		finish(RES_ERROR, 0);
	}

	if (o.coverage && !gcov_start())
		o.coverage = false;
	double t0 = now();
	pid_t pid = start_runner(&o);
	if (pid < 0)
		finish(RES_ERROR, 0);
	int status = wait_runner(pid, o.timeout);
	if (status == -1) {
		say("test runner still running after %ld s (ramfuse.timeout), "
		    "killing it", o.timeout);
		kill(-pid, SIGKILL);
		kill(-1, SIGKILL);
		finish(RES_TIMEOUT, 0);
	}
	double took = now() - t0;
	if (WIFSIGNALED(status)) {
		say("test runner killed by signal %d (%s) after %.1f s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)), took);
		finish(RES_FAIL, 128 + WTERMSIG(status));
	}
	int code = WEXITSTATUS(status);
	say("test runner exited with status %d after %.1f s", code, took);
	if (o.coverage)
		gcov_dump();
	finish(code ? RES_FAIL : RES_PASS, code);
}
