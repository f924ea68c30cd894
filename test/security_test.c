// SPDX-License-Identifier: MIT
/*
 * Security and data safety: no user may exceed their rights or the limits,
 * nothing held is lost.  Each case runs on a tmpfs first, then on ramfuse
 * (with and without default_permissions), and both must answer the same:
 *   - chown(f, -1, -1) by a non-owner cannot drop another's set-id bits,
 *     an O_TRUNC open by a non-owner drops them, for exec too;
 *   - an unlinked file held only by an O_PATH descriptor keeps its data,
 *     and an O_TMPFILE linked back by AT_EMPTY_PATH counts in nr_inodes;
 *   - xattrs are charged to the inode space, as tmpfs charges them;
 *   - without default_permissions ramfuse is as strict as the kernel:
 *     user.* reads need read permission, capabilities are the caller's
 *     (root without them is refused), fs.protected_hardlinks, user.* on
 *     sticky directories and on one's own read-only file.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

#define CAP_CHOWN 0
#define CAP_DAC_OVERRIDE 1
#define CAP_DAC_READ_SEARCH 2
#define CAP_FOWNER 3
#define CAP_FSETID 4
#define ROOT_DROPPED ((1u << CAP_CHOWN) | (1u << CAP_DAC_OVERRIDE) | \
		      (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER) | (1u << CAP_FSETID))

/* Drops caps (a mask of CAP_* bits 0..31) from the effective and permitted
 * sets of this process, as capsh --drop does. */
static int drop_caps(uint32_t mask)
{
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t effective, permitted, inheritable; } data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~mask;
	data[0].permitted &= ~mask;
	data[0].inheritable &= ~mask;
	return (int)syscall(SYS_capset, &hdr, data);
}

typedef int probe_fn(const char *root, void *arg);

/* Runs fn(root, arg) in a child as uid/gid (uid 0: root less the caps in
 * drop); returns what fn returned: 0 or -errno. */
static int as(uid_t uid, gid_t gid, uint32_t drop, probe_fn *fn, const char *root, void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(200);
		if (drop && drop_caps(drop))
			_exit(201);
		int res = fn(root, arg);
		_exit(res < 0 ? -res : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1000;
	if (WEXITSTATUS(status) >= 200)
		return -2000 - WEXITSTATUS(status);
	return -WEXITSTATUS(status);
}

static const char *P(const char *root, const char *rel)
{
	static char path[2][512];
	static int k;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/%s", root, rel);
	return path[k];
}

static int res(long r)
{
	return r < 0 ? -errno : 0;
}

FIXTURE(sec) {
	struct ramfuse rf;
	char tmp[64];
	const char *roots[2];
};

FIXTURE_VARIANT(sec) {
	const char *opts;
};

FIXTURE_VARIANT_ADD(sec, default_permissions) { .opts = "allow_other" };
FIXTURE_VARIANT_ADD(sec, nodefault_permissions) {
	.opts = "allow_other,nodefault_permissions"
};
FIXTURE_VARIANT_ADD(sec, default_permissions_passthrough_off) {
	.opts = "allow_other,passthrough=off"
};
FIXTURE_VARIANT_ADD(sec, passthrough_off) {
	.opts = "allow_other,nodefault_permissions,passthrough=off"
};

FIXTURE_SETUP(sec)
{
	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(self->tmp, sizeof(self->tmp), "mode=0777"));
	ASSERT_EQ(0, mount_ramfuse(&self->rf, variant->opts)) TH_LOG("%s", self->rf.err);
	/* other users reach the mount through the test's directory */
	ASSERT_EQ(0, chmod(self->rf.base, 0755));
	self->roots[0] = self->tmp;
	self->roots[1] = self->rf.mnt;
}

FIXTURE_TEARDOWN(sec)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	if (self->tmp[0])
		tmpfs_umount(self->tmp);
}

static const char *const fsname[2] = { "tmpfs", "ramfuse" };

static int do_chown_same(const char *root, void *arg)
{
	return res(chown(P(root, arg), (uid_t)-1, (gid_t)-1));
}

