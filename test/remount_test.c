// SPDX-License-Identifier: MIT
/*
 * Everyday mounts: mount -o remount through the mount helper (flags by
 * mount(2), size=/nr_inodes=/mode= live through the control socket,
 * shrinking below use refused, fstab's options again without a control
 * socket when they change nothing), and mount.fuse3's calling conventions
 * ("ramfuse SOURCE MOUNTPOINT -o ...", fstab "ramfuse#SOURCE" type fuse).
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

FIXTURE(rm) {
	struct ramfuse rf;
	char ctl[64];
	char link[64]; /* a helper or program link we made, removed after */
};

FIXTURE_SETUP(rm)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(self->ctl, sizeof(self->ctl), "/tmp/ramfuse-remount.%d.ctl", (int)getpid());
}

FIXTURE_TEARDOWN(rm)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	if (self->link[0])
		unlink(self->link);
	unlink(self->ctl);
}

/* mount.fuse.ramfuse SOURCE MNT -o OPTS, as mount(8) runs it */
static int helper(struct ramfuse *rf, const char *opts, char *out, size_t len)
{
	const char *argv[] = { "mount.fuse.ramfuse", "ramfuse", rf->mnt, "-o", opts, NULL };
	return rf_run(ramfuse_path(), argv, 10000, out, len);
}

#define REMOUNT "rw,nosuid,nodev,relatime,remount,user_id=0,group_id=0,default_permissions"

