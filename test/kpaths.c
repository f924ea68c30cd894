// SPDX-License-Identifier: MIT
/*
 * kpaths.c - helpers of the kpaths_*_test binaries (kpaths.h): child
 * processes blocked in calls, the fusectl directory of a connection, what
 * /proc says a process or a daemon's workers are doing.
 */
#include "kpaths.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_signal(int sig)
{
	(void)sig;
}

/* in a child: a handler without SA_RESTART, so blocked calls may EINTR */
void catch_signal(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int add_kid(pid_t *kids, pid_t pid)
{
	for (int i = 0; i < NKIDS; i++)
		if (!kids[i]) {
			kids[i] = pid;
			return 0;
		}
	return -1;
}

void forget_kid(pid_t *kids, pid_t pid)
{
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* wait (bounded) for one kid: exit code, 128+signal, or -1 on timeout */
int reap(pid_t *kids, pid_t pid, int ms)
{
	int rc = wait_child(pid, ms);

	if (rc >= 0 || errno != ETIMEDOUT)
		forget_kid(kids, pid);
	return rc;
}

bool kid_running(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

void kill_kids(pid_t *kids, int ms)
{
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			reap(kids, kids[i], ms);
}

pid_t start_kid(pid_t *kids, enum kid_op op, const char *path)
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

/*
 * The fusectl directory of rf's connection into dir, in a fusectl mount of
 * our own (rf->base/fusectl, *ours set): /sys/fs/fuse/connections may be
 * mounted and unmounted by tests running beside us.  0, or -1 with the
 * reason in why.
 */
int conn_dir(const struct ramfuse *rf, int *ours, char *dir, size_t len,
	     char *why, size_t wlen)
{
	struct mountinfo mi;
	struct stat st;
	char ctl[RF_PATH];
	int n = mountinfo_get(rf->mnt, &mi) ? -1 : (int)mi.minor;

	if (n < 0) {
		snprintf(why, wlen, "%s not in mountinfo", rf->mnt);
		return -1;
	}
	fusectl_path(rf, ctl, sizeof(ctl));
	if (!*ours) {
		if (mkdir(ctl, 0700) < 0 && errno != EEXIST) {
			snprintf(why, wlen, "%s: %s", ctl, strerror(errno));
			return -1;
		}
		if (mount("fusectl", ctl, "fusectl", 0, NULL) < 0) {
			snprintf(why, wlen, "mount -t fusectl: %s%s", strerror(errno),
				 errno == ENODEV ? " (no fusectl in this kernel)" : "");
			return -1;
		}
		*ours = 1;
	}
	snprintf(dir, len, "%s/%d", ctl, n);
	if (stat(dir, &st) < 0) {
		snprintf(why, wlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

void fusectl_path(const struct ramfuse *rf, char *buf, size_t len)
{
	snprintf(buf, len, "%s/fusectl", rf->base);
}

long long read_num(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* mount "threads=N[,more]" */
int kp_mount(struct ramfuse *rf, int threads, const char *more)
{
	char o[900];

	snprintf(o, sizeof(o), "threads=%d%s%s", threads, more && *more ? "," : "",
		 more ? more : "");
	return mount_ramfuse(rf, o);
}

int kp_mount_fg(struct ramfuse *rf, const char *flag, int threads,
		const char *more)
{
	char o[900];

	snprintf(o, sizeof(o), "threads=%d%s%s", threads, more && *more ? "," : "",
		 more ? more : "");
	return mount_ramfuse_fg(rf, flag, o);
}

/* /proc/PID/stat state letter, or 0 */
char proc_state(pid_t pid)
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
void wait_sleeping(pid_t pid, int ms)
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
bool wait_workers_in_read(pid_t pid, int ms, char *seen, size_t seenlen)
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
