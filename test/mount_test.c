// SPDX-License-Identifier: MIT
/*
 * Mounting and unmounting through the real binary: daemonized, foreground,
 * signals, the stats file, and the mount(8) helper forms.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static const char *const all_ops[] = {
	"LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK", "SYMLINK",
	"MKNOD", "MKDIR", "UNLINK", "RMDIR", "RENAME", "LINK", "OPEN", "READ",
	"WRITE", "STATFS", "RELEASE", "FSYNC", "SETXATTR", "GETXATTR",
	"LISTXATTR", "REMOVEXATTR", "FLUSH", "INIT", "OPENDIR", "READDIR",
	"RELEASEDIR", "FSYNCDIR", "GETLK", "SETLK", "SETLKW", "ACCESS",
	"CREATE", "INTERRUPT", "BMAP", "DESTROY", "IOCTL", "POLL",
	"BATCH_FORGET", "FALLOCATE", "READDIRPLUS", "RENAME2", "LSEEK",
	"COPY_FILE_RANGE", "SYNCFS", "TMPFILE", "STATX", NULL
};

FIXTURE(mnt) {
	struct ramfuse rf;
	char link_dir[64];	/* temp dir holding helper symlinks */
	char sbin_link[64];	/* /sbin/mount.fuse.ramfuse if we created it */
};

FIXTURE_SETUP(mnt)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(mnt)
{
	char p[128];

	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	if (self->sbin_link[0]) {
		unlink(self->sbin_link);
		self->sbin_link[0] = 0;
	}
	if (self->link_dir[0]) {
		snprintf(p, sizeof(p), "%s/mount.fuse.ramfuse", self->link_dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/mount.ramfuse", self->link_dir);
		unlink(p);
		rmdir(self->link_dir);
		self->link_dir[0] = 0;
	}
}

/* nosuid,nodev: ramfuse's default, but not mount(8)'s (its helper takes
 * the flags mount(8) passes) */
static void check_mountinfo(struct __test_metadata *_metadata, const char *mnt,
			    const char *fstype, const char *source, bool nosuid_nodev)
{
	struct mountinfo mi;

	ASSERT_EQ(0, mountinfo_get(mnt, &mi)) TH_LOG("%s not in mountinfo", mnt);
	EXPECT_STREQ(fstype, mi.fstype);
	EXPECT_STREQ(source, mi.source);
	EXPECT_EQ(nosuid_nodev, opt_has(mi.mnt_opts, "nosuid")) TH_LOG("opts %s", mi.mnt_opts);
	EXPECT_EQ(nosuid_nodev, opt_has(mi.mnt_opts, "nodev")) TH_LOG("opts %s", mi.mnt_opts);
}

TEST_F(mnt, daemonized)
{
	struct ramfuse *rf = &self->rf;
	char proto[32], op[64];
	long long seq;

	ASSERT_EQ(0, mount_ramfuse(rf, "threads=3")) TH_LOG("%s", rf->err);
	check_mountinfo(_metadata, rf->mnt, "fuse.ramfuse", "ramfuse", true);

	/* the daemon is a separate, live process */
	ASSERT_LT(0, rf->pid);
	ASSERT_NE(getpid(), rf->pid);
	ASSERT_FALSE(pid_gone(rf->pid));

	/* the stats file as promised */
	ASSERT_EQ(0, stats_get_str(rf, "proto", proto, sizeof(proto)));
	EXPECT_EQ(0, strncmp(proto, "7.", 2)) TH_LOG("proto %s", proto);
	EXPECT_LE(31, atoi(proto + 2)) TH_LOG("proto %s", proto);
	EXPECT_EQ(3, stats_get(rf, "workers"));
	EXPECT_EQ(1, stats_get(rf, "op.INIT"));
	EXPECT_LE(0, stats_get(rf, "flags"));
	for (int i = 0; all_ops[i]; i++) {
		snprintf(op, sizeof(op), "op.%s", all_ops[i]);
		EXPECT_LE(0, stats_get(rf, op)) TH_LOG("no line %s", op);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(op, sizeof(op), "fd.%d", i);
		EXPECT_LE(0, stats_get(rf, op)) TH_LOG("no line %s", op);
	}
	EXPECT_EQ(-1, stats_get(rf, "fd.3"));
	static const char *const others[] = {
		"clone", "passthrough", "reply.enoent", "retry.EINTR",
		"retry.EAGAIN", "retry.ENOENT", "backing.open", "backing.close",
		"inodes", "bytes", NULL
	};
	for (int i = 0; others[i]; i++) {
		EXPECT_LE(0, stats_get(rf, others[i])) TH_LOG("no line %s", others[i]);
	}
	EXPECT_EQ(1, stats_get(rf, "inodes"));
	EXPECT_EQ(0, stats_get(rf, "bytes"));

	/* SIGUSR1 rewrites it with a larger seq */
	seq = stats_get(rf, "seq");
	ASSERT_LE(1, seq);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_LT(seq, stats_get(rf, "seq"));
	EXPECT_FALSE(pid_gone(rf->pid));

	/* external umount: the daemon goes away and writes the stats once more */
	seq = stats_get(rf, "seq");
	ASSERT_EQ(0, umount_ramfuse(rf)) TH_LOG("%s", rf->err);
	EXPECT_FALSE(is_mounted(rf->mnt));
	EXPECT_LT(seq, stats_get(rf, "seq"));
}

TEST_F(mnt, sigterm)
{
	struct ramfuse *rf = &self->rf;

	ASSERT_EQ(0, mount_ramfuse(rf, NULL)) TH_LOG("%s", rf->err);
	ASSERT_EQ(0, kill(rf->pid, SIGTERM));
	EXPECT_EQ(0, wait_pid_gone(rf->pid, 5000));
	EXPECT_FALSE(is_mounted(rf->mnt));
	rf->mounted = 0;
}

TEST_F(mnt, sigterm_busy)
{
	struct ramfuse *rf = &self->rf;
	char path[256];
	int fd;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", NULL)) TH_LOG("%s", rf->err);
	snprintf(path, sizeof(path), "%s/busy", rf->mnt);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	/* the mount is busy: the daemon has to detach it and still exit 0 */
	ASSERT_EQ(0, kill(rf->pid, SIGTERM));
	EXPECT_EQ(0, rf_wait_exit(rf, 5000)) TH_LOG("daemon still running");
	close(fd);
	EXPECT_FALSE(is_mounted(rf->mnt));
	EXPECT_TRUE(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == 0)
		TH_LOG("wait status 0x%x", rf->exit_status);
	rf->mounted = 0;
}

/* the teardown path: descriptors a failed test left open are closed first */
TEST_F(mnt, cleanup_closes_leaked_fds)
{
	struct ramfuse *rf = &self->rf;
	char path[256];
	pid_t pid;
	int fd;

	ASSERT_EQ(0, mount_ramfuse(rf, NULL)) TH_LOG("%s", rf->err);
	pid = rf->pid;
	snprintf(path, sizeof(path), "%s/leak", rf->mnt);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rf_cleanup(rf)) TH_LOG("%s", rf->err);
	EXPECT_TRUE(pid_gone(pid));
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
}

