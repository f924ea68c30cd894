// SPDX-License-Identifier: MIT
/*
 * Mounting without root: as an unprivileged user through the set-uid
 * fusermount3 (libfuse's _FUSE_COMMFD protocol: it mounts and sends the
 * /dev/fuse descriptor back), and as root of a user namespace
 * (unshare -Urm) with mount(2) itself.  Passthrough is then off, and -d
 * says why.  The test drops privileges itself (CI runs as root); in a
 * mount namespace of its own it puts a 0666 /dev/fuse in place, as
 * distributions have it (fusermount3 opens it as the user).
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define NOBODY 65534

/* FUSE passthrough came in 6.9: before, the kernel offers nothing to refuse */
static bool kernel_has_passthrough(void)
{
	struct utsname u;
	int major = 0, minor = 0;
	return !uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	       (major > 6 || (major == 6 && minor >= 9));
}

static bool have(const char *path)
{
	return !access(path, X_OK);
}

static bool file_has(const char *path, const char *what)
{
	char buf[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, what) != NULL;
}

static bool mounted_by(const char *mnt, const char *what)
{
	struct mountinfo mi;
	return !mountinfo_get(mnt, &mi) && strstr(mi.super_opts, what);
}

FIXTURE(nr) {
	char dir[64];
	char mnt[128], stats[128], log[128];
};

FIXTURE_SETUP(nr)
{
	char why[256], node[128];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	if (!have("/usr/bin/fusermount3") && !have("/bin/fusermount3"))
		SKIP(return, "no fusermount3 (the fuse3 package)");
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	/* not tmpfs_mount(): that one is nodev, and the node must open */
	snprintf(self->dir, sizeof(self->dir), "/tmp/ramfuse-nonroot.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("tmpfs", self->dir, "tmpfs", MS_NOSUID, "mode=0777"));
	snprintf(node, sizeof(node), "%s/fuse", self->dir);
	ASSERT_EQ(0, mknod(node, S_IFCHR | 0666, makedev(10, 229)));
	ASSERT_EQ(0, chmod(node, 0666));
	ASSERT_EQ(0, mount(node, "/dev/fuse", NULL, MS_BIND, NULL)) TH_LOG("%s", strerror(errno));
	snprintf(self->mnt, sizeof(self->mnt), "%s/m", self->dir);
	snprintf(self->stats, sizeof(self->stats), "%s/stats", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/log", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	ASSERT_EQ(0, chown(self->mnt, NOBODY, NOBODY));
}

FIXTURE_TEARDOWN(nr)
{
	if (self->mnt[0] && is_mounted(self->mnt))
		umount2(self->mnt, MNT_DETACH);
	if (self->dir[0])
		umount2("/dev/fuse", MNT_DETACH);
	tmpfs_umount(self->dir);
}

static void drop(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY) || getuid() != NOBODY)
		_exit(90);
}

/* the user mounts (through fusermount3), uses, SIGTERMs; exit status: the
 * step that failed */
static int as_user(FIXTURE_DATA(nr) *self)
{
	char o[512], out[2048], path[256];
	drop();
	snprintf(o, sizeof(o), "stats=%s,log=%s", self->stats, self->log);
	const char *argv[] = { "ramfuse", "-o", o, self->mnt, NULL };
	if (rf_run(ramfuse_path(), argv, 20000, out, sizeof(out)) != 0) {
		fprintf(stderr, "ramfuse: %s\n", out);
		return 1;
	}
	if (!mounted_by(self->mnt, "user_id=65534"))
		return 2;
	snprintf(path, sizeof(path), "%s/file", self->mnt);
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, "data", 4, 0) != 4 || pread(fd, out, 4, 0) != 4 ||
	    memcmp(out, "data", 4))
		return 3;
	close(fd);
	struct ramfuse rf = { 0 };
	snprintf(rf.stats, sizeof(rf.stats), "%s", self->stats);
	pid_t pid = (pid_t)stats_get(&rf, "pid");
	if (pid <= 0 || stats_get(&rf, "passthrough") != 0)
		return 4;
	/* not allowed to umount2: the daemon unmounts through fusermount3 -u */
	if (kill(pid, SIGTERM) || wait_pid_gone(pid, 5000))
		return 5;
	return is_mounted(self->mnt) ? 6 : 0;
}