TEST_F(rm, limits_live)
{
	struct ramfuse *rf = &self->rf;
	struct statvfs sv;
	char o[128], out[2048], path[256];

	snprintf(o, sizeof(o), "size=1m,control=%s", self->ctl);
	ASSERT_EQ(0, mount_ramfuse(rf, o)) TH_LOG("%s", rf->err);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(256, sv.f_blocks);
	EXPECT_EQ(0, helper(rf, REMOUNT ",size=4m,nr_inodes=100", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(1024, sv.f_blocks);
	EXPECT_EQ(100, sv.f_files);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	EXPECT_EQ(4 << 20, stats_get(rf, "opt.size"));
	EXPECT_EQ(100, stats_get(rf, "opt.nr_inodes"));
	/* 3 MiB fit now; shrinking below them is refused, as tmpfs does */
	static char buf[3 << 20];
	snprintf(path, sizeof(path), "%s/data", rf->mnt);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_EQ(1, helper(rf, REMOUNT ",size=1m", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "below what is in use")) TH_LOG("%s", out);
	EXPECT_EQ(1, helper(rf, REMOUNT ",nr_inodes=1", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(1024, sv.f_blocks);
	/* 0: no limit, as tmpfs */
	EXPECT_EQ(0, helper(rf, REMOUNT ",size=0,mode=0700,uid=12", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(0, sv.f_blocks);
	struct stat st;
	ASSERT_EQ(0, stat(rf->mnt, &st));
	EXPECT_EQ(0700, st.st_mode & 07777);
	EXPECT_EQ(12, st.st_uid);
	/* what cannot change is named */
	EXPECT_EQ(2, helper(rf, REMOUNT ",threads=3", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "threads=3")) TH_LOG("%s", out);
}

TEST_F(rm, ro_rw)
{
	struct ramfuse *rf = &self->rf;
	struct mountinfo mi;
	char out[2048], path[256];

	ASSERT_EQ(0, mount_ramfuse(rf, NULL)) TH_LOG("%s", rf->err);
	snprintf(path, sizeof(path), "%s/f", rf->mnt);
	EXPECT_EQ(0, helper(rf, "ro,nosuid,nodev,relatime,remount", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "ro")) TH_LOG("%s", mi.mnt_opts);
	EXPECT_GT(0, open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(0, helper(rf, REMOUNT, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "rw")) TH_LOG("%s", mi.mnt_opts);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	EXPECT_LE(0, fd);
	close(fd);
	/* no control socket: size= cannot reach the daemon, and says so */
	EXPECT_EQ(1, helper(rf, REMOUNT ",size=2m", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "control")) TH_LOG("%s", out);
}

/*
 * mount(8) repeats fstab's options on every remount: options that state
 * what is true already (size=, nr_inodes=, mode= as statfs and stat show
 * them; volume) need no control socket; a real change without one fails
 * before anything changed (the mount stays rw).
 */
TEST_F(rm, fstab_options_again)
{
	struct ramfuse *rf = &self->rf;
	struct mountinfo mi;
	char out[2048];

	ASSERT_EQ(0, mount_ramfuse(rf, "size=1m,nr_inodes=100,mode=0755")) TH_LOG("%s", rf->err);
	EXPECT_EQ(0, helper(rf, "ro,remount,size=1m,nr_inodes=100,mode=0755,volume,x-systemd.a",
			    out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "ro")) TH_LOG("%s", mi.mnt_opts);
	EXPECT_EQ(0, helper(rf, REMOUNT ",size=1024k", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "rw")) TH_LOG("%s", mi.mnt_opts);
	/* changes: the daemon is needed, and there is no control socket */
	EXPECT_EQ(1, helper(rf, "ro,remount,size=2m", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(1, helper(rf, "ro,remount,mode=0700", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(1, helper(rf, "ro,remount,volume=elsewhere", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "rw")) TH_LOG("a refused remount changed the flags: %s",
						      mi.mnt_opts);
	EXPECT_EQ(2, helper(rf, "remount,threads=3", out, sizeof(out))) TH_LOG("%s", out);
}

/* A volume's name may come again on remount; another name is refused (the
 * volume's daemon says which mount it serves) */
TEST_F(rm, volume_name_again)
{
	struct ramfuse *rf = &self->rf;
	char o[160], out[2048], vol[64];

	snprintf(vol, sizeof(vol), "rmvol%d", (int)getpid());
	snprintf(o, sizeof(o), "volume=%s,size=1m", vol);
	ASSERT_EQ(0, mount_ramfuse(rf, o)) TH_LOG("%s", rf->err);
	snprintf(o, sizeof(o), "ro,remount,volume=%s,size=1m", vol);
	EXPECT_EQ(0, helper(rf, o, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(1, helper(rf, REMOUNT ",volume=another", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "another")) TH_LOG("%s", out);
	/* the volume outlives its mount: unmounted, it can be destroyed once
	 * its daemon has taken the connection's end in */
	ASSERT_EQ(0, umount2(rf->mnt, 0));
	const char *argv[] = { "ramfuse", "destroy", vol, NULL };
	int rc = -1;

	for (long long end = now_ms() + 5000; rc && now_ms() < end; sleep_ms(50))
		rc = rf_run(ramfuse_path(), argv, 10000, out, sizeof(out));
	EXPECT_EQ(0, rc) TH_LOG("%s", out);
}

/* mount(8) itself: it runs /sbin/mount.fuse.SUBTYPE with "remount" */
TEST_F(rm, through_mount8)
{
	struct ramfuse *rf = &self->rf;
	struct statvfs sv;
	char o[256], out[2048], sub[32];

	if (access("/bin/mount", X_OK))
		SKIP(return, "no /bin/mount");
	snprintf(sub, sizeof(sub), "rfremount%d", (int)getpid());
	snprintf(self->link, sizeof(self->link), "/sbin/mount.fuse.%s", sub);
	ASSERT_EQ(0, symlink(ramfuse_path(), self->link)) TH_LOG("%s", strerror(errno));
	snprintf(o, sizeof(o), "size=1m,subtype=%s,control=%s", sub, self->ctl);
	ASSERT_EQ(0, mount_ramfuse(rf, o)) TH_LOG("%s", rf->err);
	const char *argv[] = { "mount", "-o", "remount,size=2m", rf->mnt, NULL };
	EXPECT_EQ(0, rf_run("/bin/mount", argv, 10000, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(512, sv.f_blocks);
}

/* mount.fuse3 runs "ramfuse SOURCE MOUNTPOINT -o OPTIONS" */
TEST_F(rm, source_mountpoint_form)
{
	struct ramfuse *rf = &self->rf;
	struct mountinfo mi;
	char o[256], out[2048];

	ASSERT_EQ(0, rf_prepare(rf));
	snprintf(o, sizeof(o), "size=1m,stats=%s", rf->stats);
	const char *argv[] = { "ramfuse", "mysource", rf->mnt, "-o", o, NULL };
	ASSERT_EQ(0, rf_run(ramfuse_path(), argv, 10000, out, sizeof(out))) TH_LOG("%s", out);
	rf->mounted = 1;
	rf->pid = (pid_t)stats_get(rf, "pid");
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_STREQ("mysource", mi.source);
	EXPECT_STREQ("fuse.ramfuse", mi.fstype);
}

TEST_F(rm, mount_fuse3)
{
	struct ramfuse *rf = &self->rf;
	struct mountinfo mi;
	struct statvfs sv;
	char o[256], out[2048], path[4096], dir[4096];

	if (access("/sbin/mount.fuse3", X_OK))
		SKIP(return, "no /sbin/mount.fuse3 (fuse3 not installed)");
	ASSERT_EQ(0, rf_prepare(rf));
	/* it finds "ramfuse" on PATH */
	snprintf(dir, sizeof(dir), "%s", ramfuse_path());
	snprintf(path, sizeof(path), "%s:/usr/sbin:/usr/bin:/sbin:/bin", dirname(dir));
	setenv("PATH", path, 1);
	snprintf(o, sizeof(o), "size=1m,stats=%s", rf->stats);
	const char *argv[] = { "mount.fuse3", "ramfuse#hashsource", rf->mnt, "-o", o, NULL };
	ASSERT_EQ(0, rf_run("/sbin/mount.fuse3", argv, 10000, out, sizeof(out))) TH_LOG("%s", out);
	rf->mounted = 1;
	rf->pid = (pid_t)stats_get(rf, "pid");
	ASSERT_EQ(0, mountinfo_get(rf->mnt, &mi));
	EXPECT_STREQ("hashsource", mi.source);
	EXPECT_STREQ("fuse.ramfuse", mi.fstype);
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	EXPECT_EQ(256, sv.f_blocks);
}

TEST_HARNESS_MAIN
