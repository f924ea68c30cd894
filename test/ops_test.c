// SPDX-License-Identifier: MIT
/*
 * Every basic operation through the kernel, proven by the daemon's
 * per-opcode counters, the POSIX error cases (checked against a tmpfs
 * first), directory listing and statfs.
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <time.h>

#define FUSE_DO_READDIRPLUS (1ULL << 13)

/* no attribute/entry caching and no passthrough: every call reaches us */
RAMFUSE_FIXTURE(ops, "entry_timeout=0,attr_timeout=0,passthrough=off")

/* refresh the stats and read one counter */
static long long counter(struct __test_metadata *_metadata, struct ramfuse *rf,
			 const char *name)
{
	long long v;

	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	v = stats_get(rf, name);
	ASSERT_LE(0, v) TH_LOG("no %s in the stats", name);
	return v;
}

#define BEFORE(name) (before = counter(_metadata, rf, name))
#define SEEN(name)							\
	EXPECT_LE(before + 1, stats_wait_ge(rf, name, before + 1, 3000)) \
		TH_LOG("%s did not reach the daemon", name)

static char *path(char *buf, size_t len, const char *root, const char *name)
{
	snprintf(buf, len, "%s/%s", root, name);
	return buf;
}

TEST_F(ops, op_counters)
{
	struct ramfuse *rf = &self->rf;
	char p[256], q[256], buf[4096], back[4096];
	long long before;
	struct statvfs sv;
	struct stat st;
	struct dirent *de;
	bool plus;
	DIR *d;
	int fd;

	umask(022);
	plus = stats_get_u64(rf, "flags", NULL) & FUSE_DO_READDIRPLUS;

	/* reply.enoent counts replies the kernel refused (the request was
	 * interrupted meanwhile), not ENOENT answers: nothing to see here */
	BEFORE("op.LOOKUP");
	ASSERT_EQ(-1, stat(path(p, sizeof(p), rf->mnt, "nope"), &st));
	ASSERT_EQ(ENOENT, errno);
	SEEN("op.LOOKUP");

	BEFORE("op.MKDIR");
	ASSERT_EQ(0, mkdir(path(p, sizeof(p), rf->mnt, "dir"), 0755));
	SEEN("op.MKDIR");

	BEFORE("op.CREATE");
	fd = open(path(p, sizeof(p), rf->mnt, "dir/file"),
		  O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	SEEN("op.CREATE");

	pattern_fill((unsigned char *)buf, sizeof(buf), 0, 7);
	BEFORE("op.WRITE");
	ASSERT_EQ((ssize_t)sizeof(buf), pwrite(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fsync(fd));
	SEEN("op.WRITE");
	EXPECT_LE(1, stats_get(rf, "op.FSYNC"));

	BEFORE("op.FSYNC");
	ASSERT_EQ(0, fsync(fd));
	SEEN("op.FSYNC");

	BEFORE("op.GETATTR");
	ASSERT_EQ(0, fstat(fd, &st));
	SEEN("op.GETATTR");
	EXPECT_EQ((off_t)sizeof(buf), st.st_size);

	BEFORE("op.SETATTR");
	ASSERT_EQ(0, fchmod(fd, 0600));
	SEEN("op.SETATTR");

	BEFORE("op.RELEASE");
	{
		long long flush = counter(_metadata, rf, "op.FLUSH");

		ASSERT_EQ(0, close(fd));
		EXPECT_LE(flush + 1, stats_wait_ge(rf, "op.FLUSH", flush + 1, 3000));
	}
	SEEN("op.RELEASE");

	/* FLUSH was answered ENOSYS: the kernel sends no more, close works */
	BEFORE("op.RELEASE");
	{
		long long flush = counter(_metadata, rf, "op.FLUSH");

		fd = open(p, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, close(fd));
		SEEN("op.RELEASE");
		EXPECT_EQ(flush, counter(_metadata, rf, "op.FLUSH"));
	}

	BEFORE("op.OPEN");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	SEEN("op.OPEN");

	BEFORE("op.READ");
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	ASSERT_EQ((ssize_t)sizeof(back), pread(fd, back, sizeof(back), 0));
	SEEN("op.READ");
	EXPECT_EQ(0, memcmp(buf, back, sizeof(buf)));
	ASSERT_EQ(0, close(fd));

	BEFORE("op.OPENDIR");
	{
		long long rd = counter(_metadata, rf, plus ? "op.READDIRPLUS" : "op.READDIR");
		long long rel = counter(_metadata, rf, "op.RELEASEDIR");
		int n = 0;

		d = opendir(path(q, sizeof(q), rf->mnt, "dir"));
		ASSERT_NE(NULL, d);
		while ((de = readdir(d)))
			n++;
		closedir(d);
		EXPECT_EQ(3, n);
		SEEN("op.OPENDIR");
		EXPECT_LE(rd + 1, stats_wait_ge(rf, plus ? "op.READDIRPLUS" : "op.READDIR",
						rd + 1, 3000))
			TH_LOG("%s not seen", plus ? "READDIRPLUS" : "READDIR");
		EXPECT_LE(rel + 1, stats_wait_ge(rf, "op.RELEASEDIR", rel + 1, 3000));
	}

	BEFORE("op.STATFS");
	ASSERT_EQ(0, statvfs(rf->mnt, &sv));
	SEEN("op.STATFS");
	EXPECT_EQ(255, sv.f_namemax);

	BEFORE("op.UNLINK");
	ASSERT_EQ(0, unlink(p));
	SEEN("op.UNLINK");

	BEFORE("op.RMDIR");
	ASSERT_EQ(0, rmdir(q));
	SEEN("op.RMDIR");
}

/* ------------------------------------------------------------------ */
/* one script of operations and POSIX errors, run on tmpfs and ramfuse */

#define XOK(call)							\
	do {								\
		long _r;						\
		errno = 0;						\
		_r = (long)(call);					\
		EXPECT_LE(0, _r) TH_LOG("%s: %s: %s", label, #call,	\
					strerror(errno));		\
	} while (0)

#define XERR(call, err)							\
	do {								\
		long _r;						\
		int _e;							\
		errno = 0;						\
		_r = (long)(call);					\
		_e = errno;						\
		EXPECT_EQ(-1, _r) TH_LOG("%s: %s succeeded", label, #call); \
		EXPECT_EQ(err, _e) TH_LOG("%s: %s: expected %s, got %s", \
			label, #call, strerror(err), strerror(_e));	\
	} while (0)

static void fs_script(struct __test_metadata *_metadata, const char *root,
		      const char *label)
{
	char d[256], f[256], fx[256], miss[256], n255[512], n256[512], tmp[512];
	struct timespec ts[2];
	struct stat st, st2;
	nlink_t root_links;
	char buf[16];
	int fd;

	umask(022);
	path(d, sizeof(d), root, "d");
	path(f, sizeof(f), root, "d/f");
	path(fx, sizeof(fx), root, "d/f/x");
	path(miss, sizeof(miss), root, "missing");
	memset(tmp, 'n', 255);
	tmp[255] = 0;
	path(n255, sizeof(n255), root, tmp);
	memset(tmp, 'm', 256);
	tmp[256] = 0;
	path(n256, sizeof(n256), root, tmp);

	ASSERT_EQ(0, stat(root, &st));
	root_links = st.st_nlink;

	/* MKDIR */
	XOK(mkdir(d, 0755));
	XERR(mkdir(d, 0755), EEXIST);
	ASSERT_EQ(0, stat(d, &st)) TH_LOG("%s", label);
	EXPECT_TRUE(S_ISDIR(st.st_mode)) TH_LOG("%s", label);
	EXPECT_EQ(0755, st.st_mode & 07777) TH_LOG("%s", label);
	EXPECT_EQ(2, st.st_nlink) TH_LOG("%s", label);
	EXPECT_EQ(0, st.st_uid) TH_LOG("%s", label);
	ASSERT_EQ(0, stat(root, &st));
	EXPECT_EQ(root_links + 1, st.st_nlink) TH_LOG("%s: parent nlink", label);

	/* CREATE, WRITE */
	fd = open(f, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	ASSERT_LE(0, fd) TH_LOG("%s: create: %s", label, strerror(errno));
	XERR(open(f, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640), EEXIST);
	EXPECT_EQ(6, write(fd, "abcdef", 6));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", label);
	EXPECT_EQ(0640, st.st_mode & 07777) TH_LOG("%s", label);
	EXPECT_EQ(6, st.st_size) TH_LOG("%s", label);
	EXPECT_EQ(1, st.st_nlink) TH_LOG("%s", label);
	EXPECT_EQ(0, close(fd));
	/* O_CREAT without O_EXCL on an existing file opens it, no truncation */
	fd = open(f, O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(6, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, close(fd));

	/* errors */
	XERR(rmdir(d), ENOTEMPTY);
	XERR(open(fx, O_RDONLY), ENOTDIR);
	XERR(mkdir(fx, 0755), ENOTDIR);
	XERR(open(fx, O_CREAT | O_WRONLY, 0644), ENOTDIR);
	XERR(stat(fx, &st), ENOTDIR);
	XERR(open(f, O_RDONLY | O_DIRECTORY), ENOTDIR);
	XERR(rmdir(f), ENOTDIR);
	XERR(open(d, O_WRONLY), EISDIR);
	XERR(open(d, O_RDWR), EISDIR);
	XERR(unlink(d), EISDIR);
	XERR(stat(miss, &st), ENOENT);
	XERR(lstat(miss, &st), ENOENT);
	XERR(unlink(miss), ENOENT);
	XERR(rmdir(miss), ENOENT);
	XERR(open(miss, O_RDONLY), ENOENT);
	XERR(truncate(miss, 0), ENOENT);
	XERR(chmod(miss, 0644), ENOENT);
	path(tmp, sizeof(tmp), miss, "x");
	XERR(open(tmp, O_CREAT | O_WRONLY, 0644), ENOENT);
	XERR(mkdir(tmp, 0755), ENOENT);
	XOK(fd = open(n255, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	if (fd >= 0)
		close(fd);
	XOK(stat(n255, &st));
	XOK(unlink(n255));
	XERR(stat(n256, &st), ENAMETOOLONG);
	XERR(mkdir(n256, 0755), ENAMETOOLONG);
	XERR(open(n256, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	XERR(unlink(n256), ENAMETOOLONG);
	path(tmp, sizeof(tmp), d, "sub");
	XERR(rename(d, tmp), EINVAL);
	path(tmp, sizeof(tmp), d, ".");
	XERR(rmdir(tmp), EINVAL);
	XERR(truncate(f, -1), EINVAL);
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = 1000000000;
	ts[1] = ts[0];
	XERR(utimensat(AT_FDCWD, f, ts, 0), EINVAL);

	/* SETATTR: chmod, chown */
	ASSERT_EQ(0, stat(f, &st2));
	XOK(chmod(f, 0604));
	ASSERT_EQ(0, stat(f, &st));
	EXPECT_EQ(0604, st.st_mode & 07777) TH_LOG("%s", label);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_TRUE(st.st_ctim.tv_sec > st2.st_ctim.tv_sec ||
		    (st.st_ctim.tv_sec == st2.st_ctim.tv_sec &&
		     st.st_ctim.tv_nsec >= st2.st_ctim.tv_nsec)) TH_LOG("%s: ctime", label);
	XOK(chown(f, 123, 456));
	ASSERT_EQ(0, stat(f, &st));
	EXPECT_EQ(123, st.st_uid) TH_LOG("%s", label);
	EXPECT_EQ(456, st.st_gid) TH_LOG("%s", label);
	XOK(chown(f, (uid_t)-1, 789));
	ASSERT_EQ(0, stat(f, &st));
	EXPECT_EQ(123, st.st_uid) TH_LOG("%s", label);
	EXPECT_EQ(789, st.st_gid) TH_LOG("%s", label);
	XOK(chown(f, 0, 0));

	/* SETATTR: truncate down and up: no old data reappears */
	XOK(truncate(f, 3));
	ASSERT_EQ(0, stat(f, &st));
	EXPECT_EQ(3, st.st_size) TH_LOG("%s", label);
	XOK(truncate(f, 10));
	fd = open(f, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(10, read(fd, buf, sizeof(buf))) TH_LOG("%s", label);
	EXPECT_EQ(0, memcmp(buf, "abc\0\0\0\0\0\0\0", 10)) TH_LOG("%s: %.10s", label, buf);
	close(fd);

	/* SETATTR: utimensat with nanoseconds, UTIME_OMIT, UTIME_NOW */
	ts[0].tv_sec = 1000000000;
	ts[0].tv_nsec = 123456789;
	ts[1].tv_sec = 1500000000;
	ts[1].tv_nsec = 987654321;
	XOK(utimensat(AT_FDCWD, f, ts, 0));
	ASSERT_EQ(0, stat(f, &st));
	EXPECT_EQ(1000000000, st.st_atim.tv_sec) TH_LOG("%s", label);
	EXPECT_EQ(123456789, st.st_atim.tv_nsec) TH_LOG("%s", label);
	EXPECT_EQ(1500000000, st.st_mtim.tv_sec) TH_LOG("%s", label);
	EXPECT_EQ(987654321, st.st_mtim.tv_nsec) TH_LOG("%s", label);
	{
		struct timespec t0, t1;

		ts[0].tv_nsec = UTIME_OMIT;
		ts[1].tv_nsec = UTIME_NOW;
		clock_gettime(CLOCK_REALTIME, &t0);
		XOK(utimensat(AT_FDCWD, f, ts, 0));
		clock_gettime(CLOCK_REALTIME, &t1);
		ASSERT_EQ(0, stat(f, &st));
		EXPECT_EQ(1000000000, st.st_atim.tv_sec) TH_LOG("%s: atime omitted", label);
		EXPECT_EQ(123456789, st.st_atim.tv_nsec) TH_LOG("%s", label);
		EXPECT_LE(t0.tv_sec - 1, st.st_mtim.tv_sec) TH_LOG("%s: mtime now", label);
		EXPECT_GE(t1.tv_sec + 1, st.st_mtim.tv_sec) TH_LOG("%s: mtime now", label);

		ts[0].tv_nsec = UTIME_NOW;
		ts[1].tv_nsec = UTIME_OMIT;
		st2 = st;
		XOK(utimensat(AT_FDCWD, f, ts, 0));
		ASSERT_EQ(0, stat(f, &st));
		EXPECT_LE(t0.tv_sec - 1, st.st_atim.tv_sec) TH_LOG("%s: atime now", label);
		EXPECT_EQ(st2.st_mtim.tv_sec, st.st_mtim.tv_sec) TH_LOG("%s", label);
		EXPECT_EQ(st2.st_mtim.tv_nsec, st.st_mtim.tv_nsec) TH_LOG("%s", label);
	}

	/* UNLINK, RMDIR */
	XOK(unlink(f));
	XERR(stat(f, &st), ENOENT);
	XOK(rmdir(d));
	XERR(stat(d, &st), ENOENT);
	ASSERT_EQ(0, stat(root, &st));
	EXPECT_EQ(root_links, st.st_nlink) TH_LOG("%s: parent nlink", label);
}

FIXTURE(cmp) {
	struct ramfuse rf;
	char tmpfs[64];
};

FIXTURE_SETUP(cmp)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(cmp)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	if (self->tmpfs[0]) {
		tmpfs_umount(self->tmpfs);
		self->tmpfs[0] = 0;
	}
}

TEST_F(cmp, script_tmpfs_then_ramfuse)
{
	ASSERT_EQ(0, tmpfs_mount(self->tmpfs, sizeof(self->tmpfs), "size=16m"))
		TH_LOG("tmpfs: %s", strerror(errno));
	/* a failure here names "tmpfs": the script is wrong, not ramfuse */
	fs_script(_metadata, self->tmpfs, "tmpfs");
	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	fs_script(_metadata, self->rf.mnt, "ramfuse");
}

TEST_F(cmp, script_ramfuse_uncached)
{
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "entry_timeout=0,attr_timeout=0,threads=1"))
		TH_LOG("%s", self->rf.err);
	fs_script(_metadata, self->rf.mnt, "ramfuse uncached");
}

/* A name and its attributes are used for a day by default (entry_timeout=,
 * attr_timeout=): only the kernel's requests change them, and it drops
 * what it cached after each.  A stat 1.2 s later asks nothing; with both at
 * 1 s it asks again. */
static void names_cached(struct __test_metadata *_metadata, struct ramfuse *rf,
			 bool want_asked)
{
	static const char *const asking[] = { "op.LOOKUP", "op.GETATTR", NULL };
	const char *label = "cached names";
	char p[300];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/present", rf->mnt);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	XOK(stat(p, &st));
	ASSERT_EQ(0, stats_refresh(rf));
	long long first = stats_sum(rf, asking);
	usleep(1200000);
	XOK(stat(p, &st));
	XOK(stat(p, &st));
	ASSERT_EQ(0, stats_refresh(rf));
	long long asked = stats_sum(rf, asking) - first;
	if (want_asked) {
		EXPECT_LE(1, asked) TH_LOG("LOOKUP/GETATTR for two stats after 1.2 s");
	} else {
		EXPECT_EQ(0, asked) TH_LOG("LOOKUP/GETATTR for two stats after 1.2 s");
	}
}

TEST_F(cmp, names_and_attrs_cached)
{
	caches_keep(); /* a drop_caches beside us would forget them */
	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	names_cached(_metadata, &self->rf, false);
}

TEST_F(cmp, names_and_attrs_timeout_one_second)
{
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "entry_timeout=1,attr_timeout=1"))
		TH_LOG("%s", self->rf.err);
	names_cached(_metadata, &self->rf, true);
}

/* A LOOKUP miss is remembered by the kernel (negative_timeout=, a day by
 * default, as names): later stats of a missing name do not ask the daemon;
 * creating the name through the kernel replaces the negative entry.  With
 * negative_timeout=0 every miss asks. */
static void lookup_misses(struct __test_metadata *_metadata, struct ramfuse *rf,
			  long long want_asked)
{
	const char *label = "negative entries";
	char p[300];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/missing", rf->mnt);
	XERR(stat(p, &st), ENOENT);
	ASSERT_EQ(0, stats_refresh(rf));
	long long first = stats_get(rf, "op.LOOKUP");
	usleep(1200000); /* past the one second a FUSE server often gives */
	XERR(stat(p, &st), ENOENT);
	XERR(stat(p, &st), ENOENT);
	ASSERT_EQ(0, stats_refresh(rf));
	EXPECT_EQ(first + want_asked, stats_get(rf, "op.LOOKUP"))
		TH_LOG("LOOKUPs for two more stats of a missing name");
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("create over the negative entry: %s", strerror(errno));
	close(fd);
	XOK(stat(p, &st));
	XOK(unlink(p));
	XERR(stat(p, &st), ENOENT);
}

TEST_F(cmp, negative_entries_cached)
{
	caches_keep(); /* a drop_caches beside us would forget the misses */
	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	lookup_misses(_metadata, &self->rf, 0);
}

TEST_F(cmp, negative_timeout_zero)
{
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "negative_timeout=0")) TH_LOG("%s", self->rf.err);
	lookup_misses(_metadata, &self->rf, 2);
}

/* rename, link, symlink: not in the first brief, but ops the daemon counts */
static void links_script(struct __test_metadata *_metadata, const char *root,
			 const char *label)
{
	char a[256], b[256], c[256], l[256], dd[256], de2[256], target[64];
	struct stat st;
	ssize_t n;
	int fd;

	path(a, sizeof(a), root, "a");
	path(b, sizeof(b), root, "b");
	path(c, sizeof(c), root, "c");
	path(l, sizeof(l), root, "l");
	path(dd, sizeof(dd), root, "dd");
	path(de2, sizeof(de2), root, "dd2");
	fd = open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "A", 1));
	close(fd);
	XOK(link(a, b));
	ASSERT_EQ(0, stat(a, &st));
	EXPECT_EQ(2, st.st_nlink) TH_LOG("%s", label);
	XERR(link(a, b), EEXIST);
	XOK(symlink("a", l));
	ASSERT_EQ(0, lstat(l, &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode)) TH_LOG("%s", label);
	EXPECT_EQ(1, st.st_size) TH_LOG("%s", label);
	n = readlink(l, target, sizeof(target));
	EXPECT_EQ(1, n) TH_LOG("%s", label);
	EXPECT_EQ('a', target[0]);
	ASSERT_EQ(0, stat(l, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", label);
	XOK(rename(b, c));
	XERR(stat(b, &st), ENOENT);
	ASSERT_EQ(0, stat(c, &st));
	EXPECT_EQ(2, st.st_nlink) TH_LOG("%s", label);
	XOK(mkdir(dd, 0755));
	XOK(mkdir(de2, 0755));
	XOK(rename(c, a));	/* same inode: a no-op */
	path(target, sizeof(target), "", "");
	{
		char inner[300];

		path(inner, sizeof(inner), dd, "x");
		fd = open(inner, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		close(fd);
		XERR(rename(de2, dd), ENOTEMPTY);
		XERR(rename(a, dd), EISDIR);
		XERR(rename(dd, a), ENOTDIR);
		XOK(unlink(inner));
	}
	XOK(rename(de2, dd));	/* empty dir over empty dir */
	XERR(stat(de2, &st), ENOENT);
	XOK(unlink(a));
	XOK(unlink(c));
	XOK(unlink(l));
	XOK(rmdir(dd));
}

TEST_F(cmp, links_and_renames)
{
	ASSERT_EQ(0, tmpfs_mount(self->tmpfs, sizeof(self->tmpfs), "size=16m"));
	links_script(_metadata, self->tmpfs, "tmpfs"); /* failures name "tmpfs" */
	ASSERT_EQ(0, mount_ramfuse(&self->rf, NULL)) TH_LOG("%s", self->rf.err);
	links_script(_metadata, self->rf.mnt, "ramfuse");
}

/* ------------------------------------------------------------------ */

#define NENT 1000

static char ent_type(int i)
{
	return i % 3 == 0 ? DT_DIR : DT_REG;
}

TEST_F(ops, readdir_many)
{
	struct ramfuse *rf = &self->rf;
	static unsigned char seen[NENT];
	char dir[256], p[300];
	long long before;
	struct dirent *de;
	int dots = 0, n = 0, mid = NENT / 2;
	long pos_mid = -1;
	char after_mid[256] = "";
	bool plus;
	DIR *d;

	plus = stats_get_u64(rf, "flags", NULL) & FUSE_DO_READDIRPLUS;
	path(dir, sizeof(dir), rf->mnt, "many");
	ASSERT_EQ(0, mkdir(dir, 0755));
	for (int i = 0; i < NENT; i++) {
		snprintf(p, sizeof(p), "%s/entry-%04d", dir, i);
		if (ent_type(i) == DT_DIR) {
			ASSERT_EQ(0, mkdir(p, 0755));
		} else {
			int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

			ASSERT_LE(0, fd) TH_LOG("%s: %s", p, strerror(errno));
			close(fd);
		}
	}

	BEFORE(plus ? "op.READDIRPLUS" : "op.READDIR");
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	memset(seen, 0, sizeof(seen));
	while ((errno = 0, de = readdir(d))) {
		int i;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			dots++;
			EXPECT_EQ(DT_DIR, de->d_type);
			continue;
		}
		ASSERT_EQ(1, sscanf(de->d_name, "entry-%d", &i)) TH_LOG("name %s", de->d_name);
		ASSERT_TRUE(i >= 0 && i < NENT);
		EXPECT_EQ(0, seen[i]) TH_LOG("%s listed twice", de->d_name);
		seen[i]++;
		EXPECT_EQ(ent_type(i), de->d_type) TH_LOG("%s", de->d_name);
		if (++n == mid) {
			pos_mid = telldir(d);
		} else if (n == mid + 1) {
			snprintf(after_mid, sizeof(after_mid), "%s", de->d_name);
		}
	}
	EXPECT_EQ(0, errno);
	EXPECT_EQ(2, dots);
	EXPECT_EQ(NENT, n);
	for (int i = 0; i < NENT; i++) {
		EXPECT_EQ(1, seen[i]) TH_LOG("entry-%04d missing", i);
	}
	SEEN(plus ? "op.READDIRPLUS" : "op.READDIR");

	/* seekdir back into the middle continues where we were */
	ASSERT_LE(0, pos_mid);
	seekdir(d, pos_mid);
	de = readdir(d);
	ASSERT_NE(NULL, de);
	EXPECT_STREQ(after_mid, de->d_name);

	/* a second pass lists the same */
	rewinddir(d);
	n = 0;
	while ((de = readdir(d)))
		n++;
	EXPECT_EQ(NENT + 2, n);
	closedir(d);

	for (int i = 0; i < NENT; i++) {
		snprintf(p, sizeof(p), "%s/entry-%04d", dir, i);
		ASSERT_EQ(0, ent_type(i) == DT_DIR ? rmdir(p) : unlink(p))
			TH_LOG("%s: %s", p, strerror(errno));
	}
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	n = 0;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	EXPECT_EQ(2, n);
	ASSERT_EQ(0, rmdir(dir));
}

/* ------------------------------------------------------------------ */
/* STATFS and the size/nr_inodes options                               */

static void statfs_of(struct __test_metadata *_metadata, FIXTURE_DATA(cmp) *self,
		      const char *opts, struct statvfs *sv)
{
	ASSERT_EQ(0, mount_ramfuse(&self->rf, opts)) TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, statvfs(self->rf.mnt, sv));
	EXPECT_EQ(255, sv->f_namemax);
	EXPECT_LT(0, sv->f_frsize);
}

static unsigned long long abs_diff(unsigned long long a, unsigned long long b)
{
	return a > b ? a - b : b - a;
}

TEST_F(cmp, statfs_size_inodes)
{
	struct statvfs sv, sv2;
	char p[256];
	unsigned long long total, want = 64ULL << 20;
	unsigned char *buf;
	int fd;

	statfs_of(_metadata, self, "size=64m,nr_inodes=1000", &sv);
	total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	EXPECT_GE(sv.f_frsize > 4096 ? sv.f_frsize : 4096, abs_diff(total, want))
		TH_LOG("f_blocks %llu * f_frsize %lu = %llu, want %llu",
		       (unsigned long long)sv.f_blocks, sv.f_frsize, total, want);
	EXPECT_EQ(1000, sv.f_files);
	EXPECT_LE(sv.f_bfree, sv.f_blocks);
	EXPECT_LE(sv.f_ffree, sv.f_files);

	/* creating a file and writing 1 MiB shows up in f_ffree and f_bfree */
	path(p, sizeof(p), self->rf.mnt, "f");
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	buf = calloc(1, 1 << 20);
	ASSERT_NE(NULL, buf);
	memset(buf, 0x5a, 1 << 20);
	ASSERT_EQ(1 << 20, pwrite_all(fd, buf, 1 << 20, 0));
	free(buf);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, statvfs(self->rf.mnt, &sv2));
	EXPECT_EQ(sv.f_ffree - 1, sv2.f_ffree);
	EXPECT_LE((unsigned long long)(sv2.f_bfree + (1 << 20) / sv.f_frsize), sv.f_bfree)
		TH_LOG("bfree %llu -> %llu", (unsigned long long)sv.f_bfree,
		       (unsigned long long)sv2.f_bfree);
	close(fd);
	ASSERT_EQ(0, unlink(p));
	/* the inode is freed on FORGET, which the kernel sends asynchronously */
	for (long long end = now_ms() + 3000; now_ms() < end; sleep_ms(10)) {
		ASSERT_EQ(0, statvfs(self->rf.mnt, &sv2));
		if (sv.f_ffree == sv2.f_ffree && sv.f_bfree == sv2.f_bfree)
			break;
	}
	EXPECT_EQ(sv.f_ffree, sv2.f_ffree);
	EXPECT_EQ(sv.f_bfree, sv2.f_bfree);
}

TEST_F(cmp, statfs_suffixes)
{
	struct statvfs sv;
	unsigned long long total;

	statfs_of(_metadata, self, "size=1g,nr_inodes=2k", &sv);
	total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	EXPECT_GE(sv.f_frsize > 4096 ? sv.f_frsize : 4096, abs_diff(total, 1ULL << 30))
		TH_LOG("size=1g gives %llu", total);
	EXPECT_EQ(2048, sv.f_files);
}

TEST_F(cmp, statfs_percent)
{
	struct statvfs sv;
	struct sysinfo si;
	unsigned long long total, ram;

	ASSERT_EQ(0, sysinfo(&si));
	ram = (unsigned long long)si.totalram * si.mem_unit;
	statfs_of(_metadata, self, "size=25%", &sv);
	total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	EXPECT_GE(ram / 100 + sv.f_frsize, abs_diff(total, ram / 4))
		TH_LOG("size=25%% gives %llu, RAM %llu", total, ram);
}

TEST_F(cmp, size_enforced)
{
	unsigned char *buf;
	char p[256];
	ssize_t n;
	int fd, e;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "size=1m,passthrough=off"))
		TH_LOG("%s", self->rf.err);
	path(p, sizeof(p), self->rf.mnt, "big");
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	buf = calloc(1, 2 << 20);
	ASSERT_NE(NULL, buf);
	n = pwrite_all(fd, buf, 2 << 20, 0);
	e = errno;
	if (n >= 0 && fsync(fd) < 0) {
		e = errno;
		n = -1;
	}
	free(buf);
	close(fd);
	EXPECT_GT(2 << 20, n) TH_LOG("wrote 2 MiB into size=1m");
	if (n < 0) {
		EXPECT_EQ(ENOSPC, e) TH_LOG("%s", strerror(e));
	}
	EXPECT_EQ(0, unlink(p));
}

TEST_F(cmp, nr_inodes_enforced)
{
	char p[256];
	int created = 0, e = 0;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "nr_inodes=10"))
		TH_LOG("%s", self->rf.err);
	for (int i = 0; i < 20; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/f%d", self->rf.mnt, i);
		fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0) {
			e = errno;
			break;
		}
		close(fd);
		created++;
	}
	/* the root counts as one inode, as on tmpfs */
	EXPECT_EQ(9, created);
	EXPECT_EQ(ENOSPC, e) TH_LOG("%s", strerror(e));
	for (int i = 0; i < created; i++) {
		snprintf(p, sizeof(p), "%s/f%d", self->rf.mnt, i);
		EXPECT_EQ(0, unlink(p));
	}
}

TEST_HARNESS_MAIN