static int do_append(const char *root, void *arg)
{
	int fd = open(P(root, arg), O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	int r = res(write(fd, "x", 1));
	close(fd);
	return r;
}

/* Finding 1: root makes f owned by 1001 with set-id bits; 1002 runs
 * chown(f, -1, -1): EPERM, bits kept.  The owner may; a writer's write
 * drops them (the kernel's kill-priv). */
TEST_F(sec, chown_noop_keeps_others_setid_bits)
{
	static const mode_t modes[] = { 04755, 02755, 06775 };

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (int k = 0; k < 2; k++) {
			const char *f = P(self->roots[k], "f");
			struct stat st;

			unlink(f);
			ASSERT_EQ(0, mknod(f, S_IFREG | 0644, 0));
			ASSERT_EQ(0, chown(f, 1001, 1001));
			ASSERT_EQ(0, chmod(f, modes[m]));
			EXPECT_EQ(-EPERM, as(1002, 1002, 0, do_chown_same, self->roots[k], "f"))
				TH_LOG("%s: mode %o", fsname[k], modes[m]);
			ASSERT_EQ(0, stat(f, &st));
			EXPECT_EQ(modes[m], st.st_mode & 07777) TH_LOG("%s", fsname[k]);
			/* the owner drops them */
			EXPECT_EQ(0, as(1001, 1001, 0, do_chown_same, self->roots[k], "f"));
			ASSERT_EQ(0, stat(f, &st));
			EXPECT_EQ(0, st.st_mode & 04000) TH_LOG("%s", fsname[k]);
			/* a writer's write drops them too */
			ASSERT_EQ(0, chmod(f, modes[m] | 0666));
			EXPECT_EQ(0, as(1002, 1002, 0, do_append, self->roots[k], "f"));
			ASSERT_EQ(0, stat(f, &st));
			EXPECT_EQ(0, st.st_mode & 04000) TH_LOG("%s: mode %o", fsname[k], st.st_mode);
		}
	}
}

static int do_trunc_open(const char *root, void *arg)
{
	int fd = open(P(root, arg), O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The mode the kernel holds, as exec would find it: access(X_OK) first
 * takes in what the kernel knows to be stale, DONT_SYNC then asks nobody. */
static mode_t mode_for_exec(const char *path)
{
	struct { /* statx's buffer, to stx_mode, then room for the rest */
		uint32_t mask, blksize;
		uint64_t attributes;
		uint32_t nlink, uid, gid;
		uint16_t mode;
		char rest[226];
	} sx;

	if (access(path, X_OK) ||
	    syscall(SYS_statx, AT_FDCWD, path, 0x4000 /* AT_STATX_DONT_SYNC */,
		    0x2 /* STATX_MODE */, &sx))
		return (mode_t)-1;
	return sx.mode & 07777;
}

/* Finding 3: an O_TRUNC open by one without CAP_FSETID drops the set-id
 * bits (the daemon does it for FUSE: FUSE_OPEN_KILL_SUIDGID), and exec
 * must see that at once: the kernel takes only size and times anew after
 * the open, so a cached mode kept them, for as long as attributes are
 * cached. */
TEST_F(sec, truncating_open_drops_setid_for_exec)
{
	for (int k = 0; k < 2; k++) {
		const char *f = P(self->roots[k], "f");
		struct stat st;

		unlink(f);
		int fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, write(fd, "x", 1)); /* a program */
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, chmod(f, 06777));
		ASSERT_EQ(0, stat(f, &st)); /* cached now */
		ASSERT_EQ(06777, st.st_mode & 07777);
		EXPECT_EQ(0, as(1002, 1002, 0, do_trunc_open, self->roots[k], "f"))
			TH_LOG("%s", fsname[k]);
		EXPECT_EQ(0777, mode_for_exec(f)) TH_LOG("%s", fsname[k]);
		ASSERT_EQ(0, stat(f, &st));
		EXPECT_EQ(0777, st.st_mode & 07777) TH_LOG("%s", fsname[k]);
	}
}

static int reopen_read(int opath, char *buf, size_t len)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", opath);
	int fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, len, 0);
	int e = errno;
	close(fd);
	return n < 0 ? -e : (int)n;
}

/* Finding 2: an O_PATH descriptor holds the inode, data and all. */
TEST_F(sec, opath_keeps_unlinked_data)
{
	for (int k = 0; k < 2; k++) {
		const char *f = P(self->roots[k], "held");
		char buf[64] = "";
		int fd = open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

		ASSERT_LE(0, fd);
		ASSERT_EQ(11, write(fd, "hello world", 11));
		ASSERT_EQ(0, close(fd));
		int opath = open(f, O_PATH | O_CLOEXEC);
		ASSERT_LE(0, opath);
		ASSERT_EQ(0, unlink(f));
		sleep_ms(50); /* a FORGET would have come by now */
		EXPECT_EQ(11, reopen_read(opath, buf, sizeof(buf))) TH_LOG("%s", fsname[k]);
		EXPECT_STREQ("hello world", buf) TH_LOG("%s", fsname[k]);
		close(opath);
	}
}

/* O_TMPFILE, O_PATH, close, then linkat(AT_EMPTY_PATH): the data is there
 * under the new name. */
