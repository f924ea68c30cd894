// SPDX-License-Identifier: MIT
/*
 * Volumes (-o volume=NAME): the files outlive the mount.  The first mount
 * runs the daemon that keeps them; a later mount hands its connection to
 * that daemon; `ramfuse destroy NAME` (or the daemon's death) ends them.
 * And the mount(8) helper contract fstests relies on.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/statfs.h>
#include <sys/xattr.h>

FIXTURE(vol) {
	struct ramfuse rf;
	char name[64];
	char opts[128];
	char mnt2[RF_PATH];
};

/* ramfuse ARGS...: its exit status, its output in out */
static int run(char *out, size_t len, const char *a1, const char *a2, const char *a3,
	       const char *a4)
{
	const char *argv[] = { "ramfuse", a1, a2, a3, a4, NULL };
	return rf_run(ramfuse_path(), argv, 10000, out, len);
}

/* mounts the volume again: ramfuse -o volume=NAME MNT */
static int attach(FIXTURE_DATA(vol) *self, const char *mnt, char *out, size_t len)
{
	return run(out, len, "-o", self->opts, mnt, NULL);
}

/* the volume's line in `ramfuse volumes`, or "" */
static void info(FIXTURE_DATA(vol) *self, char *line, size_t len)
{
	char out[4096], key[80];
	line[0] = 0;
	if (run(out, sizeof(out), "volumes", NULL, NULL, NULL) != 0)
		return;
	snprintf(key, sizeof(key), "%s\t", self->name);
	for (char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, strlen(key))) {
			snprintf(line, len, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
}

static long long info_inodes(FIXTURE_DATA(vol) *self)
{
	char line[512];
	info(self, line, sizeof(line));
	char *p = strstr(line, "inodes ");
	return p ? atoll(p + 7) : -1;
}

/* after umount the daemon takes the connection's end in: wait for it */
static bool wait_unmounted(FIXTURE_DATA(vol) *self)
{
	char line[512];
	for (int i = 0; i < 500; i++) {
		info(self, line, sizeof(line));
		if (strstr(line, "\t-\t"))
			return true;
		sleep_ms(10);
	}
	return false;
}

FIXTURE_SETUP(vol)
{
	char why[256];
	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(self->name, sizeof(self->name), "volume-test-%d", (int)getpid());
	snprintf(self->opts, sizeof(self->opts), "volume=%s", self->name);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, self->opts)) TH_LOG("%s", self->rf.err);
	snprintf(self->mnt2, sizeof(self->mnt2), "%s/mnt2", self->rf.base);
	ASSERT_EQ(0, mkdir(self->mnt2, 0755));
}

FIXTURE_TEARDOWN(vol)
{
	char out[512];
	if (is_mounted(self->mnt2))
		umount2(self->mnt2, MNT_DETACH);
	rmdir(self->mnt2);
	if (is_mounted(self->rf.mnt))
		umount2(self->rf.mnt, MNT_DETACH);
	self->rf.mounted = 0;
	run(out, sizeof(out), "destroy", self->name, NULL, NULL);
	/* the other volumes tests make, should they have stopped midway */
	for (int k = 0; k < 2; k++) {
		char other[96];
		snprintf(other, sizeof(other), "%s-%s", self->name, k ? "dev" : "other");
		run(out, sizeof(out), "destroy", other, NULL, NULL);
	}
	EXPECT_EQ(0, rf_wait_exit(&self->rf, 5000));
	rf_cleanup(&self->rf);
}

static void P(char *buf, const char *dir, const char *name)
{
	snprintf(buf, RF_PATH + 32, "%s/%s", dir, name);
}

