// SPDX-License-Identifier: MIT
/*
 * Command line and -o options: errors (exit codes and messages), the
 * options that change what the mount looks like, and -d logging.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

FIXTURE(opt) {
	struct ramfuse rf;
	char file[128];		/* a regular file, for "not a directory" */
};

FIXTURE_SETUP(opt)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(opt)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	if (self->file[0]) {
		unlink(self->file);
		self->file[0] = 0;
	}
}

/*
 * Run ramfuse with args (and MNT appended when mnt is set).  Cleans up a
 * mount that should not have happened, and reports it.
 */
static int run_ramfuse(struct __test_metadata *_metadata, struct ramfuse *rf,
		       const char *const args[], bool add_mnt, char *out,
		       size_t outlen)
{
	const char *argv[16];
	size_t a = 0;
	int rc;

	argv[a++] = "ramfuse";
	for (size_t i = 0; args[i] && a < 14; i++)
		argv[a++] = args[i];
	if (add_mnt)
		argv[a++] = rf->mnt;
	argv[a] = NULL;
	rc = rf_run(ramfuse_path(), argv, 10000, out, outlen);
	if (add_mnt && is_mounted(rf->mnt)) {
		EXPECT_FALSE(true) TH_LOG("mounted although it should not have");
		rf->mounted = 1;
		umount2(rf->mnt, MNT_DETACH);
		rf->mounted = 0;
	}
	return rc;
}

/* the message is ours and mentions what */
static void check_msg(struct __test_metadata *_metadata, const char *out,
		      const char *what)
{
	EXPECT_EQ(0, strncmp(out, "ramfuse: ", 9)) TH_LOG("stderr: %s", out);
	EXPECT_NE(NULL, strstr(out, what)) TH_LOG("stderr does not name %s: %s", what, out);
}

TEST_F(opt, unknown_option)
{
	char out[2048];
	const char *args[] = { "-o", "size=1m,bogus_opt_xyz", NULL };

	ASSERT_EQ(0, rf_prepare(&self->rf));
	EXPECT_EQ(2, run_ramfuse(_metadata, &self->rf, args, true, out, sizeof(out)))
		TH_LOG("%s", out);
	check_msg(_metadata, out, "bogus_opt_xyz");
}

TEST_F(opt, unknown_flag)
{
	char out[2048];
	const char *args[] = { "-Z", NULL };

	ASSERT_EQ(0, rf_prepare(&self->rf));
	EXPECT_EQ(2, run_ramfuse(_metadata, &self->rf, args, true, out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "ramfuse: ", 9)) TH_LOG("%s", out);
}

TEST_F(opt, malformed_values)
{
	static const struct { const char *opt, *name; } bad[] = {
		{ "size=abc", "size" }, { "size=12q", "size" }, { "size=", "size" },
		{ "size=-5", "size" }, { "size=1m2", "size" },
		{ "mode=abc", "mode" }, { "mode=0999", "mode" }, { "mode=", "mode" },
		{ "threads=0", "threads" }, { "threads=257", "threads" },
		{ "threads=x", "threads" }, { "threads=", "threads" },
		{ "nr_inodes=x", "nr_inodes" }, { "uid=abc", "uid" },
		{ "gid=1x", "gid" }, { "passthrough=maybe", "passthrough" },
		{ "entry_timeout=x", "entry_timeout" },
		{ "negative_timeout=-1", "negative_timeout" },
		{ "attr_timeout=-", "attr_timeout" }, { "max_read=q", "max_read" },
		/* the kernel refuses a reply's error of -512 and below: the
		 * caller would wait until the connection ends */
		{ "fault=LOOKUP:error=512", "fault=LOOKUP" },
		{ "fault=GETATTR:error=4095", "error=4095" },
		{ "fault=GETATTR:error=-5", "error=-5" },
		{ "fault=GETATTR:error=0", "error=0" },
		{ "fsname=", "fsname" },
	};
	char out[2048], o[128];

	ASSERT_EQ(0, rf_prepare(&self->rf));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { "-o", o, NULL };
		int rc;

		snprintf(o, sizeof(o), "%s", bad[i].opt);
		rc = run_ramfuse(_metadata, &self->rf, args, true, out, sizeof(out));
		EXPECT_EQ(2, rc) TH_LOG("-o %s: exit %d: %s", bad[i].opt, rc, out);
		check_msg(_metadata, out, bad[i].name);
	}
}