TEST_F(sec, tmpfile_linked_from_opath_keeps_data)
{
	for (int k = 0; k < 2; k++) {
		char buf[64] = "", proc[64];
		int fd = open(self->roots[k], O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);

		ASSERT_LE(0, fd) TH_LOG("%s: %s", fsname[k], strerror(errno));
		ASSERT_EQ(4, write(fd, "data", 4));
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		int opath = open(proc, O_PATH | O_CLOEXEC);
		ASSERT_LE(0, opath);
		ASSERT_EQ(0, close(fd));
		sleep_ms(50);
		ASSERT_EQ(0, linkat(opath, "", AT_FDCWD, P(self->roots[k], "linked"), AT_EMPTY_PATH))
			TH_LOG("%s: %s", fsname[k], strerror(errno));
		close(opath);
		fd = open(P(self->roots[k], "linked"), O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		EXPECT_EQ(4, read(fd, buf, sizeof(buf))) TH_LOG("%s", fsname[k]);
		EXPECT_STREQ("data", buf) TH_LOG("%s", fsname[k]);
		close(fd);
	}
}

/* Counts what fits after a relinked O_TMPFILE, and the inodes statfs shows. */
static int fill_inodes(const char *root, unsigned long *ffree)
{
	char proc[64];
	int made = 0;
	int fd = open(root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1000;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int opath = open(proc, O_PATH | O_CLOEXEC);
	close(fd);
	sleep_ms(50);
	if (linkat(opath, "", AT_FDCWD, P(root, "relinked"), AT_EMPTY_PATH))
		return -2000;
	close(opath);
	for (; made < 100; made++) {
		char name[32];

		snprintf(name, sizeof(name), "i%d", made);
		if (mknod(P(root, name), S_IFREG | 0644, 0))
			break;
	}
	struct statvfs sv;
	statvfs(root, &sv);
	*ffree = sv.f_ffree;
	return made;
}

TEST(relinked_tmpfile_counts_in_nr_inodes)
{
	char tmp[64];
	struct ramfuse rf;
	unsigned long ffree[2];
	int made[2];

	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), "nr_inodes=6"));
	made[0] = fill_inodes(tmp, &ffree[0]);
	tmpfs_umount(tmp);
	ASSERT_EQ(0, mount_ramfuse(&rf, "nr_inodes=6")) TH_LOG("%s", rf.err);
	made[1] = fill_inodes(rf.mnt, &ffree[1]);
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	EXPECT_EQ(made[0], made[1]);
	EXPECT_EQ(ffree[0], ffree[1]);
	EXPECT_EQ(4, made[1]); /* the root, the relinked file, four more */
}

/* Finding 3: xattrs take inode space, as on tmpfs. */
static void xattr_budget(const char *root, int *first, int *fit, unsigned long *ffree,
			 int *files_after)
{
	static char value[65536];
	struct statvfs sv;
	int fd = open(P(root, "f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	close(fd);
	memset(value, 'v', sizeof(value));
	*first = res(setxattr(P(root, "f"), "user.big", value, sizeof(value), 0));
	for (*fit = 0; *fit < 1000; (*fit)++) {
		char name[32];

		snprintf(name, sizeof(name), "user.k%d", *fit);
		if (setxattr(P(root, "f"), name, value, 1000, 0))
			break;
	}
	statvfs(root, &sv);
	*ffree = sv.f_ffree;
	/* a full inode space makes no more files either */
	*files_after = res(mknod(P(root, "g"), S_IFREG | 0644, 0));
}

TEST(xattrs_charged_to_inode_space)
{
	char tmp[64];
	struct ramfuse rf;
	int first[2], fit[2], files[2];
	unsigned long ffree[2];

	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), "size=1m,nr_inodes=10"));
	if (setxattr(tmp, "user.probe", "x", 1, 0) && errno == EOPNOTSUPP) {
		tmpfs_umount(tmp);
		SKIP(return, "tmpfs has no user xattrs before Linux 6.6: no oracle");
	}
	removexattr(tmp, "user.probe");
	xattr_budget(tmp, &first[0], &fit[0], &ffree[0], &files[0]);
	tmpfs_umount(tmp);
	ASSERT_EQ(0, mount_ramfuse(&rf, "size=1m,nr_inodes=10")) TH_LOG("%s", rf.err);
	xattr_budget(rf.mnt, &first[1], &fit[1], &ffree[1], &files[1]);
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	EXPECT_EQ(-ENOSPC, first[1]);
	EXPECT_EQ(first[0], first[1]);
	EXPECT_EQ(fit[0], fit[1]);
	EXPECT_LT(fit[1], 10);
	EXPECT_EQ(ffree[0], ffree[1]);
	EXPECT_EQ(files[0], files[1]);
}

/* Finding 4: the same answers whether the kernel or ramfuse checks. */
struct xa {
	const char *path, *name;
	int write;
};