TEST_F(vol, files_data_xattrs_times_survive_remount)
{
	static const char *const names[] = { "d", "d/f", "d/link", "d/sym", "fifo", NULL };
	char p[RF_PATH + 32], q[RF_PATH + 32], out[1024], buf[64];
	struct stat before[8], after[8];
	const char *m = self->rf.mnt;

	P(p, m, "d");
	ASSERT_EQ(0, mkdir(p, 0750));
	P(p, m, "d/f");
	int fd = open(p, O_CREAT | O_WRONLY, 0640);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "hello", 5));
	close(fd);
	ASSERT_EQ(0, setxattr(p, "user.colour", "blue", 4, 0));
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };
	ASSERT_EQ(0, utimensat(AT_FDCWD, p, ts, 0));
	P(q, m, "d/link");
	ASSERT_EQ(0, link(p, q));
	P(p, m, "d/sym");
	ASSERT_EQ(0, symlink("f", p));
	P(p, m, "fifo");
	ASSERT_EQ(0, mkfifo(p, 0600));
	for (int i = 0; names[i]; i++) {
		P(p, m, names[i]);
		ASSERT_EQ(0, lstat(p, &before[i])) TH_LOG("%s", names[i]);
	}
	long long inodes = info_inodes(self);
	ASSERT_EQ(6, inodes); /* root, d, f and its second name (as tmpfs counts), sym, fifo */

	ASSERT_EQ(0, umount2(m, 0));
	ASSERT_TRUE(wait_unmounted(self));
	ASSERT_EQ(0, kill(self->rf.pid, 0)) TH_LOG("the daemon must keep the volume");
	ASSERT_EQ(0, attach(self, m, out, sizeof(out))) TH_LOG("%s", out);
	for (int i = 0; names[i]; i++) {
		P(p, m, names[i]);
		ASSERT_EQ(0, lstat(p, &after[i])) TH_LOG("%s", names[i]);
		EXPECT_EQ(before[i].st_ino, after[i].st_ino);
		EXPECT_EQ(before[i].st_mode, after[i].st_mode);
		EXPECT_EQ(before[i].st_nlink, after[i].st_nlink);
		EXPECT_EQ(before[i].st_size, after[i].st_size);
		EXPECT_EQ(before[i].st_mtim.tv_sec, after[i].st_mtim.tv_sec);
		EXPECT_EQ(before[i].st_mtim.tv_nsec, after[i].st_mtim.tv_nsec);
		EXPECT_EQ(before[i].st_atim.tv_nsec, after[i].st_atim.tv_nsec);
		EXPECT_EQ(before[i].st_ctim.tv_nsec, after[i].st_ctim.tv_nsec);
	}
	EXPECT_EQ(987654321, after[1].st_mtim.tv_nsec);
	P(p, m, "d/f");
	fd = open(p, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(fd);
	EXPECT_EQ(4, getxattr(p, "user.colour", buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "blue", 4));
	P(p, m, "d/sym");
	EXPECT_EQ(1, readlink(p, buf, sizeof(buf)));
	/* the same daemon serves the new connection, which sent its own INIT */
	ASSERT_EQ(0, stats_refresh(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_EQ(1, stats_get(&self->rf, "op.INIT"));
	EXPECT_EQ(self->rf.pid, stats_get(&self->rf, "pid"));
	EXPECT_EQ(inodes, info_inodes(self));
}

TEST_F(vol, another_source_starts_empty)
{
	char p[RF_PATH + 32], out[1024];
	P(p, self->rf.mnt, "kept");
	ASSERT_EQ(0, mknod(p, S_IFREG | 0600, 0));
	char o[128];
	snprintf(o, sizeof(o), "volume=%s-other", self->name);
	ASSERT_EQ(0, run(out, sizeof(out), "-o", o, self->mnt2, NULL)) TH_LOG("%s", out);
	P(p, self->mnt2, "kept");
	EXPECT_EQ(-1, access(p, F_OK));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, umount2(self->mnt2, 0));
	EXPECT_EQ(0, run(out, sizeof(out), "destroy", o + 7, NULL, NULL)) TH_LOG("%s", out);
}

TEST_F(vol, one_mount_at_a_time)
{
	char p[RF_PATH + 32], out[1024];
	EXPECT_EQ(1, attach(self, self->mnt2, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "one mount at a time")) TH_LOG("%s", out);
	EXPECT_FALSE(is_mounted(self->mnt2));
	P(p, self->rf.mnt, "still");
	EXPECT_EQ(0, mkdir(p, 0700)) TH_LOG("the first mount must go on");
}

/* Aborts the connection of the mount at mnt through fusectl. */
static int abort_conn(const char *mnt)
{
	const char *ctl = "/sys/fs/fuse/connections";
	struct mountinfo mi;
	struct statfs sf;
	char p[128];
	bool ours = false;
	if (mountinfo_get(mnt, &mi) < 0)
		return -1;
	if (statfs(ctl, &sf) < 0)
		return -1;
	if (sf.f_type != 0x65735543) { /* FUSECTL_SUPER_MAGIC */
		if (mount("fusectl", ctl, "fusectl", 0, NULL) < 0)
			return -1;
		ours = true;
	}
	snprintf(p, sizeof(p), "%s/%u/abort", ctl, mi.minor);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	int res = fd >= 0 && write(fd, "1", 1) == 1 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	if (ours)
		umount2(ctl, MNT_DETACH);
	return res;
}

/* What a connection holds (opens, lookups) ends with it: an unlinked file
 * open when the connection was aborted (no RELEASE will ever come) is
 * freed then, not kept forever. */
TEST_F(vol, connection_end_releases_opens)
{
	char p[RF_PATH + 32], out[1024];
	const char *m = self->rf.mnt;
	long long base = info_inodes(self);

	P(p, m, "held");
	int fd = open(p, O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "bytes", 5));
	ASSERT_EQ(0, unlink(p));
	EXPECT_EQ(base + 1, info_inodes(self)) TH_LOG("open and unlinked: still there");
	ASSERT_EQ(0, abort_conn(m));
	close(fd);
	ASSERT_EQ(0, umount2(m, 0));
	ASSERT_TRUE(wait_unmounted(self));
	EXPECT_EQ(base, info_inodes(self));
	/* cycles of lookups leave nothing behind either */
	for (int cycle = 0; cycle < 3; cycle++) {
		ASSERT_EQ(0, attach(self, m, out, sizeof(out))) TH_LOG("%s", out);
		for (int i = 0; i < 20; i++) {
			char n[16];
			struct stat st;
			snprintf(n, sizeof(n), "f%d", i);
			P(p, m, n);
			if (cycle == 0) {
				ASSERT_EQ(0, mknod(p, S_IFREG | 0600, 0));
			}
			ASSERT_EQ(0, stat(p, &st));
		}
		ASSERT_EQ(0, umount2(m, 0));
		ASSERT_TRUE(wait_unmounted(self));
		EXPECT_EQ(base + 20, info_inodes(self));
	}
}

