// SPDX-License-Identifier: MIT
/* fuse_util.c - see fuse_util.h */
#include "fuse_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MOUNT_TIMEOUT_MS 10000
#define EXIT_TIMEOUT_MS 5000

/* A daemon under ASan frees and leak-checks everything at exit: slower by
 * TEST_TIMEOUT_MULT, as the tests are (make check SANITIZE=1 sets it). */
static int exit_timeout_ms(void)
{
	const char *m = getenv("TEST_TIMEOUT_MULT");
	long mult = m ? strtol(m, NULL, 10) : 1;

	return EXIT_TIMEOUT_MS * (int)(mult >= 1 && mult <= 100 ? mult : 1);
}
#define STATS_TIMEOUT_MS 5000

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void coarse_clock_tick(void)
{
	struct timespec fine, t;

	/* past the fine clock now: later than any stamp taken so far */
	clock_gettime(CLOCK_REALTIME, &fine);
	for (int i = 0; i < 500; i++) {
		sleep_ms(2);
		clock_gettime(CLOCK_REALTIME_COARSE, &t);
		if (t.tv_sec > fine.tv_sec ||
		    (t.tv_sec == fine.tv_sec && t.tv_nsec > fine.tv_nsec))
			return;
	}
}

static void err_add_threads(struct ramfuse *rf);

static void __attribute__((format(printf, 2, 3)))
seterr(struct ramfuse *rf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rf->err, sizeof(rf->err), fmt, ap);
	va_end(ap);
}

/* append the tail of the daemon log to rf->err */
static void err_add_log(struct ramfuse *rf)
{
	char log[600];
	size_t n = rf_log(rf, log, sizeof(log));
	size_t l = strlen(rf->err);

	if (n && l < sizeof(rf->err) - 16)
		snprintf(rf->err + l, sizeof(rf->err) - l, "; log: %s", log);
}

/*
 * make check SANITIZE=1 points the sanitizers' log_path into the directory
 * $RAMFUSE_SAN_LOG: a report by daemon pid lands in a file ending in
 * ".PID".  Returns 1 (with the report's start in rf->err) if there is one.
 */
static int san_report(struct ramfuse *rf, pid_t pid)
{
	const char *dir = getenv("RAMFUSE_SAN_LOG");
	char suffix[24], path[PATH_MAX], text[700];
	struct dirent *de;
	int found = 0;
	DIR *d;

	if (!dir || pid <= 0 || !(d = opendir(dir)))
		return 0;
	snprintf(suffix, sizeof(suffix), ".%d", (int)pid);
	while (!found && (de = readdir(d))) {
		size_t nl = strlen(de->d_name), sl = strlen(suffix);
		ssize_t n = 0;
		int fd;

		if (nl <= sl || strcmp(de->d_name + nl - sl, suffix))
			continue;
		found = 1;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, text, sizeof(text) - 1);
			close(fd);
		}
		text[n > 0 ? n : 0] = 0;
		seterr(rf, "sanitizer report from daemon pid %d (%s): %s", (int)pid, path, text);
	}
	closedir(d);
	return found;
}

const char *ramfuse_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("RAMFUSE");
	char self[PATH_MAX];
	ssize_t l;

	if (env && *env)
		return env;
	l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l > 0) {
		char *slash;

		self[l] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			if ((size_t)snprintf(path, sizeof(path), "%s/../ramfuse",
					     self) < sizeof(path) &&
			    access(path, X_OK) == 0)
				return path;
		}
	}
	return "/bin/ramfuse";
}

int rf_can_mount(char *why, size_t len)
{
	const char *bin = ramfuse_path();
	int fd;

	if (geteuid() != 0) {
		snprintf(why, len, "needs root (euid %u)", (unsigned)geteuid());
		return -1;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "/dev/fuse unavailable: %s", strerror(errno));
		return -1;
	}
	close(fd);
	if (access(bin, X_OK)) {
		snprintf(why, len, "ramfuse binary %s: %s (set RAMFUSE)", bin,
			 strerror(errno));
		return -1;
	}
	return 0;
}

void close_fds_from(int from)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
		return;
#endif
	for (int fd = from; fd < 4096; fd++)
		close(fd);
}

static void child_reset(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	close_fds_from(3);
}

pid_t fork_clean(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child_reset();
	return pid;
}