static int do_xattr(const char *root, void *arg)
{
	struct xa *x = arg;
	char buf[64];

	if (x->write)
		return res(setxattr(P(root, x->path), x->name, "v", 1, 0));
	return res(getxattr(P(root, x->path), x->name, buf, sizeof(buf)));
}

static int do_read(const char *root, void *arg)
{
	int fd = open(P(root, arg), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int do_link(const char *root, void *arg)
{
	(void)arg;
	return res(link(P(root, "secret"), P(root, "pub/hl")));
}

static int do_chmod(const char *root, void *arg)
{
	return res(chmod(P(root, arg), 0777));
}

static int do_unlink(const char *root, void *arg)
{
	return res(unlink(P(root, arg)));
}

static bool protected_hardlinks(void)
{
	char c = '0';
	int fd = open("/proc/sys/fs/protected_hardlinks", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c == '1';
}

TEST_F(sec, permissions_as_the_kernel)
{
	static const struct {
		const char *what;
		uid_t uid;
		uint32_t drop;
		probe_fn *fn;
		struct xa xa;
		const char *arg;
		int want;
	} c[] = {
		{ "other reads user.* of a 0600 file", 1002, 0, do_xattr,
		  { "secret", "user.a", 0 }, NULL, -EACCES },
		{ "owner sets user.* on its 0444 file", 1001, 0, do_xattr,
		  { "ro", "user.b", 1 }, NULL, -EACCES },
		{ "other sets user.* on a sticky dir", 1002, 0, do_xattr,
		  { "sticky", "user.c", 1 }, NULL, -EPERM },
		{ "root without caps reads a 0600 file", 0, ROOT_DROPPED, do_read,
		  { 0 }, "secret", -EACCES },
		{ "root without caps chmods another's file", 0, ROOT_DROPPED, do_chmod,
		  { 0 }, "secret", -EPERM },
		{ "root without caps removes from a 01777 dir", 0, ROOT_DROPPED, do_unlink,
		  { 0 }, "sticky/theirs", -EPERM },
		{ "root without caps reads user.* of a 0600 file", 0, ROOT_DROPPED, do_xattr,
		  { "secret", "user.a", 0 }, NULL, -EACCES },
		{ "root with its caps reads a 0600 file", 0, 0, do_read,
		  { 0 }, "secret", 0 },
		{ "other links a 0600 file (protected_hardlinks)", 1002, 0, do_link,
		  { 0 }, NULL, -EPERM },
	};

	/* tmpfs keeps user.* xattrs only since 6.6: no oracle for them before */
	bool user_xattrs = tmpfs_has_user_xattrs(self->roots[0]);

	if (!user_xattrs)
		TH_LOG("tmpfs has no user.* xattrs (Linux < 6.6): their cases are left out");
	for (int k = 0; k < 2; k++) {
		const char *r = self->roots[k];
		int fd = open(P(r, "secret"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		ASSERT_LE(0, fd);
		close(fd);
		if (user_xattrs) {
			ASSERT_EQ(0, setxattr(P(r, "secret"), "user.a", "x", 1, 0))
				TH_LOG("%s", fsname[k]);
		}
		ASSERT_EQ(0, chown(P(r, "secret"), 1001, 1001));
		fd = open(P(r, "ro"), O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
		ASSERT_LE(0, fd);
		close(fd);
		ASSERT_EQ(0, chown(P(r, "ro"), 1001, 1001));
		ASSERT_EQ(0, mkdir(P(r, "sticky"), 0755));
		ASSERT_EQ(0, chown(P(r, "sticky"), 1001, 1001));
		ASSERT_EQ(0, chmod(P(r, "sticky"), 01777));
		fd = open(P(r, "sticky/theirs"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		close(fd);
		ASSERT_EQ(0, chown(P(r, "sticky/theirs"), 1001, 1001));
		ASSERT_EQ(0, mkdir(P(r, "pub"), 0755));
		ASSERT_EQ(0, chmod(P(r, "pub"), 0777));
	}
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int got[2];

		if (c[i].fn == do_link && !protected_hardlinks())
			continue;
		if (c[i].fn == do_xattr && !strncmp(c[i].xa.name, "user.", 5) && !user_xattrs)
			continue;
		for (int k = 0; k < 2; k++)
			got[k] = as(c[i].uid, c[i].uid, c[i].drop, c[i].fn, self->roots[k],
				    c[i].fn == do_xattr ? (void *)&c[i].xa : (void *)c[i].arg);
		EXPECT_EQ(c[i].want, got[0]) TH_LOG("tmpfs: %s", c[i].what);
		EXPECT_EQ(got[0], got[1]) TH_LOG("ramfuse: %s: %d, tmpfs %d", c[i].what,
						  got[1], got[0]);
	}
}

TEST_HARNESS_MAIN