TEST_F(vol, destroy_ends_the_volume)
{
	char p[RF_PATH + 32], out[1024];
	P(p, self->rf.mnt, "gone");
	ASSERT_EQ(0, mknod(p, S_IFREG | 0600, 0));
	EXPECT_EQ(1, run(out, sizeof(out), "destroy", self->name, NULL, NULL));
	EXPECT_NE(NULL, strstr(out, "unmount it first")) TH_LOG("%s", out);
	ASSERT_EQ(0, umount2(self->rf.mnt, 0));
	ASSERT_TRUE(wait_unmounted(self));
	EXPECT_EQ(0, run(out, sizeof(out), "destroy", self->name, NULL, NULL)) TH_LOG("%s", out);
	EXPECT_EQ(0, wait_pid_gone(self->rf.pid, 5000));
	info(self, out, sizeof(out));
	EXPECT_STREQ("", out);
	EXPECT_EQ(1, run(out, sizeof(out), "destroy", self->name, NULL, NULL));
	EXPECT_NE(NULL, strstr(out, "no volume")) TH_LOG("%s", out);
	/* the name starts afresh */
	ASSERT_EQ(0, attach(self, self->rf.mnt, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(-1, access(p, F_OK));
	EXPECT_EQ(1, info_inodes(self));
	info(self, out, sizeof(out));
	self->rf.pid = atoi(strchr(out, '\t') + 1); /* for the teardown */
}

TEST_F(vol, daemon_death_loses_the_files)
{
	char p[RF_PATH + 32], out[1024];
	P(p, self->rf.mnt, "lost");
	ASSERT_EQ(0, mknod(p, S_IFREG | 0600, 0));
	ASSERT_EQ(0, umount2(self->rf.mnt, 0));
	ASSERT_TRUE(wait_unmounted(self));
	ASSERT_EQ(0, kill(self->rf.pid, SIGKILL));
	ASSERT_EQ(0, wait_pid_gone(self->rf.pid, 5000));
	/* its socket is left behind, refusing: the next mount starts anew */
	ASSERT_EQ(0, attach(self, self->rf.mnt, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(-1, access(p, F_OK));
	info(self, out, sizeof(out));
	ASSERT_NE(0, out[0]);
	pid_t pid = atoi(strchr(out, '\t') + 1);
	EXPECT_NE(self->rf.pid, pid);
	self->rf.pid = pid;
}

TEST_F(vol, options_refused_with_volume)
{
	char out[1024];
	char o[256];
	snprintf(o, sizeof(o), "%s,control=%s/ctl", self->opts, self->rf.base);
	EXPECT_EQ(2, run(out, sizeof(out), "-o", o, self->mnt2, NULL));
	EXPECT_NE(NULL, strstr(out, "control=")) TH_LOG("%s", out);
	snprintf(o, sizeof(o), "%s,nodefault_permissions", self->opts);
	ASSERT_EQ(0, umount2(self->rf.mnt, 0));
	ASSERT_TRUE(wait_unmounted(self));
	EXPECT_EQ(1, run(out, sizeof(out), "-o", o, self->mnt2, NULL));
	EXPECT_NE(NULL, strstr(out, "default_permissions")) TH_LOG("%s", out);
	EXPECT_FALSE(is_mounted(self->mnt2));
}

/* Reads f after setting its atime to at and its mtime to mt, with
 * O_DIRECT so that the READ reaches ramfuse (a read the page cache answers
 * never does: FOPEN_KEEP_CACHE); returns the atime stat shows then. */
static time_t atime_after_read(const char *f, time_t at, time_t mt)
{
	struct timespec ts[2] = { { at, 0 }, { mt, 0 } };
	static char buf[4096] __attribute__((aligned(4096)));
	struct stat st;
	if (utimensat(AT_FDCWD, f, ts, 0) < 0)
		return -1;
	int fd = open(f, O_RDONLY | O_DIRECT);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 1)
		return -1;
	close(fd);
	return stat(f, &st) < 0 ? -1 : st.st_atime;
}

/* The kernel leaves FUSE's atime to the server, and tells the mount's
 * flags only at mount: each mount of a volume brings its own. */
TEST_F(vol, atime_flags_of_each_mount)
{
	static const struct { const char *opt; bool old_moves, new_moves; } m[] = {
		{ "relatime", true, false }, { "noatime", false, false },
		{ "strictatime", true, true }, { "noatime,strictatime", true, true },
	};
	char p[RF_PATH + 32], out[1024], o[256];
	time_t t = time(NULL);
	P(p, self->rf.mnt, "f");
	int fd = open(p, O_CREAT | O_WRONLY, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "x", 1));
	close(fd);
	ASSERT_EQ(0, umount2(self->rf.mnt, 0));
	ASSERT_TRUE(wait_unmounted(self));
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		snprintf(o, sizeof(o), "%s,%s", self->opts, m[k].opt);
		ASSERT_EQ(0, run(out, sizeof(out), "-o", o, self->mnt2, NULL)) TH_LOG("%s", out);
		P(p, self->mnt2, "f");
		/* atime older than mtime: relatime moves it too */
		time_t a = atime_after_read(p, t - 1000, t - 500);
		EXPECT_EQ(m[k].old_moves, a >= t - 5) TH_LOG("%s: atime %lld", m[k].opt, (long long)a);
		/* atime newer than mtime and ctime (an hour ahead): only strictatime */
		a = atime_after_read(p, t + 3600, t - 500);
		EXPECT_EQ(m[k].new_moves, a < t + 3000) TH_LOG("%s: atime %lld", m[k].opt, (long long)a);
		ASSERT_EQ(0, umount2(self->mnt2, 0));
		ASSERT_TRUE(wait_unmounted(self));
	}
}

/*
 * What fstests asks of `mount -t fuse.ramfuse DEV DIR -o OPTS` (its
 * common/rc and common/config): the helper works without PATH, takes
 * mount(8)'s generic options, returns once the mount serves; the source
 * is DEV exactly and the type "fuse" (with subtype=, as df shows it);
 * unmount and mount again find the files (_test_cycle_mount), and
 * `-o remount,ro` reaches the helper.
 */
TEST_F(vol, mount_helper_contract)
{
	char dir[64] = "/tmp/ramfuse-helper.XXXXXX", helper[128], out[1024], p[RF_PATH + 32];
	char src[80], opts[512];
	struct mountinfo mi;
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(helper, sizeof(helper), "%s/mount.fuse.ramfuse", dir);
	ASSERT_EQ(0, symlink(ramfuse_path(), helper));
	snprintf(src, sizeof(src), "%s-dev", self->name);
	snprintf(opts, sizeof(opts), "volume,subtype=,allow_other,rw,nosuid,nodev,noexec,"
		 "async,noatime,nodiratime,relatime,strictatime,lazytime,dirsync,"
		 "defaults,auto,nouser,_netdev,nofail,x-fstests,comment=fstests");
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	unsetenv("PATH");
	for (int cycle = 0; cycle < 2; cycle++) {
		const char *argv[] = { "mount.fuse.ramfuse", src, self->mnt2, "-o", opts, NULL };
		int rc = rf_run(helper, argv, 10000, out, sizeof(out));
		ASSERT_EQ(0, rc) TH_LOG("%s", out);
		/* up at once: the root answers without waiting */
		ASSERT_EQ(0, mountinfo_get(self->mnt2, &mi));
		EXPECT_STREQ("fuse", mi.fstype);
		EXPECT_STREQ(src, mi.source);
		EXPECT_TRUE(opt_has(mi.mnt_opts, "noexec"));
		P(p, self->mnt2, "cycled");
		if (cycle == 0) {
			ASSERT_EQ(0, mknod(p, S_IFREG | 0600, 0));
		}
		EXPECT_EQ(0, access(p, F_OK)) TH_LOG("cycle %d", cycle);
		if (cycle == 1) {
			const char *re[] = { "mount.fuse.ramfuse", src, self->mnt2, "-o",
					     "remount,ro", NULL };
			EXPECT_EQ(0, rf_run(helper, re, 10000, out, sizeof(out))) TH_LOG("%s", out);
			ASSERT_EQ(0, mountinfo_get(self->mnt2, &mi));
			EXPECT_TRUE(opt_has(mi.mnt_opts, "ro"));
			P(p, self->mnt2, "new");
			EXPECT_EQ(-1, mknod(p, S_IFREG | 0600, 0));
			EXPECT_EQ(EROFS, errno);
		}
		ASSERT_EQ(0, umount2(self->mnt2, 0));
	}
	if (path) {
		setenv("PATH", path, 1);
		free(path);
	}
	unlink(helper);
	rmdir(dir);
	EXPECT_EQ(0, run(out, sizeof(out), "destroy", src, NULL, NULL)) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