bool pid_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t n;

	if (pid <= 0)
		return true;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

int wait_pid_gone(pid_t pid, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	while (!pid_gone(pid)) {
		if (now_ms() >= end)
			return -1;
		sleep_ms(5);
	}
	return 0;
}

/* waitpid with a timeout: 0 and *status, or -1 */
static int waitpid_timeout(pid_t pid, int *status, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep_ms(2);
	}
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int wait_child(pid_t pid, int timeout_ms)
{
	int status;

	if (waitpid_timeout(pid, &status, timeout_ms))
		return -1;
	return decode_status(status);
}

static pid_t spawn(const char *exe, const char *const argv[], const char *out)
{
	pid_t pid = fork_clean();

	if (pid != 0)
		return pid;
	{
		int in = open("/dev/null", O_RDONLY);
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (in < 0 || fd < 0)
			_exit(126);
		dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (in > 2)
			close(in);
		if (fd > 2)
			close(fd);
		execv(exe, (char *const *)argv);
		dprintf(2, "fuse_util: exec %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
}

static size_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (!len)
		return 0;
	if (fd >= 0) {
		while (got < len - 1) {
			ssize_t n = read(fd, buf + got, len - 1 - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		close(fd);
	}
	buf[got] = 0;
	return got;
}

int rf_run(const char *exe, const char *const argv[], int timeout_ms,
	   char *out, size_t outlen)
{
	char tmp[] = "/tmp/ramfuse-run.XXXXXX";
	int fd = mkstemp(tmp), status, rc;
	pid_t pid;

	if (out && outlen)
		out[0] = 0;
	if (fd < 0)
		return -1;
	close(fd);
	pid = spawn(exe, argv, tmp);
	if (pid < 0) {
		unlink(tmp);
		return -1;
	}
	if (waitpid_timeout(pid, &status, timeout_ms)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		rc = -1;
	} else {
		rc = decode_status(status);
	}
	if (out)
		read_file(tmp, out, outlen);
	unlink(tmp);
	return rc;
}

size_t rf_log(const struct ramfuse *rf, char *buf, size_t len)
{
	if (rf->log[0])
		return read_file(rf->log, buf, len);
	if (len)
		buf[0] = 0;
	return 0;
}

int rf_prepare(struct ramfuse *rf)
{
	memset(rf, 0, sizeof(*rf));
	rf->exit_status = -1;
	snprintf(rf->base, sizeof(rf->base), "/tmp/ramfuse-test.XXXXXX");
	if (!mkdtemp(rf->base)) {
		seterr(rf, "mkdtemp: %s", strerror(errno));
		rf->base[0] = 0;
		return -1;
	}
	snprintf(rf->mnt, sizeof(rf->mnt), "%s/mnt", rf->base);
	snprintf(rf->stats, sizeof(rf->stats), "%s/stats", rf->base);
	snprintf(rf->log, sizeof(rf->log), "%s/log", rf->base);
	if (mkdir(rf->mnt, 0755)) {
		seterr(rf, "mkdir %s: %s", rf->mnt, strerror(errno));
		return -1;
	}
	return 0;
}

/* wait for the stats file and take the pid from it */
static int wait_stats_pid(struct ramfuse *rf, pid_t child)
{
	long long end = now_ms() + STATS_TIMEOUT_MS;
	long long pid;

	for (;;) {
		pid = stats_get(rf, "pid");
		if (pid > 0)
			break;
		if (child > 0) {
			int status;

			if (waitpid(child, &status, WNOHANG) == child) {
				rf->child = 0;
				seterr(rf, "ramfuse exited (status %d) before writing %s",
				       decode_status(status), rf->stats);
				err_add_log(rf);
				return -1;
			}
		}
		if (now_ms() >= end) {
			seterr(rf, "stats file %s has no pid line after %d ms",
			       rf->stats, STATS_TIMEOUT_MS);
			err_add_log(rf);
			return -1;
		}
		sleep_ms(2);
	}
	rf->pid = (pid_t)pid;
	return 0;
}

/* $RAMFUSE_EXTRA_OPTS (e.g. uring=on) goes before the test's own options,
 * so that a test that needs a setting keeps it. */
static void build_opts(char *buf, size_t len, const struct ramfuse *rf,
		       const char *opts)
{
	const char *extra = rf_extra_opts();

	snprintf(buf, len, "stats=%s%s%s%s%s", rf->stats, *extra ? "," : "",
		 extra, opts && *opts ? "," : "", opts ? opts : "");
}

const char *rf_extra_opts(void)
{
	const char *e = getenv("RAMFUSE_EXTRA_OPTS");

	return e ? e : "";
}

int mount_ramfuse_args(struct ramfuse *rf, const char *const extra_args[],
		       const char *opts)
{
	const char *argv[32];
	char o[1024];
	size_t a = 0;
	int status;
	pid_t pid;

	if (rf_prepare(rf))
		return -1;
	build_opts(o, sizeof(o), rf, opts);
	argv[a++] = "ramfuse";
	for (size_t i = 0; extra_args && extra_args[i] && a < 28; i++)
		argv[a++] = extra_args[i];
	argv[a++] = "-o";
	argv[a++] = o;
	argv[a++] = rf->mnt;
	argv[a] = NULL;

	pid = spawn(ramfuse_path(), argv, rf->log);
	if (pid < 0) {
		seterr(rf, "fork: %s", strerror(errno));
		return -1;
	}
	if (waitpid_timeout(pid, &status, MOUNT_TIMEOUT_MS)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		seterr(rf, "ramfuse -o %s %s: parent did not exit within %d ms",
		       o, rf->mnt, MOUNT_TIMEOUT_MS);
		err_add_log(rf);
		rf->mounted = is_mounted(rf->mnt);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		seterr(rf, "ramfuse -o %s %s: exit status %d", o, rf->mnt,
		       decode_status(status));
		err_add_log(rf);
		rf->mounted = is_mounted(rf->mnt);
		return -1;
	}
	rf->mounted = 1;
	if (wait_stats_pid(rf, 0))
		return -1;
	if (!is_mounted(rf->mnt)) {
		seterr(rf, "ramfuse exited 0 but %s is not in mountinfo", rf->mnt);
		err_add_log(rf);
		rf->mounted = 0;
		return -1;
	}
	return 0;
}

int mount_ramfuse(struct ramfuse *rf, const char *opts)
{
	return mount_ramfuse_args(rf, NULL, opts);
}

int mount_ramfuse_fg(struct ramfuse *rf, const char *flag, const char *opts)
{
	const char *argv[8];
	char o[1024];
	long long end;
	pid_t pid;

	if (rf_prepare(rf))
		return -1;
	build_opts(o, sizeof(o), rf, opts);
	argv[0] = "ramfuse";
	argv[1] = flag;
	argv[2] = "-o";
	argv[3] = o;
	argv[4] = rf->mnt;
	argv[5] = NULL;
	pid = spawn(ramfuse_path(), argv, rf->log);
	if (pid < 0) {
		seterr(rf, "fork: %s", strerror(errno));
		return -1;
	}
	rf->child = pid;
	rf->mounted = 1;	/* so that cleanup looks */
	if (wait_stats_pid(rf, pid)) {
		rf->mounted = is_mounted(rf->mnt);
		return -1;
	}
	if (rf->pid != pid) {
		seterr(rf, "stats pid %d is not the foreground child %d",
		       (int)rf->pid, (int)pid);
		return -1;
	}
	end = now_ms() + MOUNT_TIMEOUT_MS;
	while (!is_mounted(rf->mnt)) {
		if (now_ms() >= end) {
			seterr(rf, "%s not mounted within %d ms", rf->mnt,
			       MOUNT_TIMEOUT_MS);
			err_add_log(rf);
			return -1;
		}
		sleep_ms(2);
	}
	return 0;
}

int rf_wait_exit(struct ramfuse *rf, int timeout_ms)
{
	if (rf->child > 0) {
		int status;

		if (waitpid_timeout(rf->child, &status, timeout_ms))
			return -1;
		rf->exit_status = status;
		rf->child = 0;
		return 0;
	}
	return wait_pid_gone(rf->pid, timeout_ms);
}

/* last resort: make sure nothing is left running */
static void kill_daemon(struct ramfuse *rf)
{
	pid_t pid = rf->child > 0 ? rf->child : rf->pid;

	if (pid <= 0 || pid_gone(pid))
		goto reap;
	kill(pid, SIGTERM);
	if (rf_wait_exit(rf, 2000) == 0)
		return;
	kill(pid, SIGKILL);
	rf_wait_exit(rf, 2000);
reap:
	if (rf->child > 0) {
		int status;

		if (waitpid(rf->child, &status, WNOHANG) == rf->child)
			rf->exit_status = status;
		rf->child = 0;
	}
}

int umount_ramfuse(struct ramfuse *rf)
{
	int rc = 0;
	bool lazy = false;

	rf->err[0] = 0;
	if (rf->mounted && rf->mnt[0]) {
		if (umount2(rf->mnt, 0) < 0) {
			int e = errno;

			if (e == EBUSY) {
				lazy = true;
				umount2(rf->mnt, MNT_DETACH);
			} else if (e != EINVAL && e != ENOENT) {
				seterr(rf, "umount %s: %s", rf->mnt, strerror(e));
				rc = -1;
				umount2(rf->mnt, MNT_DETACH);
			}
		}
		rf->mounted = 0;
	}
	if ((rf->child > 0 || rf->pid > 0) &&
	    rf_wait_exit(rf, exit_timeout_ms())) {
		seterr(rf, "daemon pid %d did not exit within %d ms after %sumount of %s",
		       (int)rf->pid, exit_timeout_ms(), lazy ? "lazy " : "", rf->mnt);
		err_add_threads(rf);
		err_add_log(rf);
		kill_daemon(rf);
		rc = -1;
	}
	if (rc == 0 && lazy) {
		seterr(rf, "%s was busy, had to detach", rf->mnt);
		rc = -1;
	}
	if (rc == 0 && rf->exit_status != -1 &&
	    !(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == 0)) {
		seterr(rf, "foreground daemon exited with status %d",
		       decode_status(rf->exit_status));
		err_add_log(rf);
		rc = -1;
	}
	if (san_report(rf, rf->pid > 0 ? rf->pid : rf->child))
		rc = -1;
	rf->pid = 0;
	if (rf->mnt[0])
		rmdir(rf->mnt);
	return rc;
}

/*
 * Close our descriptors on files below dir: a test that bailed out with an
 * ASSERT may have left some open, which would make the unmount lazy and
 * keep the daemon alive until this process exits.
 */
static int close_fds_under(const char *dir)
{
	size_t dl = strlen(dir);
	struct dirent *de;
	int n = 0, self_fd;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return 0;
	self_fd = dirfd(d);
	while ((de = readdir(d))) {
		char link[64], target[PATH_MAX];
		int fd = atoi(de->d_name);
		ssize_t l;

		if (de->d_name[0] == '.' || fd <= 2 || fd == self_fd)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		l = readlink(link, target, sizeof(target) - 1);
		if (l <= 0)
			continue;
		target[l] = 0;
		if (!strncmp(target, dir, dl) && (target[dl] == '/' || !target[dl])) {
			close(fd);
			n++;
		}
	}
	closedir(d);
	return n;
}

int rf_cleanup(struct ramfuse *rf)
{
	int rc = 0;

	if (!rf->base[0])
		return 0;
	if (rf->mounted && rf->mnt[0]) {
		int n = close_fds_under(rf->mnt);

		if (n)
			fprintf(stderr, "# cleanup: closed %d descriptor(s) left open on %s\n",
				n, rf->mnt);
	}
	if (rf->mounted || rf->pid > 0 || rf->child > 0)
		rc = umount_ramfuse(rf);
	/* anything still mounted there (e.g. a test mounted by hand) */
	while (rf->mnt[0] && is_mounted(rf->mnt)) {
		if (umount2(rf->mnt, MNT_DETACH))
			break;
		if (!rc) {
			seterr(rf, "%s was still mounted at cleanup", rf->mnt);
			rc = -1;
		}
	}
	if (rf->mnt[0])
		rmdir(rf->mnt);
	unlink(rf->stats);
	unlink(rf->log);
	{
		char tmp[RF_PATH + 16];

		/* the daemon's atomic-rename temp files, whatever their name */
		snprintf(tmp, sizeof(tmp), "%s.tmp", rf->stats);
		unlink(tmp);
	}
	if (rmdir(rf->base) && errno == ENOTEMPTY) {
		/* unknown leftovers (temp stats files): remove them too */
		char cmdpath[RF_PATH + 300];
		struct dirent *de;
		DIR *d = opendir(rf->base);

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' &&
			    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			snprintf(cmdpath, sizeof(cmdpath), "%s/%s", rf->base,
				 de->d_name);
			unlink(cmdpath);
		}
		if (d)
			closedir(d);
		rmdir(rf->base);
	}
	rf->base[0] = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* stats                                                               */

static bool stats_lookup(const struct ramfuse *rf, const char *name,
			 unsigned long long *val)
{
	char buf[65536];
	size_t nl = strlen(name);
	char *p;

	if (!read_file(rf->stats, buf, sizeof(buf)))
		return false;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, nl) && p[nl] == ' ') {
			char *v = p + nl + 1, *end;

			errno = 0;
			if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
				*val = strtoull(v + 2, &end, 16);
			else
				*val = strtoull(v, &end, 10);
			return end != v && !errno;
		}
	}
	return false;
}