/* A source longer than mount(2) copies is an option error, not a failed mount. */
TEST_F(opt, fsname_too_long)
{
	static char o[6000];
	char out[2048];
	const char *args[] = { "-o", o, NULL };
	const char *helper[] = { "mount.ramfuse", o + 7, self->rf.mnt, NULL };

	ASSERT_EQ(0, rf_prepare(&self->rf));
	memcpy(o, "fsname=", 7);
	memset(o + 7, 'f', 5000);
	EXPECT_EQ(2, run_ramfuse(_metadata, &self->rf, args, true, out, sizeof(out)))
		TH_LOG("%s", out);
	check_msg(_metadata, out, "fsname");
	/* the mount helper's SOURCE is the same string */
	EXPECT_EQ(2, rf_run(ramfuse_path(), helper, 10000, out, sizeof(out))) TH_LOG("%s", out);
	check_msg(_metadata, out, "fsname");
	EXPECT_FALSE(is_mounted(self->rf.mnt));
	/* a long one the kernel takes mounts */
	ASSERT_EQ(0, rf_cleanup(&self->rf));
	o[7 + 900] = 0;
	ASSERT_EQ(0, mount_ramfuse(&self->rf, o)) TH_LOG("%s", self->rf.err);
}

/* As tmpfs, a size below a page is one page: 0 blocks would read "no limit". */
TEST_F(opt, size_rounds_up_to_pages)
{
	static const struct { const char *opt; unsigned long blocks; } c[] = {
		{ "size=1", 1 }, { "size=4097", 2 }, { "size=8k", 2 },
	};
	struct statvfs sv;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ASSERT_EQ(0, mount_ramfuse(&self->rf, c[i].opt)) TH_LOG("%s", self->rf.err);
		ASSERT_EQ(0, statvfs(self->rf.mnt, &sv));
		EXPECT_EQ(4096, sv.f_frsize);
		EXPECT_EQ(c[i].blocks, sv.f_blocks) TH_LOG("%s", c[i].opt);
		ASSERT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	}
}

TEST_F(opt, missing_mountpoint_arg)
{
	char out[2048];
	const char *args[] = { "-o", "size=1m", NULL };
	int rc;

	rc = run_ramfuse(_metadata, &self->rf, args, false, out, sizeof(out));
	EXPECT_NE(0, rc);
	EXPECT_EQ(2, rc) TH_LOG("usage errors exit 2");
	/* a "ramfuse: ..." message saying what is wrong, usage text may follow */
	EXPECT_TRUE(!strncmp(out, "ramfuse: ", 9) || strstr(out, "\nramfuse: "))
		TH_LOG("no \"ramfuse: \" message: %s", out);
}

TEST_F(opt, too_many_args)
{
	char out[2048];
	const char *args[] = { "/tmp", NULL };

	ASSERT_EQ(0, rf_prepare(&self->rf));
	EXPECT_EQ(2, run_ramfuse(_metadata, &self->rf, args, true, out, sizeof(out)))
		TH_LOG("%s", out);
}

TEST_F(opt, nonexistent_mountpoint)
{
	char out[2048], mnt[256];
	const char *args[] = { mnt, NULL };
	int rc;

	ASSERT_EQ(0, rf_prepare(&self->rf));
	snprintf(mnt, sizeof(mnt), "%s/does-not-exist", self->rf.mnt);
	rc = run_ramfuse(_metadata, &self->rf, args, false, out, sizeof(out));
	EXPECT_EQ(1, rc) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "ramfuse: ", 9)) TH_LOG("%s", out);
	EXPECT_TRUE(strstr(out, "does-not-exist") || strstr(out, "No such file"))
		TH_LOG("%s", out);
	EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(opt, mountpoint_not_a_directory)
{
	char out[2048];
	const char *args[] = { self->file, NULL };
	int fd, rc;

	snprintf(self->file, sizeof(self->file), "/tmp/ramfuse-notdir.XXXXXX");
	fd = mkstemp(self->file);
	ASSERT_LE(0, fd);
	close(fd);
	rc = run_ramfuse(_metadata, &self->rf, args, false, out, sizeof(out));
	EXPECT_EQ(1, rc) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "ramfuse: ", 9)) TH_LOG("%s", out);
	EXPECT_TRUE(strstr(out, "ot a directory") || strstr(out, self->file))
		TH_LOG("%s", out);
	EXPECT_FALSE(is_mounted(self->file));
}