TEST_F(mnt, foreground_umount)
{
	struct ramfuse *rf = &self->rf;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", NULL)) TH_LOG("%s", rf->err);
	check_mountinfo(_metadata, rf->mnt, "fuse.ramfuse", "ramfuse", true);
	ASSERT_EQ(rf->child, rf->pid);
	/* umount_ramfuse() waits for the child and wants exit status 0 */
	ASSERT_EQ(0, umount_ramfuse(rf)) TH_LOG("%s", rf->err);
	ASSERT_TRUE(WIFEXITED(rf->exit_status));
	ASSERT_EQ(0, WEXITSTATUS(rf->exit_status));
}

static void fg_signal(struct __test_metadata *_metadata, struct ramfuse *rf,
		      int sig)
{
	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", NULL)) TH_LOG("%s", rf->err);
	ASSERT_EQ(0, kill(rf->pid, sig));
	ASSERT_EQ(0, rf_wait_exit(rf, 5000)) TH_LOG("no exit after signal %d", sig);
	EXPECT_TRUE(WIFEXITED(rf->exit_status)) TH_LOG("status 0x%x", rf->exit_status);
	EXPECT_EQ(0, WEXITSTATUS(rf->exit_status));
	EXPECT_FALSE(is_mounted(rf->mnt));
	rf->mounted = 0;
}

TEST_F(mnt, foreground_sigterm)
{
	fg_signal(_metadata, &self->rf, SIGTERM);
}

TEST_F(mnt, foreground_sigint)
{
	fg_signal(_metadata, &self->rf, SIGINT);
}

/* SIGHUP means what SIGTERM means (README): unmount and exit 0 */
TEST_F(mnt, foreground_sighup)
{
	fg_signal(_metadata, &self->rf, SIGHUP);
}

TEST_F(mnt, foreground_usable)
{
	struct ramfuse *rf = &self->rf;
	char path[256];
	struct stat st;
	int fd;

	ASSERT_EQ(0, mount_ramfuse_fg(rf, "-f", NULL)) TH_LOG("%s", rf->err);
	snprintf(path, sizeof(path), "%s/hello", rf->mnt);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "hello", 5));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(5, st.st_size);
	ASSERT_EQ(0, umount_ramfuse(rf)) TH_LOG("%s", rf->err);
}

static int make_helper_link(struct __test_metadata *_metadata,
			    FIXTURE_DATA(mnt) *self, const char *name,
			    char *out, size_t len)
{
	char target[PATH_MAX];

	if (!realpath(ramfuse_path(), target))
		return -1;
	if (!self->link_dir[0]) {
		snprintf(self->link_dir, sizeof(self->link_dir),
			 "/tmp/ramfuse-helper.XXXXXX");
		if (!mkdtemp(self->link_dir)) {
			self->link_dir[0] = 0;
			return -1;
		}
	}
	snprintf(out, len, "%s/%s", self->link_dir, name);
	EXPECT_EQ(0, symlink(target, out));
	return 0;
}