int stats_get_str(const struct ramfuse *rf, const char *name, char *out,
		  size_t len)
{
	char buf[65536];
	size_t nl = strlen(name);
	char *p;

	if (len)
		out[0] = 0;
	if (!read_file(rf->stats, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, nl) && p[nl] == ' ') {
			size_t vl = strcspn(p + nl + 1, "\n");

			snprintf(out, len, "%.*s", (int)vl, p + nl + 1);
			return 0;
		}
	}
	return -1;
}

bool rf_on_ring(const struct ramfuse *rf)
{
	char t[32];

	return stats_get_str(rf, "transport", t, sizeof(t)) == 0 && !strcmp(t, "uring");
}

long long stats_get(const struct ramfuse *rf, const char *name)
{
	unsigned long long v;

	return stats_lookup(rf, name, &v) ? (long long)v : -1;
}

unsigned long long stats_get_u64(const struct ramfuse *rf, const char *name,
				 bool *found)
{
	unsigned long long v = 0;
	bool f = stats_lookup(rf, name, &v);

	if (found)
		*found = f;
	return f ? v : 0;
}

/* append "tid:state:wchan" of every daemon thread to rf->err */
static void err_add_threads(struct ramfuse *rf)
{
	char dpath[64], p[400], buf[512], wchan[64];
	struct dirent *de;
	DIR *d;

	snprintf(dpath, sizeof(dpath), "/proc/%d/task", (int)rf->pid);
	d = opendir(dpath);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(rf->err);
		char *st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/stat", dpath, de->d_name);
		if (!read_file(p, buf, sizeof(buf)))
			continue;
		st = strrchr(buf, ')');
		snprintf(p, sizeof(p), "%s/%s/wchan", dpath, de->d_name);
		read_file(p, wchan, sizeof(wchan));
		if (l < sizeof(rf->err) - 64)
			snprintf(rf->err + l, sizeof(rf->err) - l, "; thread %s %c %s",
				 de->d_name, st && st[1] ? st[2] : '?', wchan);
	}
	closedir(d);
}