static int run_child(int (*fn)(FIXTURE_DATA(nr) *), FIXTURE_DATA(nr) *self)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(self));
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(nr, user_through_fusermount3)
{
	static const char *const step[] = { "ok", "mounting failed", "not mounted as uid 65534",
		"file I/O failed", "passthrough on, or no pid", "SIGTERM did not end it",
		"still mounted after SIGTERM" };
	int r = run_child(as_user, self);
	EXPECT_EQ(0, r) TH_LOG("step %d: %s", r, r >= 0 && r < 7 ? step[r] : "?");
}

/* -d: it says that it went through fusermount3 and why passthrough is off;
 * fusermount3 -u ends it with status 0 */
static int as_user_debug(FIXTURE_DATA(nr) *self)
{
	drop();
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(self->log, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(ramfuse_path(), "ramfuse", "-d", self->mnt, (char *)NULL);
		_exit(127);
	}
	long long end = now_ms() + 10000;
	while (!is_mounted(self->mnt) && now_ms() < end)
		sleep_ms(5);
	if (!is_mounted(self->mnt))
		return 1;
	struct stat st;
	stat(self->mnt, &st); /* INIT is answered before the mount is; a request to be sure */
	const char *argv[] = { "fusermount3", "-u", self->mnt, NULL };
	char out[1024];
	if (rf_run(have("/usr/bin/fusermount3") ? "/usr/bin/fusermount3" : "/bin/fusermount3",
		   argv, 10000, out, sizeof(out)))
		return 2;
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 3;
	if (!file_has(self->log, "mounting through fusermount3"))
		return 4;
	return 0;
}

TEST_F(nr, user_debug_says_why)
{
	int r = run_child(as_user_debug, self);
	char buf[4096] = "";
	int fd = open(self->log, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	EXPECT_EQ(0, r) TH_LOG("step %d; log: %.1500s", r, buf);
	if (kernel_has_passthrough()) {
		EXPECT_NE(NULL, strstr(buf, "passthrough off: it needs CAP_SYS_ADMIN"))
			TH_LOG("%.1500s", buf);
	}
}

/* unshare -Urm: root of a user namespace mounts with mount(2) */
static int in_userns(FIXTURE_DATA(nr) *self)
{
	char path[256], map[64];
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return 1;
	int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "deny", 4) != 4)
			return 2;
		close(fd);
	}
	snprintf(map, sizeof(map), "0 0 1");
	fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		return 2;
	close(fd);
	fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		return 2;
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		fd = open(self->log, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
		dup2(fd, 2);
		char o[256];
		snprintf(o, sizeof(o), "stats=%s", self->stats);
		execl(ramfuse_path(), "ramfuse", "-d", "-o", o, self->mnt, (char *)NULL);
		_exit(127);
	}
	long long end = now_ms() + 10000;
	while (!is_mounted(self->mnt) && now_ms() < end)
		sleep_ms(5);
	snprintf(path, sizeof(path), "%s/file", self->mnt);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, "data", 4, 0) != 4)
		return 3;
	close(fd);
	struct ramfuse rf = { 0 };
	snprintf(rf.stats, sizeof(rf.stats), "%s", self->stats);
	/* in the foreground the mount shows before the first stats are out */
	for (end = now_ms() + 5000; stats_get(&rf, "pid") <= 0 && now_ms() < end;)
		sleep_ms(5);
	if (stats_get(&rf, "passthrough") != 0)
		return 4;
	if (umount2(self->mnt, 0))
		return 5;
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 6;
	return file_has(self->log, "fusermount3") ? 7 : 0;
}

TEST_F(nr, user_namespace)
{
	int r = run_child(in_userns, self);
	char buf[4096] = "";
	int fd = open(self->log, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	EXPECT_EQ(0, r) TH_LOG("step %d; log: %.1500s", r, buf);
	if (kernel_has_passthrough()) {
		EXPECT_NE(NULL, strstr(buf, "passthrough: FUSE_DEV_IOC_BACKING_OPEN: "))
			TH_LOG("%.1500s", buf);
	}
}

TEST_HARNESS_MAIN
