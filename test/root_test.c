// SPDX-License-Identifier: MIT
/*
 * -o root: a root filesystem's daemon.  It names itself "@ramfuse" (the
 * argv[0] systemd spares at switch-root and shutdown), ignores SIGTERM,
 * SIGINT and SIGHUP (saying so), and only umount ends it, with status 0.
 * The whole story (switch_root into it, shutdown) is vm/run --root-test.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

FIXTURE(root) {
	struct ramfuse rf;
	char log[128];
};

FIXTURE_SETUP(root)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(self->log, sizeof(self->log), "/tmp/ramfuse-rootlog.XXXXXX");
	int fd = mkstemp(self->log);
	ASSERT_LE(0, fd);
	close(fd);
}

FIXTURE_TEARDOWN(root)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	unlink(self->log);
}

static size_t read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (size_t)n : 0;
}

TEST_F(root, named_for_the_killing_spree)
{
	char path[64], cmd[4096];

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "root")) TH_LOG("%s", self->rf.err);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)self->rf.pid);
	size_t n = read_all(path, cmd, sizeof(cmd));
	ASSERT_LT(9, n);
	EXPECT_STREQ("@ramfuse", cmd);
	/* the rest of the arguments follow (or fit), the mountpoint last */
	const char *last = cmd;
	for (size_t i = 0; i + 1 < n; i++)
		if (!cmd[i] && cmd[i + 1])
			last = cmd + i + 1;
	EXPECT_STREQ(self->rf.mnt, last);
}

/* A plain daemon keeps its name: the '@' is asked for */
TEST_F(root, plain_daemon_not_spared)
{
	char path[64], cmd[4096];

	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)self->rf.pid);
	read_all(path, cmd, sizeof(cmd));
	EXPECT_NE('@', cmd[0]) TH_LOG("%s", cmd);
}

TEST_F(root, signals_ignored_umount_ends)
{
	static const struct { int sig; const char *name; } sigs[] = {
		{ SIGTERM, "SIGTERM" }, { SIGINT, "SIGINT" }, { SIGHUP, "SIGHUP" },
	};
	char o[256], text[4096], want[64];

	snprintf(o, sizeof(o), "root,log=%s", self->log);
	ASSERT_EQ(0, mount_ramfuse_fg(&self->rf, "-f", o)) TH_LOG("%s", self->rf.err);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(want, sizeof(want), "ramfuse: %s ignored (-o root)", sigs[i].name);
		ASSERT_EQ(0, kill(self->rf.pid, sigs[i].sig));
		long long end = now_ms() + 5000;
		while (read_all(self->log, text, sizeof(text)), !strstr(text, want) &&
		       now_ms() < end)
			sleep_ms(5);
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("log: %s", text);
		EXPECT_TRUE(is_mounted(self->rf.mnt));
		EXPECT_FALSE(pid_gone(self->rf.pid));
	}
	/* still serving */
	struct stat st;
	char f[256];
	snprintf(f, sizeof(f), "%s/after", self->rf.mnt);
	int fd = open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	EXPECT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, stat(f, &st));
	/* umount_ramfuse wants exit status 0 from the foreground child */
	ASSERT_EQ(0, umount_ramfuse(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_TRUE(WIFEXITED(self->rf.exit_status) && !WEXITSTATUS(self->rf.exit_status));
}

TEST_HARNESS_MAIN