int stats_refresh(struct ramfuse *rf)
{
	long long seq = stats_get(rf, "seq");
	long long end = now_ms() + STATS_TIMEOUT_MS;

	if (rf->pid <= 0) {
		seterr(rf, "stats_refresh: no daemon pid");
		return -1;
	}
	if (kill(rf->pid, SIGUSR1)) {
		seterr(rf, "kill(%d, SIGUSR1): %s", (int)rf->pid, strerror(errno));
		return -1;
	}
	while (stats_get(rf, "seq") <= seq) {
		if (now_ms() >= end) {
			seterr(rf, "stats seq stayed %lld for %d ms after SIGUSR1",
			       seq, STATS_TIMEOUT_MS);
			err_add_threads(rf);
			return -1;
		}
		sleep_ms(1);
	}
	return 0;
}

long long stats_wait_ge(struct ramfuse *rf, const char *name, long long min,
			int timeout_ms)
{
	long long end = now_ms() + timeout_ms, v;

	for (;;) {
		if (stats_refresh(rf))
			return stats_get(rf, name);
		v = stats_get(rf, name);
		if (v >= min || now_ms() >= end)
			return v;
		sleep_ms(10);
	}
}

static int fds_with(const struct ramfuse *rf, int nfds, long long min)
{
	int busy = 0;

	for (int i = 0; i < nfds; i++) {
		char name[16];

		snprintf(name, sizeof(name), "fd.%d", i);
		if (stats_get(rf, name) >= min)
			busy++;
	}
	return busy;
}