TEST_F(opt, help_and_version)
{
	/* every option README's table and the parser know, by name */
	static const char *const names[] = {
		"size=", "nr_inodes=", "mode=", "uid=", "gid=", "allow_other",
		"default_permissions", "nodefault_permissions", "max_read=",
		"fsname=", "subtype=", "threads=", "noclone_fd", "clone_fd",
		"entry_timeout=", "attr_timeout=", "passthrough=", "stats=",
		"fault=", "nonblock", "log=", "root ", "populate=", "control=", "ro ", "noexec", "lazytime", "defaults",
		"_netdev", "x-*", "comment=", "--help", "--version",
		"--foreground", "--debug",
	};
	static const char *const forms[][2] = {
		{ "-h", "usage" }, { "--help", "usage" },
		{ "-V", "ramfuse " }, { "--version", "ramfuse " },
	};
	char out[8192];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *a[] = { forms[i][0], NULL };

		EXPECT_EQ(0, run_ramfuse(_metadata, &self->rf, a, false, out, sizeof(out)))
			TH_LOG("%s: %s", forms[i][0], out);
		EXPECT_NE(NULL, strstr(out, forms[i][1])) TH_LOG("%s: %s", forms[i][0], out);
	}
	const char *h[] = { "--help", NULL }, *bad[] = { "--bogus", NULL };
	ASSERT_EQ(0, run_ramfuse(_metadata, &self->rf, h, false, out, sizeof(out)));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		EXPECT_NE(NULL, strstr(out, names[i])) TH_LOG("--help lacks %s", names[i]);
	}
	EXPECT_EQ(2, run_ramfuse(_metadata, &self->rf, bad, false, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "--bogus")) TH_LOG("%s", out);
}

TEST_F(opt, mode_uid_gid)
{
	struct stat st;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "mode=0700,uid=123,gid=456"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, stat(self->rf.mnt, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0700, st.st_mode & 07777);
	EXPECT_EQ(123, st.st_uid);
	EXPECT_EQ(456, st.st_gid);
	EXPECT_EQ(1, st.st_ino) TH_LOG("root inode");
}

TEST_F(opt, mode_sticky)
{
	struct stat st;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "mode=1777"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, stat(self->rf.mnt, &st));
	EXPECT_EQ(01777, st.st_mode & 07777);
}

TEST_F(opt, default_permissions)
{
	struct mountinfo mi;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, mountinfo_get(self->rf.mnt, &mi));
	EXPECT_TRUE(opt_has(mi.super_opts, "default_permissions")) TH_LOG("%s", mi.super_opts);
	EXPECT_FALSE(opt_has(mi.super_opts, "allow_other")) TH_LOG("%s", mi.super_opts);
}

TEST_F(opt, nodefault_permissions_allow_other)
{
	struct mountinfo mi;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "nodefault_permissions,allow_other"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, mountinfo_get(self->rf.mnt, &mi));
	EXPECT_FALSE(opt_has(mi.super_opts, "default_permissions")) TH_LOG("%s", mi.super_opts);
	EXPECT_TRUE(opt_has(mi.super_opts, "allow_other")) TH_LOG("%s", mi.super_opts);
}

TEST_F(opt, fsname_subtype)
{
	struct mountinfo mi;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "fsname=myfs,subtype=other"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, mountinfo_get(self->rf.mnt, &mi));
	EXPECT_STREQ("fuse.other", mi.fstype);
	EXPECT_STREQ("myfs", mi.source);
}

TEST_F(opt, generic_mount_options)
{
	struct mountinfo mi;
	char p[256];

	ASSERT_EQ(0, mount_ramfuse(&self->rf,
		"rw,noexec,noatime,async,auto,nouser,_netdev,nofail,defaults,"
		"x-gvfs-hide,comment=hello,lazytime"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, mountinfo_get(self->rf.mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "noexec")) TH_LOG("%s", mi.mnt_opts);
	EXPECT_TRUE(opt_has(mi.mnt_opts, "noatime")) TH_LOG("%s", mi.mnt_opts);
	EXPECT_TRUE(opt_has(mi.mnt_opts, "nosuid")) TH_LOG("%s", mi.mnt_opts);
	EXPECT_TRUE(opt_has(mi.mnt_opts, "nodev")) TH_LOG("%s", mi.mnt_opts);
	snprintf(p, sizeof(p), "%s/d", self->rf.mnt);
	EXPECT_EQ(0, mkdir(p, 0755));
	EXPECT_EQ(0, rmdir(p));
}

TEST_F(opt, read_only)
{
	struct mountinfo mi;
	char p[256];

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "ro")) TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, mountinfo_get(self->rf.mnt, &mi));
	EXPECT_TRUE(opt_has(mi.mnt_opts, "ro")) TH_LOG("%s", mi.mnt_opts);
	snprintf(p, sizeof(p), "%s/d", self->rf.mnt);
	EXPECT_EQ(-1, mkdir(p, 0755));
	EXPECT_EQ(EROFS, errno);
}

