// SPDX-License-Identifier: MIT
/*
 * Where a detached daemon's messages go (-o log=kmsg|syslog|FILE), and the
 * rule for paths used after start: opened at start, so a directory moved
 * with mount --move (as switch_root moves /run and /dev) is followed.
 *
 * The message we make the daemon say after it serves: its stats file turned
 * into a directory, SIGUSR1 makes it say "writing stats to PATH: ...".
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

FIXTURE(log) {
	struct ramfuse rf;
	char file[128];
};

FIXTURE_SETUP(log)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(self->file, sizeof(self->file), "/tmp/ramfuse-log.XXXXXX");
	int fd = mkstemp(self->file);
	ASSERT_LE(0, fd);
	close(fd);
	unlink(self->file); /* the daemon creates it */
}

FIXTURE_TEARDOWN(log)
{
	rmdir(self->rf.stats);
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	if (self->file[0])
		unlink(self->file);
}

/* Makes the daemon complain after it serves; the complaint names the
 * stats file. */
static int provoke(struct ramfuse *rf)
{
	if (unlink(rf->stats) || mkdir(rf->stats, 0700))
		return -1;
	return kill(rf->pid, SIGUSR1);
}

static bool file_has(const char *path, const char *what, int timeout_ms)
{
	char buf[8192];
	long long end = now_ms() + timeout_ms;

	do {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = 0;
				if (strstr(buf, what))
					return true;
			}
		}
		sleep_ms(5);
	} while (now_ms() < end);
	return false;
}

TEST_F(log, file_when_detached)
{
	char o[256], want[256];

	snprintf(o, sizeof(o), "log=%s", self->file);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, o)) TH_LOG("%s", self->rf.err);
	snprintf(want, sizeof(want), "ramfuse: writing stats to %s: Is a directory\n",
		 self->rf.stats);
	ASSERT_EQ(0, provoke(&self->rf));
	EXPECT_TRUE(file_has(self->file, want, 5000)) TH_LOG("no '%s' in %s", want, self->file);
	struct stat st;
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(0640, st.st_mode & 0777);
}

/* -f: stderr until the daemon serves, then the log target alone */
TEST_F(log, file_foreground)
{
	char o[256], want[256], out[4096];

	snprintf(o, sizeof(o), "log=%s", self->file);
	ASSERT_EQ(0, mount_ramfuse_fg(&self->rf, "-f", o)) TH_LOG("%s", self->rf.err);
	snprintf(want, sizeof(want), "writing stats to %s", self->rf.stats);
	ASSERT_EQ(0, provoke(&self->rf));
	EXPECT_TRUE(file_has(self->file, want, 5000)) TH_LOG("no '%s' in %s", want, self->file);
	rf_log(&self->rf, out, sizeof(out));
	EXPECT_EQ(NULL, strstr(out, want)) TH_LOG("stderr too: %s", out);
}

/* /dev/kmsg records read "PRI,SEQ,TIME,FLAGS;TEXT": facility user (1), level 4 */
TEST_F(log, kmsg)
{
	char want[256], rec[2048];
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (kfd < 0)
		SKIP(return, "/dev/kmsg: %s", strerror(errno));
	ASSERT_LE(0, lseek(kfd, 0, SEEK_END));
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "log=kmsg")) TH_LOG("%s", self->rf.err);
	snprintf(want, sizeof(want), ";ramfuse: writing stats to %s: Is a directory",
		 self->rf.stats);
	ASSERT_EQ(0, provoke(&self->rf));
	bool found = false;
	long long end = now_ms() + 5000;
	while (!found && now_ms() < end) {
		ssize_t n = read(kfd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: read on */
		if (n <= 0) {
			sleep_ms(5);
			continue;
		}
		rec[n] = 0;
		if (strstr(rec, want)) {
			found = true;
			EXPECT_EQ(0, strncmp(rec, "12,", 3)) TH_LOG("%s", rec);
		}
	}
	close(kfd);
	EXPECT_TRUE(found) TH_LOG("no '%s' in /dev/kmsg", want);
}

/*
 * syslog: a datagram to /dev/log.  In a mount namespace of our own, a tmpfs
 * on /dev holds our socket and a fuse node; the daemon connects when it
 * has something to say.
 */
TEST(syslog_datagram)
{
	struct ramfuse rf;
	char want[256], buf[2048];
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("dev", "/dev", "tmpfs", 0, "mode=0755"));
	ASSERT_EQ(0, mknod("/dev/fuse", S_IFCHR | 0666, makedev(10, 229)));
	ASSERT_EQ(0, mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)));
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, mount_ramfuse(&rf, "log=syslog")) TH_LOG("%s", rf.err);
	snprintf(want, sizeof(want), "ramfuse[%d]: writing stats to %s: Is a directory",
		 (int)rf.pid, rf.stats);
	ASSERT_EQ(0, provoke(&rf));
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
	EXPECT_LT(0, n) TH_LOG("no datagram: %s", strerror(errno));
	if (n > 0) {
		buf[n] = 0;
		/* facility daemon (3), level warning (4): 3 * 8 + 4 */
		EXPECT_EQ(0, strncmp(buf, "<28>", 4)) TH_LOG("%s", buf);
		EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
		EXPECT_EQ(NULL, strchr(buf, '\n')) TH_LOG("%s", buf);
	}
	rmdir(rf.stats);
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	close(s);
}

TEST_F(log, bad_target)
{
	char o[256], out[2048];
	const char *argv[] = { "ramfuse", "-o", o, self->rf.mnt, NULL };

	ASSERT_EQ(0, rf_prepare(&self->rf));
	snprintf(o, sizeof(o), "log=%s/no/such/file", self->rf.base);
	EXPECT_EQ(1, rf_run(ramfuse_path(), argv, 10000, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "no/such/file")) TH_LOG("%s", out);
	EXPECT_FALSE(is_mounted(self->rf.mnt));
}

/*
 * The stats file's directory is opened at start: moved elsewhere (as
 * switch_root moves /run into the new root), the daemon still writes there.
 */
TEST(paths_follow_moved_mount)
{
	struct ramfuse rf;
	char run[128], moved[128], o[256], out[2048], path[256];
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, rf_prepare(&rf));
	snprintf(run, sizeof(run), "%s/run", rf.base);
	snprintf(moved, sizeof(moved), "%s/moved", rf.base);
	ASSERT_EQ(0, mkdir(run, 0755));
	ASSERT_EQ(0, mkdir(moved, 0755));
	ASSERT_EQ(0, mount("run", run, "tmpfs", 0, NULL));
	snprintf(o, sizeof(o), "stats=%s/s", run);
	const char *argv[] = { "ramfuse", "-o", o, rf.mnt, NULL };
	ASSERT_EQ(0, rf_run(ramfuse_path(), argv, 10000, out, sizeof(out))) TH_LOG("%s", out);
	rf.mounted = 1;
	snprintf(rf.stats, sizeof(rf.stats), "%s/s", run);
	rf.pid = (pid_t)stats_get(&rf, "pid");
	ASSERT_LT(0, rf.pid);
	ASSERT_EQ(0, mount(run, moved, NULL, MS_MOVE, NULL));
	snprintf(path, sizeof(path), "%s/s", run);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(rf.stats, sizeof(rf.stats), "%s/s", moved);
	EXPECT_EQ(1, stats_get(&rf, "seq"));
	EXPECT_EQ(0, stats_refresh(&rf)) TH_LOG("%s", rf.err);
	EXPECT_EQ(2, stats_get(&rf, "seq"));
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("written at the old path");
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	umount2(moved, MNT_DETACH);
}

TEST_HARNESS_MAIN