int stats_wait_fds(struct ramfuse *rf, int nfds, long long min, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	for (;;) {
		int busy;

		if (stats_refresh(rf))
			return fds_with(rf, nfds, min);
		busy = fds_with(rf, nfds, min);
		if (busy == nfds || now_ms() >= end)
			return busy;
		sleep_ms(10);
	}
}

int stat_load_start(struct stat_load *l, const char *dir, int nproc, int max_ms)
{
	l->n = 0;
	l->stop = mmap(NULL, sizeof(*l->stop), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->stop == MAP_FAILED) {
		l->stop = NULL;
		return -1;
	}
	for (int i = 0; i < nproc && i < 16; i++) {
		pid_t pid = fork_clean();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			long long end = now_ms() + max_ms;
			char p[300];
			struct stat st;

			for (unsigned k = 0; now_ms() < end &&
			     !__atomic_load_n(l->stop, __ATOMIC_ACQUIRE); k++) {
				snprintf(p, sizeof(p), "%s/load%d-%u", dir, i, k % 64);
				stat(p, &st);
			}
			_exit(0);
		}
		l->pid[l->n++] = pid;
	}
	return 0;
}

int stat_load_stop(struct stat_load *l)
{
	int bad = 0;

	if (l->stop)
		__atomic_store_n(l->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < l->n; i++) {
		long long end = now_ms() + 5000;
		int status = 0;
		pid_t w;

		while ((w = waitpid(l->pid[i], &status, WNOHANG)) == 0 && now_ms() < end)
			sleep_ms(2);
		if (w == 0) {
			kill(l->pid[i], SIGKILL);
			waitpid(l->pid[i], &status, 0);
		}
		if (w != l->pid[i] || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	l->n = 0;
	if (l->stop)
		munmap(l->stop, sizeof(*l->stop));
	l->stop = NULL;
	return bad;
}

long long stats_wait_le(struct ramfuse *rf, const char *name, long long max,
			int timeout_ms)
{
	long long end = now_ms() + timeout_ms, v;

	for (;;) {
		if (stats_refresh(rf))
			return stats_get(rf, name);
		v = stats_get(rf, name);
		if ((v >= 0 && v <= max) || now_ms() >= end)
			return v;
		sleep_ms(10);
	}
}

long long stats_sum(const struct ramfuse *rf, const char *const names[])
{
	long long sum = 0;

	for (size_t i = 0; names[i]; i++) {
		long long v = stats_get(rf, names[i]);

		if (v > 0)
			sum += v;
	}
	return sum;
}

/* ------------------------------------------------------------------ */
/* mounts                                                              */

/* undo the octal escapes of /proc/self/mountinfo in place */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*d++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) |
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int mountinfo_get(const char *path, struct mountinfo *mi)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok, *fields[16];
		char *dash;
		int n = 0;

		line[strcspn(line, "\n")] = 0;
		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = 0;
		for (tok = strtok_r(line, " ", &save); tok && n < 16;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 6)
			continue;
		unescape(fields[4]);
		if (strcmp(fields[4], path))
			continue;
		copy_field(mi->mnt_opts, sizeof(mi->mnt_opts), fields[5]);
		if (sscanf(fields[2], "%u:%u", &mi->major, &mi->minor) != 2)
			mi->major = mi->minor = 0;
		save = NULL;
		tok = strtok_r(dash + 3, " ", &save);
		copy_field(mi->fstype, sizeof(mi->fstype), tok);
		tok = strtok_r(NULL, " ", &save);
		if (tok)
			unescape(tok);
		copy_field(mi->source, sizeof(mi->source), tok);
		tok = strtok_r(NULL, " ", &save);
		copy_field(mi->super_opts, sizeof(mi->super_opts), tok);
		found = 0;
	}
	fclose(f);
	return found;
}