TEST_F(opt, timeouts_max_read_accepted)
{
	char p[256], buf[300000];
	int fd;

	ASSERT_EQ(0, mount_ramfuse(&self->rf,
		"entry_timeout=1.5,attr_timeout=0.25,max_read=65536,passthrough=off"))
		TH_LOG("%s", self->rf.err);
	snprintf(p, sizeof(p), "%s/f", self->rf.mnt);
	fd = open(p, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	pattern_fill((unsigned char *)buf, sizeof(buf), 0, 3);
	ASSERT_EQ((ssize_t)sizeof(buf), pwrite_all(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), pread_all(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(-1, pattern_check((unsigned char *)buf, sizeof(buf), 0, 3));
	close(fd);
}

TEST_F(opt, passthrough_values)
{
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "passthrough=off")) TH_LOG("%s", self->rf.err);
	EXPECT_EQ(0, stats_get(&self->rf, "passthrough"));
	ASSERT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "passthrough=auto")) TH_LOG("%s", self->rf.err);
	EXPECT_LE(0, stats_get(&self->rf, "passthrough"));
}

TEST_F(opt, repeated_o)
{
	struct statvfs sv;
	const char *const extra[] = { "-o", "nr_inodes=77", "-o", "mode=0750", NULL };
	struct stat st;

	ASSERT_EQ(0, mount_ramfuse_args(&self->rf, extra, "size=2m"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, statvfs(self->rf.mnt, &sv));
	EXPECT_EQ(77, sv.f_files);
	ASSERT_EQ(0, stat(self->rf.mnt, &st));
	EXPECT_EQ(0750, st.st_mode & 07777);
}

TEST_F(opt, debug_log)
{
	char p[256], log[65536];
	struct stat st;

	ASSERT_EQ(0, mount_ramfuse_fg(&self->rf, "-d", NULL)) TH_LOG("%s", self->rf.err);
	snprintf(p, sizeof(p), "%s/no-such-name", self->rf.mnt);
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, umount_ramfuse(&self->rf)) TH_LOG("%s", self->rf.err);
	rf_log(&self->rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "INIT")) TH_LOG("%s", log);
	EXPECT_NE(NULL, strstr(log, " LOOKUP ")) TH_LOG("%s", log);
	{
		/* one request line per request: "ramfuse: fd N unique N OP ...",
		 * or "ramfuse: q N unique ..." when a ring queue served it */
		const char *l = strstr(log, " LOOKUP ");
		const char *bol = l;

		while (bol && bol > log && bol[-1] != '\n')
			bol--;
		if (bol) {
			EXPECT_EQ(0, strncmp(bol, rf_on_ring(&self->rf) ? "ramfuse: q " :
					     "ramfuse: fd ", rf_on_ring(&self->rf) ? 11 : 12))
				TH_LOG("%.80s", bol);
			EXPECT_TRUE(strstr(bol, " unique ") && strstr(bol, " unique ") < l)
				TH_LOG("%.80s", bol);
		}
	}
	EXPECT_NE(NULL, strstr(log, " reply ")) TH_LOG("%s", log);
}

TEST_F(opt, stats_written_at_exit)
{
	long long seq;
	char p[256];

	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	snprintf(p, sizeof(p), "%s/d", self->rf.mnt);
	ASSERT_EQ(0, mkdir(p, 0755));
	seq = stats_get(&self->rf, "seq");
	ASSERT_EQ(0, umount_ramfuse(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_LT(seq, stats_get(&self->rf, "seq"));
	EXPECT_LE(1, stats_get(&self->rf, "op.MKDIR"));
	EXPECT_EQ(2, stats_get(&self->rf, "inodes"));
}

TEST_HARNESS_MAIN