static void helper_mount(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mnt) *self, const char *name)
{
	struct ramfuse *rf = &self->rf;
	char helper[160], opts[512], out[2048];
	struct statvfs sv;
	int rc;

	ASSERT_EQ(0, make_helper_link(_metadata, self, name, helper, sizeof(helper)));
	ASSERT_EQ(0, rf_prepare(rf)) TH_LOG("%s", rf->err);
	snprintf(opts, sizeof(opts),
		 "rw,nosuid,nodev,noatime,_netdev,nofail,x-systemd.automount,"
		 "comment=foo,defaults,size=64m,stats=%s", rf->stats);
	{
		const char *argv[] = { helper, "ramfuse", rf->mnt, "-o", opts,
				       "-n", NULL };

		rc = rf_run(helper, argv, 10000, out, sizeof(out));
	}
	rf->mounted = is_mounted(rf->mnt);
	ASSERT_EQ(0, rc) TH_LOG("%s: %s", name, out);
	ASSERT_TRUE(rf->mounted);
	check_mountinfo(_metadata, rf->mnt, "fuse.ramfuse", "ramfuse", true);
	rf->pid = (pid_t)stats_get(rf, "pid");
	ASSERT_LT(0, rf->pid);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(64ULL << 20, (unsigned long long)sv.f_blocks * sv.f_frsize);
	ASSERT_EQ(0, umount_ramfuse(rf)) TH_LOG("%s", rf->err);
}

TEST_F(mnt, helper_mount_fuse_ramfuse)
{
	helper_mount(_metadata, self, "mount.fuse.ramfuse");
}

TEST_F(mnt, helper_mount_ramfuse)
{
	helper_mount(_metadata, self, "mount.ramfuse");
}

TEST_F(mnt, helper_fake)
{
	struct ramfuse *rf = &self->rf;
	char helper[160], out[1024];
	int rc;

	ASSERT_EQ(0, make_helper_link(_metadata, self, "mount.fuse.ramfuse",
				      helper, sizeof(helper)));
	ASSERT_EQ(0, rf_prepare(rf)) TH_LOG("%s", rf->err);
	{
		const char *argv[] = { helper, "ramfuse", rf->mnt, "-f", "-v",
				       "-s", "-o", "size=1m", NULL };

		rc = rf_run(helper, argv, 10000, out, sizeof(out));
	}
	rf->mounted = is_mounted(rf->mnt);
	EXPECT_EQ(0, rc) TH_LOG("%s", out);
	EXPECT_FALSE(rf->mounted) TH_LOG("-f (fake) mounted anyway");
}

TEST_F(mnt, mount_t)
{
	static const char *const mounts[] = { "/bin/mount", "/usr/bin/mount",
					      "/sbin/mount", "/usr/sbin/mount", NULL };
	struct ramfuse *rf = &self->rf;
	const char *mount_bin = NULL;
	const char *sbin_link = "/sbin/mount.fuse.ramfuse";
	char target[PATH_MAX], cur[PATH_MAX], opts[512], out[2048];
	struct statvfs sv;
	int rc;

	for (int i = 0; mounts[i] && !mount_bin; i++)
		if (access(mounts[i], X_OK) == 0)
			mount_bin = mounts[i];
	if (!mount_bin)
		SKIP(return, "no mount(8) binary");
	ASSERT_NE(NULL, realpath(ramfuse_path(), target));
	if (realpath(sbin_link, cur)) {
		if (strcmp(cur, target))
			SKIP(return, "%s exists and is not this ramfuse (%.200s)",
			     sbin_link, cur);
	} else {
		if (symlink(target, sbin_link))
			SKIP(return, "cannot create %s: %s", sbin_link,
			     strerror(errno));
		snprintf(self->sbin_link, sizeof(self->sbin_link), "%s", sbin_link);
	}
	ASSERT_EQ(0, rf_prepare(rf)) TH_LOG("%s", rf->err);
	snprintf(opts, sizeof(opts), "size=64m,stats=%s", rf->stats);
	{
		const char *argv[] = { mount_bin, "-t", "fuse.ramfuse", "ramfuse",
				       rf->mnt, "-o", opts, NULL };

		rc = rf_run(mount_bin, argv, 10000, out, sizeof(out));
	}
	rf->mounted = is_mounted(rf->mnt);
	ASSERT_EQ(0, rc) TH_LOG("mount -t fuse.ramfuse: %s", out);
	ASSERT_TRUE(rf->mounted);
	/* mount(8) passed no nosuid/nodev: none, as for tmpfs */
	check_mountinfo(_metadata, rf->mnt, "fuse.ramfuse", "ramfuse", false);
	rf->pid = (pid_t)stats_get(rf, "pid");
	ASSERT_LT(0, rf->pid);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(64ULL << 20, (unsigned long long)sv.f_blocks * sv.f_frsize);
	ASSERT_EQ(0, umount_ramfuse(rf)) TH_LOG("%s", rf->err);
}

TEST_HARNESS_MAIN