bool is_mounted(const char *path)
{
	struct mountinfo mi;

	return mountinfo_get(path, &mi) == 0;
}

bool opt_has(const char *list, const char *opt)
{
	size_t ol = strlen(opt);

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");

		if (n == ol && !strncmp(p, opt, n))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

#define CACHES_LOCK "/tmp/ramfuse-caches.lock"

static int caches_kept = -1; /* our read lock, for the process's life */

/*
 * POSIX record locks on the file: held by this process only (a forked
 * child, maybe stuck in a request, does not inherit them).  Byte 0: the
 * keepers' read locks, which a drop waits out.  Byte 1: a turnstile, so
 * that keepers starting one after another (a fixture's tests) cannot
 * starve a drop: a drop holds it while it waits, a keeper passes it first.
 */
static int caches_lock(int fd, short type, off_t byte, bool wait)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };

	return fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
}

/* the lock, waiting at most ms (F_SETLKW has no timeout) */
static int caches_lock_within(int fd, off_t byte, int ms)
{
	for (long long end = now_ms() + ms; caches_lock(fd, F_WRLCK, byte, false);) {
		if (now_ms() >= end)
			return -1;
		sleep_ms(5);
	}
	return 0;
}

void caches_keep(void)
{
	if (caches_kept >= 0)
		return;
	caches_kept = open(CACHES_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (caches_kept < 0)
		return;
	/* behind a drop that is waiting, not in front of it (bounded: a
	 * drop gives up after 10 s) */
	if (!caches_lock_within(caches_kept, 1, 15000))
		caches_lock(caches_kept, F_UNLCK, 1, false);
	caches_lock(caches_kept, F_RDLCK, 0, true);
}

int drop_caches(int what)
{
	char c = (char)('0' + what);
	int fd, lock = -1, rc;

	/* wait (at most 10 s in all) for the tests beside us that keep
	 * their caches */
	if (caches_kept < 0) {
		long long end = now_ms() + 10000;

		lock = open(CACHES_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (lock >= 0 && !caches_lock_within(lock, 1, 10000))
			caches_lock_within(lock, 0, (int)(end - now_ms()));
	}
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	rc = fd >= 0 && write(fd, &c, 1) == 1 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock);
	return rc;
}

int tmpfs_mount(char *dir, size_t len, const char *opts)
{
	snprintf(dir, len, "/tmp/ramfuse-tmpfs.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts)) {
		int e = errno;

		rmdir(dir);
		errno = e;
		return -1;
	}
	return 0;
}

void tmpfs_umount(const char *dir)
{
	if (!dir[0])
		return;
	if (umount2(dir, 0))
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* data                                                                */

static inline unsigned char pattern_byte(unsigned long long off,
					 unsigned int seed)
{
	unsigned long long x = (off >> 3) * 0x9E3779B97F4A7C15ULL + seed;

	x ^= x >> 29;
	return (unsigned char)((x >> (8 * (off & 7))) ^ (off >> 12));
}

/* The 8 pattern bytes of the aligned word at off (off % 8 == 0), as a
 * little-endian word: byte k is pattern_byte(off + k), since off >> 3 and
 * off >> 12 are the same for all eight.  A word at a time is 8x faster,
 * which matters under emulation (TCG). */
static inline unsigned long long pattern_word(unsigned long long off,
					      unsigned int seed)
{
	unsigned long long x = (off >> 3) * 0x9E3779B97F4A7C15ULL + seed;

	x ^= x >> 29;
	return x ^ ((off >> 12) & 0xff) * 0x0101010101010101ULL;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PATTERN_WORDS 1
#else
#define PATTERN_WORDS 0
#endif

void pattern_fill(unsigned char *buf, size_t len, unsigned long long off,
		  unsigned int seed)
{
	size_t i = 0;

	for (; i < len && (!PATTERN_WORDS || (off + i) % 8); i++)
		buf[i] = pattern_byte(off + i, seed);
	for (; i + 8 <= len; i += 8) {
		unsigned long long w = pattern_word(off + i, seed);

		memcpy(buf + i, &w, 8);
	}
	for (; i < len; i++)
		buf[i] = pattern_byte(off + i, seed);
}

long long pattern_check(const unsigned char *buf, size_t len,
			unsigned long long off, unsigned int seed)
{
	size_t i = 0;

	for (; i < len && (!PATTERN_WORDS || (off + i) % 8); i++)
		if (buf[i] != pattern_byte(off + i, seed))
			return (long long)i;
	for (; i + 8 <= len; i += 8) {
		unsigned long long w = pattern_word(off + i, seed), got;

		memcpy(&got, buf + i, 8);
		if (got != w)
			break;	/* the byte loop below finds which */
	}
	for (; i < len; i++)
		if (buf[i] != pattern_byte(off + i, seed))
			return (long long)i;
	return -1;
}

ssize_t pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)done;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void strappendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}
