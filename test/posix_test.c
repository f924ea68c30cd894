// SPDX-License-Identifier: MIT
/*
 * ramfuse behaves like tmpfs: every test runs one scenario on a tmpfs and
 * on a ramfuse mounted side by side, and compares what a program sees.
 *
 * A scenario is a function of one mount.  It records every call it makes
 * as a line "call = result" (a number, or -ENAME for a failure) plus
 * observations (lstat fields tmpfs defines, sorted listings, contents,
 * "did this timestamp change") into a log.  The test passes when
 *   - the tmpfs log and the ramfuse log are the same, line by line, and
 *   - every WANT(expected, call) holds on both mounts (the specification,
 *     checked on the oracle too, so a wrong expectation shows as such).
 * Inode numbers and absolute times never enter the log.
 *
 * Each test runs with ramfuse under default_permissions (the kernel checks
 * permissions) and under nodefault_permissions (ramfuse checks them); both
 * are mounted allow_other so that other users can be tried (AS_USER runs a
 * block in a forked child with other credentials).
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <grp.h>

#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#define FALLOC_FL_ZERO_RANGE 0x10
#define FALLOC_FL_INSERT_RANGE 0x20
#define FALLOC_FL_UNSHARE_RANGE 0x40
#endif
#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS _IOR('f', 1, long)
#define FS_IOC_SETFLAGS _IOW('f', 2, long)
#define FS_APPEND_FL 0x00000020
#endif

#include <limits.h>

/* musl 1.2.3 has no statx(): the kernel's structure and the raw call */
struct statx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};

struct statx_buf {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, pad1;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[16];
};

#ifndef STATX_BASIC_STATS /* glibc's <sys/stat.h> has them, musl's not */
#define STATX_BASIC_STATS 0x7ffU
#define STATX_BTIME 0x800U
#endif
#define STATX__RESERVED 0x80000000U
#define AT_STATX_FORCE_SYNC 0x2000
#define AT_STATX_DONT_SYNC 0x4000

static int xstatx(int dirfd, const char *path, int flags, unsigned mask,
		  struct statx_buf *buf)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, buf);
}

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif

#define KiB 1024L
#define MiB (1024L * 1024)

/* ------------------------------------------------------------------ */
/* The observation log                                                 */

#define LOG_SIZE (1 << 20)
#define NPATHS 8
#define NSNAPS 8

struct obs {
	char root[RF_PATH];
	const char *fsname;		/* "tmpfs" or "ramfuse", for messages */
	int bad;			/* WANTs that did not hold */
	size_t len, badlen;
	int ring;
	char paths[NPATHS][8192];
	struct {
		char name[256];
		struct stat st;
	} snap[NSNAPS];
	char scratch[70000];		/* big values: long targets, xattrs */
	char log[LOG_SIZE];
	char badlog[16384];
};

static struct obs *obs_new(const char *root, const char *fsname)
{
	struct obs *o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (o == MAP_FAILED)
		return NULL;
	snprintf(o->root, sizeof(o->root), "%s", root);
	o->fsname = fsname;
	return o;
}

static void obs_free(struct obs *o)
{
	if (o)
		munmap(o, sizeof(*o));
}

static void __attribute__((format(printf, 2, 3)))
note(struct obs *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= LOG_SIZE - 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->log + o->len, LOG_SIZE - 1 - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n < LOG_SIZE - 1 - o->len ? (size_t)n : LOG_SIZE - 2 - o->len;
	o->log[o->len++] = '\n';
	o->log[o->len] = 0;
}

/* An absolute path in this mount: P(o, "dir/%s", name). */
static const char *__attribute__((format(printf, 2, 3)))
P(struct obs *o, const char *fmt, ...)
{
	char *buf = o->paths[o->ring++ % NPATHS];
	size_t n = strlen(o->root);
	va_list ap;

	memcpy(buf, o->root, n);
	buf[n++] = '/';

	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(o->paths[0]) - n, fmt, ap);
	va_end(ap);
	return buf;
}

static const char *ename(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
		{ ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
		{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
		{ EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
		{ EXDEV, "EXDEV" }, { ENODEV, "ENODEV" }, { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" }, { EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
		{ ENOTTY, "ENOTTY" }, { ETXTBSY, "ETXTBSY" }, { EFBIG, "EFBIG" },
		{ ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { EROFS, "EROFS" },
		{ EMLINK, "EMLINK" }, { ERANGE, "ERANGE" }, { ENAMETOOLONG, "ENAMETOOLONG" },
		{ ENOSYS, "ENOSYS" }, { ENOTEMPTY, "ENOTEMPTY" }, { ELOOP, "ELOOP" },
		{ ENODATA, "ENODATA" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ EOVERFLOW, "EOVERFLOW" }, { ESTALE, "ESTALE" }, { EDQUOT, "EDQUOT" },
		{ EWOULDBLOCK, "EWOULDBLOCK" },
	};
	static char buf[24];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static const char *result(char *buf, size_t len, long v)
{
	if (v < 0 && v > -4096)
		snprintf(buf, len, "-%s", ename((int)-v));
	else
		snprintf(buf, len, "%ld", v);
	return buf;
}

/* Record "what = ret" (ret -1 becomes -errno); returns ret or -errno. */
static long rec(struct obs *o, const char *what, long ret)
{
	char r[32];
	long v = ret == -1 ? -errno : ret;

	note(o, "%s = %s", what, result(r, sizeof(r), v));
	return v;
}

/* rec, and the specification: the call must give want (-errno on failure) */
static long want(struct obs *o, const char *what, long expect, long ret)
{
	long v = rec(o, what, ret);

	if (v != expect) {
		char a[32], b[32];
		int n = snprintf(o->badlog + o->badlen, sizeof(o->badlog) - o->badlen,
				 "%s: %s gave %s, want %s\n", o->fsname, what,
				 result(a, sizeof(a), v), result(b, sizeof(b), expect));

		if (n > 0 && o->badlen + (size_t)n < sizeof(o->badlog))
			o->badlen += (size_t)n;
		o->bad++;
	}
	return v;
}

/* in scenarios, "o" is the log */
#define DO(call) rec(o, #call, (long)(call))
#define WANT(expect, call) want(o, #call, (long)(expect), (long)(call))
#define EXPECT(what, cond) want(o, what, 1, (long)!!(cond))

static char ftype(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' :
	       S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' :
	       S_ISBLK(m) ? 'b' : '?';
}

static void stat_note(struct obs *o, const char *what, const struct stat *st)
{
	note(o, "%s: %c mode=%04o nlink=%lu size=%lld blocks=%lld uid=%u gid=%u blksize=%ld rdev=%u:%u",
	     what, ftype(st->st_mode), (unsigned)(st->st_mode & 07777),
	     (unsigned long)st->st_nlink, (long long)st->st_size,
	     (long long)st->st_blocks, (unsigned)st->st_uid, (unsigned)st->st_gid,
	     (long)st->st_blksize, major(st->st_rdev), minor(st->st_rdev));
}

/* lstat a path of this mount and record what tmpfs defines */
static void ST(struct obs *o, const char *rel)
{
	char what[300];
	struct stat st;

	snprintf(what, sizeof(what), "lstat %s", rel);
	if (lstat(P(o, "%s", rel), &st))
		rec(o, what, -1);
	else
		stat_note(o, what, &st);
}

static void FST(struct obs *o, const char *what, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		rec(o, what, -1);
	else
		stat_note(o, what, &st);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

/* bytes [off, off+len) of fd: how many could be read and their hash */
static void data_note(struct obs *o, const char *what, int fd, off_t off, size_t len)
{
	char buf[65536];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t got = 0;
	ssize_t n = 0;

	while (got < len) {
		size_t chunk = len - got < sizeof(buf) ? len - got : sizeof(buf);

		n = pread(fd, buf, chunk, off + (off_t)got);
		if (n <= 0)
			break;
		h = fnv(h, buf, (size_t)n);
		got += (size_t)n;
	}
	if (n < 0)
		rec(o, what, -1);
	else
		note(o, "%s: %zu bytes, hash %016llx", what, got, (unsigned long long)h);
}

/* the whole content of a file */
static void CONTENT(struct obs *o, const char *rel)
{
	char what[300];
	int fd = open(P(o, "%s", rel), O_RDONLY | O_CLOEXEC);

	snprintf(what, sizeof(what), "content %s", rel);
	if (fd < 0) {
		rec(o, what, -1);
		return;
	}
	data_note(o, what, fd, 0, 64 * MiB);
	close(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the sorted listing of a directory, with d_type, as one line */
static void LS(struct obs *o, const char *rel)
{
	static char names[512][280];
	static char *sorted[512];
	char line[16384];
	size_t n = 0, len;
	struct dirent *de;
	DIR *d = opendir(P(o, "%s", rel));

	len = (size_t)snprintf(line, sizeof(line), "ls %s:", rel);
	if (!d) {
		rec(o, line, -1);
		return;
	}
	while ((de = readdir(d)) && n < 512) {
		static const char dt[16] = { [DT_REG] = 'f', [DT_DIR] = 'd',
			[DT_LNK] = 'l', [DT_FIFO] = 'p', [DT_SOCK] = 's',
			[DT_CHR] = 'c', [DT_BLK] = 'b', [DT_UNKNOWN] = '?' };
		char esc[270];
		size_t e = 0;

		/* make newlines and other bytes visible */
		for (const unsigned char *c = (const unsigned char *)de->d_name;
		     *c && e < sizeof(esc) - 5; c++)
			e += (size_t)(*c > ' ' && *c < 127 && *c != '\\' ?
				snprintf(esc + e, 2, "%c", *c) :
				snprintf(esc + e, 5, "\\x%02x", *c));
		esc[e] = 0;
		snprintf(names[n], sizeof(names[n]), "%s(%c)", esc,
			 de->d_type < 16 && dt[de->d_type] ? dt[de->d_type] : '?');
		sorted[n] = names[n];
		n++;
	}
	closedir(d);
	qsort(sorted, n, sizeof(sorted[0]), cmp_str);
	for (size_t i = 0; i < n && len < sizeof(line) - 300; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", sorted[i]);
	note(o, "%s", line);
}

static void READLINK(struct obs *o, const char *rel, size_t size)
{
	char what[300], buf[8192];
	ssize_t n;

	snprintf(what, sizeof(what), "readlink %s (buffer %zu)", rel, size);
	n = readlink(P(o, "%s", rel), buf, size < sizeof(buf) ? size : sizeof(buf));
	if (n < 0) {
		rec(o, what, -1);
		return;
	}
	note(o, "%s = %zd \"%.*s\"", what, n, n > 60 ? 60 : (int)n, buf);
}

/* write a whole file */
static long PUT(struct obs *o, const char *rel, const char *data, size_t len)
{
	char what[300];
	int fd = open(P(o, "%s", rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	long v;

	snprintf(what, sizeof(what), "put %s %zu bytes", rel, len);
	if (fd < 0)
		return rec(o, what, -1);
	v = rec(o, what, pwrite_all(fd, data, len, 0));
	close(fd);
	return v;
}

/* Timestamps: remember them, then record which changed. */
static void SNAP(struct obs *o, int slot, const char *rel)
{
	snprintf(o->snap[slot].name, sizeof(o->snap[slot].name), "%s", rel);
	if (lstat(P(o, "%s", rel), &o->snap[slot].st))
		memset(&o->snap[slot].st, 0, sizeof(o->snap[slot].st));
}

static const char *moved(struct timespec a, struct timespec b)
{
	if (a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec)
		return "same";
	return (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec > a.tv_nsec)) ?
	       "later" : "EARLIER";
}

static void TIMES(struct obs *o, int slot, const char *after)
{
	struct stat st;
	const struct stat *b = &o->snap[slot].st;

	if (lstat(P(o, "%s", o->snap[slot].name), &st)) {
		rec(o, o->snap[slot].name, -1);
		return;
	}
	note(o, "  %s %s: atime %s, mtime %s, ctime %s", after, o->snap[slot].name,
	     moved(b->st_atim, st.st_atim), moved(b->st_mtim, st.st_mtim),
	     moved(b->st_ctim, st.st_ctim));
}

/*
 * Let the clock move on: tmpfs stamps with the kernel's coarse clock (one
 * tick, 1-10 ms) unless the old value was looked at (multigrain stamps),
 * so a change right after a snapshot could show as "same".  This is not a
 * timing test: the results do not depend on how long anything takes.
 */
static void tick(void)
{
	coarse_clock_tick();
}

/* become another user in a forked child; the child runs the block */
static pid_t as_user_begin(struct obs *o, uid_t uid, gid_t gid, gid_t supp)
{
	int status;
	pid_t pid;

	note(o, "as uid %u gid %u groups %u:", (unsigned)uid, (unsigned)gid, (unsigned)supp);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		gid_t groups[1] = { supp };

		if (setgroups(supp ? 1 : 0, groups) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(99);
		return 0;
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		note(o, "  (the child failed)");
		o->bad++;
	}
	return -1;
}

/* the child's end of an AS_USER block */
static __attribute__((noreturn)) pid_t as_user_end(void)
{
	_exit(0);
}

#define AS_USER(...) AS_USER_(__VA_ARGS__)
#define AS_USER_(uid, gid, supp) \
	for (pid_t _as = as_user_begin(o, uid, gid, supp); _as == 0; _as = as_user_end())

/* ------------------------------------------------------------------ */
/* The fixture: one tmpfs and one ramfuse                               */

FIXTURE(posix) {
	char tmp[64];
	struct ramfuse rf;
};

FIXTURE_VARIANT(posix) {
	const char *opts;
};

FIXTURE_VARIANT_ADD(posix, default_permissions) { .opts = "allow_other" };
FIXTURE_VARIANT_ADD(posix, nodefault_permissions) {
	.opts = "allow_other,nodefault_permissions"
};

FIXTURE_SETUP(posix)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	umask(022);
	ASSERT_EQ(0, tmpfs_mount(self->tmp, sizeof(self->tmp), "mode=1777"))
		TH_LOG("tmpfs: %s", strerror(errno));
	ASSERT_EQ(0, mount_ramfuse(&self->rf, variant->opts)) TH_LOG("%s", self->rf.err);
	/* mkdtemp made the mount's parent 0700: let other users through */
	ASSERT_EQ(0, chmod(self->rf.base, 0755));
}

FIXTURE_TEARDOWN(posix)
{
	if (self->tmp[0]) {
		tmpfs_umount(self->tmp);
		EXPECT_FALSE(is_mounted(self->tmp));
	}
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

typedef void scenario_fn(struct obs *o);

/* print the first differences of two logs */
static int log_diff(struct __test_metadata *_metadata, const struct obs *a,
		    const struct obs *b)
{
	const char *p = a->log, *q = b->log;
	int diffs = 0, line = 0, max = getenv("POSIX_TEST_VERBOSE") ? 100000 : 12;

	while (*p || *q) {
		size_t lp = strcspn(p, "\n"), lq = strcspn(q, "\n");

		line++;
		if (lp != lq || memcmp(p, q, lp)) {
			if (diffs++ < max)
				TH_LOG("line %d differs:\n  %s: %.*s\n  %s: %.*s", line,
				       a->fsname, (int)lp, p, b->fsname, (int)lq, q);
		}
		p += lp + (p[lp] == '\n');
		q += lq + (q[lq] == '\n');
	}
	if (diffs > max)
		TH_LOG("... %d differing lines in all", diffs);
	return diffs;
}

/* run the scenario on both mounts and compare */
static void both(struct __test_metadata *_metadata, const char *tmp,
		 const char *mnt, scenario_fn *fn)
{
	struct obs *t = obs_new(tmp, "tmpfs"), *r = obs_new(mnt, "ramfuse");

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, r);
	fn(t);
	fn(r);
	EXPECT_EQ(0, t->bad) TH_LOG("the oracle disagrees with the specification:\n%s",
				    t->badlog);
	EXPECT_EQ(0, r->bad) TH_LOG("ramfuse disagrees with the specification:\n%s",
				    r->badlog);
	EXPECT_EQ(0, log_diff(_metadata, t, r));
	obs_free(t);
	obs_free(r);
}

#define SCENARIO(name)							\
	static void sc_##name(struct obs *o);				\
	TEST_F(posix, name) { both(_metadata, self->tmp, self->rf.mnt, sc_##name); } \
	static void sc_##name(struct obs *o)

/* tmpfs keeps user.* xattrs only since Linux 6.6; ramfuse keeps them on every
 * kernel, but an older tmpfs is no oracle for them. */
static bool tmpfs_has_user_xattrs(const char *tmp)
{
	char probe[128];
	bool ok = true;
	int fd;

	snprintf(probe, sizeof(probe), "%s/.xattr-probe", tmp);
	fd = open(probe, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return true;
	if (fsetxattr(fd, "user.probe", "1", 1, 0) < 0 && errno == EOPNOTSUPP)
		ok = false;
	close(fd);
	unlink(probe);
	return ok;
}

/* a scenario that uses user.* xattrs */
#define XATTR_SCENARIO(name)						\
	static void sc_##name(struct obs *o);				\
	TEST_F(posix, name)						\
	{								\
		if (!tmpfs_has_user_xattrs(self->tmp))			\
			SKIP(return, "tmpfs keeps no user.* xattrs before Linux 6.6: no oracle"); \
		both(_metadata, self->tmp, self->rf.mnt, sc_##name);	\
	}								\
	static void sc_##name(struct obs *o)

/* the users that AS_USER plays */
#define ALICE 1001, 1001, 0	/* owns files below */
#define BOB 1002, 2000, 0	/* in group 2000 by his primary group */
#define CAROL 1003, 1003, 2000	/* in group 2000 as a supplementary group */
#define DAVE 1004, 1004, 0	/* nobody special */

/* ------------------------------------------------------------------ */
/* Symbolic links                                                      */

SCENARIO(symlink_readlink)
{
	char *t4095 = o->scratch, *t4096 = o->scratch + 5000;
	struct stat st;
	int fd;

	memset(t4095, 'a', 4095);
	t4095[4095] = 0;
	memset(t4096, 'b', 4096);
	t4096[4096] = 0;

	WANT(0, symlink("target", P(o, "l")));
	ST(o, "l");
	READLINK(o, "l", 100);
	READLINK(o, "l", 3);		/* truncated, no NUL */
	WANT(-EEXIST, symlink("x", P(o, "l")));
	WANT(-ENOENT, stat(P(o, "l"), &st));	/* dangling */
	WANT(-ENOENT, open(P(o, "l"), O_RDONLY));
	fd = WANT(3, open(P(o, "l"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	if (fd >= 0)
		close(fd);
	ST(o, "target");		/* created through the link */
	WANT(-ELOOP, open(P(o, "l"), O_RDONLY | O_NOFOLLOW));

	WANT(0, symlink(t4095, P(o, "long")));
	ST(o, "long");
	{
		char buf[5000];
		ssize_t n = readlink(P(o, "long"), buf, sizeof(buf));

		WANT(4095, n);
		EXPECT("long target reads back", n == 4095 && !memcmp(buf, t4095, 4095));
	}
	WANT(-ENAMETOOLONG, symlink(t4096, P(o, "toolong")));
	WANT(-ENOENT, symlink("", P(o, "empty")));
	ST(o, "toolong");
	ST(o, "empty");

	WANT(-EINVAL, readlink(P(o, "target"), o->paths[7], 10));
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(0, symlink("d", P(o, "ld")));
	WANT(0, symlink("../target", P(o, "d/up")));
	WANT(0, stat(P(o, "d/up"), &st));
	WANT(0, symlink("loop", P(o, "loop")));
	WANT(-ELOOP, stat(P(o, "loop/x"), &st));
	WANT(-ELOOP, stat(P(o, "loop"), &st));
	WANT(0, mkdir(P(o, "ld/sub"), 0700));
	ST(o, "d/sub");
	WANT(0, lchown(P(o, "ld"), 1001, 1002));
	ST(o, "ld");
	ST(o, "d");
	WANT(-ENOTDIR, rmdir(P(o, "ld")));
	WANT(0, unlink(P(o, "ld")));
	LS(o, ".");
	LS(o, "d");
}

/* ------------------------------------------------------------------ */
/* Hard links                                                          */

SCENARIO(hard_links)
{
	int fd;

	PUT(o, "f", "hello", 5);
	WANT(0, link(P(o, "f"), P(o, "g")));
	ST(o, "f");
	ST(o, "g");
	fd = open(P(o, "g"), O_WRONLY | O_APPEND | O_CLOEXEC);
	WANT(6, write(fd, " world", 6));
	close(fd);
	CONTENT(o, "f");
	WANT(-EEXIST, link(P(o, "f"), P(o, "g")));
	WANT(-ENOENT, link(P(o, "missing"), P(o, "h")));
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(-EPERM, link(P(o, "d"), P(o, "dl")));
	WANT(0, link(P(o, "f"), P(o, "d/f2")));
	ST(o, "f");
	ST(o, "d");
	WANT(-ENOENT, link(P(o, "f"), P(o, "nodir/x")));
	WANT(-ENOTDIR, link(P(o, "f"), P(o, "g/x")));
	WANT(0, unlink(P(o, "f")));
	ST(o, "g");
	WANT(0, symlink("g", P(o, "s")));
	WANT(0, linkat(AT_FDCWD, P(o, "s"), AT_FDCWD, P(o, "s2"), 0));
	ST(o, "s2");
	ST(o, "g");
	WANT(0, linkat(AT_FDCWD, P(o, "s"), AT_FDCWD, P(o, "s3"), AT_SYMLINK_FOLLOW));
	ST(o, "s3");
	ST(o, "s");
	WANT(0, mkfifo(P(o, "fifo"), 0600));
	WANT(0, link(P(o, "fifo"), P(o, "fifo2")));
	ST(o, "fifo");
	WANT(0, unlink(P(o, "d/f2")));
	WANT(0, unlink(P(o, "s3")));
	ST(o, "g");
	CONTENT(o, "s2");
	LS(o, ".");
}

/* ------------------------------------------------------------------ */
/* Nodes of every type                                                 */

SCENARIO(mknod_types)
{
	static const struct { const char *name; mode_t mode; dev_t dev; long want; } n[] = {
		{ "reg", S_IFREG | 0640, 0, 0 },
		{ "reg0", 0640, 0, 0 },			/* type 0 is a regular file */
		{ "fifo", S_IFIFO | 0600, 0, 0 },
		{ "sock", S_IFSOCK | 0600, 0, 0 },
		{ "null", S_IFCHR | 0666, 0, 0 },		/* makedev(1, 3) below */
		{ "sda1", S_IFBLK | 0600, 0, 0 },
		{ "chr_big", S_IFCHR | 0600, 0, 0 },
		{ "blk_max", S_IFBLK | 0600, 0, 0 },
		{ "whiteout", S_IFCHR | 0000, 0, 0 },
		{ "dir", S_IFDIR | 0755, 0, -EPERM },
		{ "lnk", S_IFLNK | 0777, 0, -EINVAL },
	};
	const dev_t devs[] = { 0, 0, 0, 0, makedev(1, 3), makedev(8, 1),
			       makedev(300, 70000), makedev(4095, 0xfffff),
			       makedev(0, 0), 0, 0 };
	char buf[8];
	int fd;

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		char what[100];

		snprintf(what, sizeof(what), "mknod %s %06o %u:%u", n[i].name,
			 (unsigned)n[i].mode, major(devs[i]), minor(devs[i]));
		want(o, what, n[i].want, mknod(P(o, "%s", n[i].name), n[i].mode, devs[i]));
		ST(o, n[i].name);
	}
	for (size_t i = 0; i < 8; i++) {
		struct statx_buf sx;

		if (xstatx(AT_FDCWD, P(o, "%s", n[i].name), AT_SYMLINK_NOFOLLOW,
			  STATX_BASIC_STATS, &sx))
			rec(o, "statx", -1);
		else
			note(o, "statx %s: type %o rdev %u:%u", n[i].name,
			     (unsigned)(sx.stx_mode & S_IFMT), sx.stx_rdev_major,
			     sx.stx_rdev_minor);
	}
	WANT(-EEXIST, mknod(P(o, "fifo"), S_IFIFO | 0600, 0));
	/* a device node on a nodev mount cannot be opened */
	WANT(-EACCES, open(P(o, "null"), O_RDONLY));
	fd = WANT(3, open(P(o, "fifo"), O_RDWR | O_NONBLOCK | O_CLOEXEC));
	if (fd >= 0) {
		WANT(3, write(fd, "abc", 3));
		WANT(3, read(fd, buf, sizeof(buf)));
		WANT(-EAGAIN, read(fd, buf, sizeof(buf)));
		close(fd);
	}
	/* a socket node is a name, connecting needs a listener */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", P(o, "sock"));
		WANT(-ECONNREFUSED, connect(s, (struct sockaddr *)&sa, sizeof(sa)));
		close(s);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", P(o, "bound"));
		WANT(0, bind(s, (struct sockaddr *)&sa, sizeof(sa)));
		close(s);
		ST(o, "bound");
	}
	LS(o, ".");
}

/* ------------------------------------------------------------------ */
/* Rename                                                              */

static long ren2(struct obs *o, const char *from, const char *to, unsigned flags)
{
	char what[300];

	snprintf(what, sizeof(what), "renameat2(%s, %s, %#x)", from, to, flags);
	return rec(o, what, syscall(SYS_renameat2, AT_FDCWD, P(o, "%s", from), AT_FDCWD,
				    P(o, "%s", to), flags));
}

#define RENAME2(expect, from, to, flags) \
	want(o, "renameat2 " from " -> " to " " #flags, expect, ren2(o, from, to, flags))

SCENARIO(rename_files)
{
	PUT(o, "a", "AAAA", 4);
	PUT(o, "b", "BB", 2);
	WANT(0, mkdir(P(o, "e"), 0755));
	WANT(0, rename(P(o, "a"), P(o, "a")));
	WANT(0, link(P(o, "a"), P(o, "a2")));
	/* two names of one inode: nothing happens, both names stay */
	WANT(0, rename(P(o, "a"), P(o, "a2")));
	ST(o, "a");
	ST(o, "a2");
	LS(o, ".");
	WANT(0, unlink(P(o, "a2")));
	WANT(0, rename(P(o, "a"), P(o, "c")));
	WANT(-ENOENT, rename(P(o, "a"), P(o, "x")));
	WANT(0, rename(P(o, "c"), P(o, "b")));	/* over an existing file */
	CONTENT(o, "b");
	ST(o, "b");
	WANT(-EISDIR, rename(P(o, "b"), P(o, "e")));
	WANT(-ENOENT, rename(P(o, "b"), P(o, "nodir/x")));
	WANT(-ENOTDIR, rename(P(o, "b"), P(o, "b/x")));
	WANT(-EBUSY, rename(P(o, "."), P(o, "x")));
	WANT(-EBUSY, rename(P(o, "e/.."), P(o, "x")));
	WANT(-EBUSY, rename(P(o, "e/."), P(o, "x")));
	WANT(0, rename(P(o, "b"), P(o, "e/b")));
	ST(o, "e");
	LS(o, ".");
	LS(o, "e");
	/* rename over an open file: the old one stays readable */
	{
		int fd;

		PUT(o, "old", "old data", 8);
		PUT(o, "new", "new", 3);
		fd = open(P(o, "old"), O_RDONLY | O_CLOEXEC);
		WANT(0, rename(P(o, "new"), P(o, "old")));
		if (fd >= 0) {
			data_note(o, "open old file", fd, 0, 100);
			FST(o, "fstat old file", fd);
			close(fd);
		}
		CONTENT(o, "old");
	}
	RENAME2(-EEXIST, "old", "e/b", RENAME_NOREPLACE);
	RENAME2(0, "old", "fresh", RENAME_NOREPLACE);
	RENAME2(-EINVAL, "fresh", "e/b", RENAME_NOREPLACE | RENAME_EXCHANGE);
	RENAME2(-EINVAL, "fresh", "e/b", 1 << 5);
	RENAME2(-ENOENT, "fresh", "nothere", RENAME_EXCHANGE);
	RENAME2(0, "fresh", "e/b", RENAME_EXCHANGE);
	CONTENT(o, "fresh");
	CONTENT(o, "e/b");
	LS(o, ".");
}

SCENARIO(rename_dirs)
{
	struct stat a, b;

	WANT(0, mkdir(P(o, "d1"), 0755));
	WANT(0, mkdir(P(o, "d1/sub"), 0755));
	WANT(0, mkdir(P(o, "d2"), 0755));
	WANT(0, mkdir(P(o, "d2/full"), 0755));
	PUT(o, "d2/full/x", "x", 1);
	WANT(0, mkdir(P(o, "e"), 0700));
	PUT(o, "f", "file", 4);
	ST(o, ".");

	WANT(-ENOTDIR, rename(P(o, "d1"), P(o, "f")));	/* dir over non-dir */
	WANT(-ENOTEMPTY, rename(P(o, "d1"), P(o, "d2")));	/* over non-empty */
	WANT(-EINVAL, rename(P(o, "d2"), P(o, "d2/full/inside")));	/* own subtree */
	WANT(-EINVAL, rename(P(o, "d2"), P(o, "d2/full")));
	WANT(-ENOTEMPTY, rename(P(o, "d2/full"), P(o, "d2")));	/* onto an ancestor */
	WANT(0, rename(P(o, "d1"), P(o, "e")));		/* over an empty dir */
	ST(o, ".");
	ST(o, "e");
	LS(o, ".");
	/* across directories: the parents' link counts and ".." follow */
	WANT(0, rename(P(o, "e/sub"), P(o, "d2/sub")));
	ST(o, "e");
	ST(o, "d2");
	WANT(0, stat(P(o, "d2/sub/.."), &a));
	WANT(0, stat(P(o, "d2"), &b));
	EXPECT("d2/sub/.. is d2", a.st_ino == b.st_ino);
	LS(o, "d2");
	/* exchange a file and a directory across directories */
	PUT(o, "e/file", "in e", 4);
	RENAME2(0, "e/file", "d2/sub", RENAME_EXCHANGE);
	ST(o, "e");
	ST(o, "d2");
	ST(o, "e/file");
	ST(o, "d2/sub");
	WANT(0, stat(P(o, "e/file/.."), &a));
	WANT(0, stat(P(o, "e"), &b));
	EXPECT("e/file/.. is e", a.st_ino == b.st_ino);
	LS(o, "e");
	LS(o, "d2");
	/* exchange two directories, one inside the other: refused */
	RENAME2(-EINVAL, "d2", "d2/full", RENAME_EXCHANGE);
	RENAME2(-EINVAL, "d2/full", "d2", RENAME_EXCHANGE);
	/* exchange two directories of different parents */
	RENAME2(0, "e/file", "d2/full", RENAME_EXCHANGE);
	LS(o, "e/file");
	LS(o, "d2/full");
	ST(o, "e");
	ST(o, "d2");
	/* an emptied directory can be renamed over */
	WANT(0, unlink(P(o, "e/file/x")));
	WANT(0, rename(P(o, "d2/full"), P(o, "e/file")));
	ST(o, "e");
	ST(o, "d2");
	LS(o, ".");
	LS(o, "e");
	LS(o, "d2");
}

/* RENAME_WHITEOUT leaves an overlayfs whiteout (a 0:0 character device
 * with no permission bits) at the old name, as on tmpfs; with EXCHANGE it
 * is EINVAL, with NOREPLACE onto an existing name EEXIST. */
TEST_F(posix, rename_whiteout)
{
	const char *roots[2] = { self->tmp, self->rf.mnt };

	for (int k = 0; k < 2; k++) {
		const char *fs = k ? "ramfuse" : "tmpfs";
		char a[300], b[300], c[300];
		struct stat st;

		snprintf(a, sizeof(a), "%s/a", roots[k]);
		snprintf(b, sizeof(b), "%s/b", roots[k]);
		snprintf(c, sizeof(c), "%s/c", roots[k]);
		ASSERT_EQ(0, mknod(a, S_IFREG | 0644, 0));
		ASSERT_EQ(0, mknod(c, S_IFREG | 0644, 0));
		EXPECT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, c,
				      RENAME_WHITEOUT | RENAME_EXCHANGE)) TH_LOG("%s", fs);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", fs);
		EXPECT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, c,
				      RENAME_WHITEOUT | RENAME_NOREPLACE)) TH_LOG("%s", fs);
		EXPECT_EQ(EEXIST, errno) TH_LOG("%s", fs);
		ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
				     RENAME_WHITEOUT | RENAME_NOREPLACE)) TH_LOG("%s", fs);
		ASSERT_EQ(0, lstat(a, &st)) TH_LOG("%s: no whiteout", fs);
		EXPECT_EQ(S_IFCHR, st.st_mode) TH_LOG("%s: whiteout mode %o", fs, st.st_mode);
		EXPECT_EQ(0, st.st_rdev) TH_LOG("%s", fs);
		EXPECT_EQ(1, st.st_nlink) TH_LOG("%s", fs);
		EXPECT_EQ(0, lstat(b, &st)) TH_LOG("%s: the file did not move", fs);
		EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", fs);
		/* onto an existing name: replaced, whiteout left */
		ASSERT_EQ(0, syscall(SYS_renameat2, AT_FDCWD, b, AT_FDCWD, c, RENAME_WHITEOUT))
			TH_LOG("%s", fs);
		EXPECT_EQ(0, lstat(b, &st)) TH_LOG("%s", fs);
		EXPECT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s", fs);
	}
}

/* A whiteout is an inode: with nr_inodes used up the rename fails, ENOSPC,
 * and leaves the source where it was. */
TEST(rename_whiteout_counts_inodes)
{
	struct ramfuse rf = { 0 };
	char tmp[64], dirs[2][256];

	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), "nr_inodes=3"));
	ASSERT_EQ(0, mount_ramfuse(&rf, "nr_inodes=3")) TH_LOG("%s", rf.err);
	snprintf(dirs[0], sizeof(dirs[0]), "%s", tmp);
	snprintf(dirs[1], sizeof(dirs[1]), "%s", rf.mnt);
	for (int k = 0; k < 2; k++) {
		char a[300], b[300];
		struct stat st;

		snprintf(a, sizeof(a), "%s/a", dirs[k]);
		snprintf(b, sizeof(b), "%s/b", dirs[k]);
		ASSERT_EQ(0, mknod(a, S_IFREG | 0644, 0));
		ASSERT_EQ(0, mknod(b, S_IFREG | 0644, 0)); /* root, a, b: full */
		EXPECT_EQ(-1, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_WHITEOUT))
			TH_LOG("%s", k ? "ramfuse" : "tmpfs");
		EXPECT_EQ(ENOSPC, errno) TH_LOG("%s", k ? "ramfuse" : "tmpfs");
		EXPECT_EQ(0, lstat(a, &st));
		EXPECT_TRUE(S_ISREG(st.st_mode));
		/* a plain rename needs no inode */
		EXPECT_EQ(0, rename(a, b));
	}
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	tmpfs_umount(tmp);
}

/* ------------------------------------------------------------------ */
/* Extended attributes                                                 */

#define GETX(rel, name, size) getx(o, rel, name, size)

static void getx(struct obs *o, const char *rel, const char *name, size_t size)
{
	char what[400];
	ssize_t n;

	snprintf(what, sizeof(what), "lgetxattr %s %.40s (buffer %zu)", rel, name, size);
	n = lgetxattr(P(o, "%s", rel), name, o->scratch, size);
	if (n < 0 || size == 0)
		rec(o, what, n);
	else
		note(o, "%s = %zd hash %016llx", what, n,
		     (unsigned long long)fnv(0xcbf29ce484222325ULL, o->scratch, (size_t)n));
}

static void LISTX(struct obs *o, const char *rel, size_t size, bool sorted)
{
	char what[300], buf[4096], line[4200];
	char *names[64];
	size_t k = 0, len;
	ssize_t n;

	snprintf(what, sizeof(what), "llistxattr %s (buffer %zu)", rel, size);
	n = llistxattr(P(o, "%s", rel), buf, size < sizeof(buf) ? size : sizeof(buf));
	if (n < 0 || size == 0) {
		rec(o, what, n);
		return;
	}
	for (char *p = buf; p < buf + n && k < 64; p += strlen(p) + 1)
		names[k++] = p;
	if (sorted)
		qsort(names, k, sizeof(names[0]), cmp_str);
	len = (size_t)snprintf(line, sizeof(line), "%s = %zd%s:", what, n,
			       sorted ? " sorted" : "");
	for (size_t i = 0; i < k && len < sizeof(line) - 300; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", names[i]);
	note(o, "%s", line);
}

XATTR_SCENARIO(xattrs)
{
	char name[300];

	PUT(o, "f", "data", 4);
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(0, symlink("f", P(o, "l")));

	WANT(-ENODATA, getxattr(P(o, "f"), "user.a", o->scratch, 100));
	WANT(0, setxattr(P(o, "f"), "user.a", "v1", 2, 0));
	GETX("f", "user.a", 0);		/* the size it needs */
	WANT(-ERANGE, getxattr(P(o, "f"), "user.a", o->scratch, 1));
	GETX("f", "user.a", 100);
	WANT(-EEXIST, setxattr(P(o, "f"), "user.a", "v2", 2, XATTR_CREATE));
	WANT(-ENODATA, setxattr(P(o, "f"), "user.b", "v2", 2, XATTR_REPLACE));
	WANT(0, setxattr(P(o, "f"), "user.a", "value2", 6, XATTR_REPLACE));
	GETX("f", "user.a", 100);
	WANT(-EEXIST, setxattr(P(o, "f"), "user.a", "v", 1, XATTR_CREATE | XATTR_REPLACE));
	WANT(-ENODATA, setxattr(P(o, "f"), "user.n", "v", 1, XATTR_CREATE | XATTR_REPLACE));
	WANT(-EINVAL, setxattr(P(o, "f"), "user.a", "v", 1, 4));
	WANT(0, setxattr(P(o, "f"), "user.b", "", 0, XATTR_CREATE));
	GETX("f", "user.b", 0);
	GETX("f", "user.b", 10);
	WANT(0, setxattr(P(o, "f"), "trusted.t", "tt", 2, 0));
	WANT(0, setxattr(P(o, "f"), "security.s", "ss", 2, 0));
	GETX("f", "trusted.t", 10);
	GETX("f", "security.s", 10);
	WANT(-EOPNOTSUPP, setxattr(P(o, "f"), "foo.bar", "v", 1, 0));
	WANT(-EOPNOTSUPP, getxattr(P(o, "f"), "foo.bar", o->scratch, 10));
	WANT(-EOPNOTSUPP, removexattr(P(o, "f"), "foo.bar"));
	WANT(-ERANGE, setxattr(P(o, "f"), "", "v", 1, 0));
	WANT(-EINVAL, getxattr(P(o, "f"), "user.", o->scratch, 10));
	WANT(-EINVAL, setxattr(P(o, "f"), "user.", "v", 1, 0));

	/* names up to 255 bytes, values up to 64 KiB */
	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	name[255] = 0;
	WANT(0, setxattr(P(o, "f"), name, "long name", 9, 0));
	GETX("f", name, 100);
	name[255] = 'n';
	name[256] = 0;
	WANT(-ERANGE, setxattr(P(o, "f"), name, "v", 1, 0));
	WANT(-ERANGE, getxattr(P(o, "f"), name, o->scratch, 10));
	pattern_fill((unsigned char *)o->scratch, 65536, 0, 3);
	WANT(0, setxattr(P(o, "f"), "user.big", o->scratch, 65536, 0));
	GETX("f", "user.big", 0);
	GETX("f", "user.big", 65536);
	WANT(-ERANGE, getxattr(P(o, "f"), "user.big", o->scratch, 65535));
	WANT(-E2BIG, setxattr(P(o, "f"), "user.huge", o->scratch, 65537, 0));

	LISTX(o, "f", 0, true);
	WANT(-ERANGE, listxattr(P(o, "f"), o->scratch, 5));
	LISTX(o, "f", 4096, true);
	WANT(0, removexattr(P(o, "f"), "user.a"));
	WANT(-ENODATA, removexattr(P(o, "f"), "user.a"));
	WANT(-ENODATA, getxattr(P(o, "f"), "user.a", o->scratch, 10));
	LISTX(o, "f", 4096, true);

	/* directories take them too; symlinks only outside user. */
	WANT(0, setxattr(P(o, "d"), "user.d", "dir", 3, 0));
	GETX("d", "user.d", 10);
	WANT(-EPERM, lsetxattr(P(o, "l"), "user.x", "v", 1, 0));
	WANT(-ENODATA, lgetxattr(P(o, "l"), "user.x", o->scratch, 10));
	WANT(0, lsetxattr(P(o, "l"), "trusted.x", "v", 1, 0));
	LISTX(o, "l", 4096, true);
	GETX("l", "trusted.x", 10);
	WANT(2, getxattr(P(o, "l"), "security.s", o->scratch, 10));	/* follows */
	WANT(0, mkfifo(P(o, "p"), 0644));
	WANT(-EPERM, setxattr(P(o, "p"), "user.x", "v", 1, 0));
	WANT(-ENOENT, getxattr(P(o, "missing"), "user.x", o->scratch, 10));

	/* other users: no trusted.*, and writing needs write permission */
	WANT(0, chmod(P(o, "f"), 0644));
	AS_USER(DAVE) {
		LISTX(o, "f", 4096, true);
		WANT(-ENODATA, getxattr(P(o, "f"), "trusted.t", o->scratch, 10));
		GETX("f", "user.b", 10);
		WANT(-EACCES, setxattr(P(o, "f"), "user.c", "v", 1, 0));
		WANT(-EACCES, removexattr(P(o, "f"), "user.b"));
		WANT(-EPERM, setxattr(P(o, "f"), "trusted.c", "v", 1, 0));
	}
	WANT(0, chmod(P(o, "f"), 0646));
	AS_USER(DAVE) {
		WANT(0, setxattr(P(o, "f"), "user.c", "v", 1, 0));
		WANT(0, removexattr(P(o, "f"), "user.b"));
	}
	LISTX(o, "f", 4096, true);
}

/* listxattr gives the names in an order: tmpfs's, or at least a fixed one */
XATTR_SCENARIO(listxattr_order)
{
	static const char *const names[] = { "user.zeta", "user.alpha", "trusted.m",
					     "user.beta", "security.a" };

	PUT(o, "f", "", 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		WANT(0, setxattr(P(o, "f"), names[i], "v", 1, 0));
	WANT(0, setxattr(P(o, "f"), "user.alpha", "vv", 2, XATTR_REPLACE));
	WANT(0, removexattr(P(o, "f"), "user.beta"));
	WANT(0, setxattr(P(o, "f"), "user.beta", "v", 1, 0));
	LISTX(o, "f", 4096, false);
}

/* POSIX ACLs are xattrs in system.*: tmpfs keeps them.  ramfuse keeps them
 * only once it negotiates FUSE_POSIX_ACL; until then this test skips. */
static void sc_posix_acl(struct obs *o);
TEST_F(posix, posix_acl)
{
	const unsigned long long posix_acl = 1ULL << 20; /* FUSE_POSIX_ACL */
	bool found = false;
	unsigned long long flags = stats_get_u64(&self->rf, "flags", &found);

	ASSERT_TRUE(found) TH_LOG("no flags line in the stats file");
	if (!(flags & posix_acl))
		SKIP(return, "ramfuse does not negotiate FUSE_POSIX_ACL: ACLs are not kept");
	both(_metadata, self->tmp, self->rf.mnt, sc_posix_acl);
}

static void sc_posix_acl(struct obs *o)
{
	/* version 2; user::rwx group::r-x other::--- (same as mode 0750) */
	static const unsigned char equiv[] = {
		2, 0, 0, 0,
		0x01, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
		0x04, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};

	PUT(o, "f", "", 0);
	WANT(-ENODATA, getxattr(P(o, "f"), "system.posix_acl_access", o->scratch, 100));
	WANT(0, setxattr(P(o, "f"), "system.posix_acl_access", equiv, sizeof(equiv), 0));
	ST(o, "f");
}

/* ------------------------------------------------------------------ */
/* fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range                      */

SCENARIO(fallocate_modes)
{
	char *buf = o->scratch;
	int fd, ro;

	fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	WANT(0, fallocate(fd, 0, 0, MiB));
	FST(o, "after fallocate 0..1M", fd);
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, MiB, MiB));
	FST(o, "after KEEP_SIZE 1M..2M", fd);
	data_note(o, "reads as zeros", fd, 0, 4 * MiB);
	pattern_fill((unsigned char *)buf, 65536, 0, 9);
	for (long off = 0; off < MiB; off += 65536)
		pwrite_all(fd, buf, 65536, off);
	WANT(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192));
	FST(o, "after punching 4K..12K", fd);
	WANT(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200));
	FST(o, "after punching 100..300", fd);
	data_note(o, "content", fd, 0, 4 * MiB);
	WANT(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB - 4096, 2 * MiB));
	FST(o, "after punching past EOF", fd);
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096));
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
	WANT(-EOPNOTSUPP, fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096));
	DO(fallocate(fd, FALLOC_FL_UNSHARE_RANGE, 0, 4096));
	WANT(-EINVAL, fallocate(fd, 0, 0, 0));
	WANT(-EINVAL, fallocate(fd, 0, -1, 4096));
	WANT(-EFBIG, fallocate(fd, 0, LLONG_MAX - 10, 4096));
	WANT(0, fallocate(fd, 0, 3 * MiB + 5, 10));
	FST(o, "after fallocate 3M+5..3M+15", fd);
	WANT(0, posix_fallocate(fd, 0, 5 * MiB));
	FST(o, "after posix_fallocate 0..5M", fd);
	close(fd);
	ro = open(P(o, "f"), O_RDONLY | O_CLOEXEC);
	WANT(-EBADF, fallocate(ro, 0, 0, 4096));
	close(ro);
	ro = open(P(o, "."), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WANT(-EBADF, fallocate(ro, 0, 0, 4096));
	close(ro);
	WANT(0, mkfifo(P(o, "p"), 0644));
	fd = open(P(o, "p"), O_RDWR | O_CLOEXEC);
	WANT(-ESPIPE, fallocate(fd, 0, 0, 4096));
	close(fd);
	ST(o, "f");
}

static void seeks(struct obs *o, int fd, const off_t *offs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char what[80];

		snprintf(what, sizeof(what), "SEEK_DATA %lld", (long long)offs[i]);
		rec(o, what, lseek(fd, offs[i], SEEK_DATA));
		snprintf(what, sizeof(what), "SEEK_HOLE %lld", (long long)offs[i]);
		rec(o, what, lseek(fd, offs[i], SEEK_HOLE));
	}
}

SCENARIO(seek_data_hole)
{
	static const off_t offs[] = { 0, 1, 4095, 4096, 8191, 8192, 65536, MiB - 1,
				      MiB, MiB + 4095, MiB + 4096, 2 * MiB - 1,
				      2 * MiB, 3 * MiB, LLONG_MAX, -1 };
	char page[4096];
	int fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	note(o, "empty file:");
	seeks(o, fd, offs, 3);
	memset(page, 'x', sizeof(page));
	WANT(4096, pwrite(fd, page, 4096, 0));
	WANT(4096, pwrite(fd, page, 4096, MiB));
	note(o, "data 0..4K and 1M..1M+4K:");
	seeks(o, fd, offs, sizeof(offs) / sizeof(offs[0]));
	WANT(0, ftruncate(fd, 2 * MiB));
	note(o, "then a hole to 2M:");
	seeks(o, fd, offs, sizeof(offs) / sizeof(offs[0]));
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 65536, 65536));
	note(o, "64K..128K allocated, never written:");
	seeks(o, fd, offs, sizeof(offs) / sizeof(offs[0]));
	WANT(5, lseek(fd, 5, SEEK_SET));
	WANT(7, lseek(fd, 2, SEEK_CUR));
	WANT(2 * MiB - 1, lseek(fd, -1, SEEK_END));
	WANT(-EINVAL, lseek(fd, -1, SEEK_SET));
	WANT(-EINVAL, lseek(fd, 0, 7));
	FST(o, "file", fd);
	close(fd);
}

SCENARIO(copy_range)
{
	char *buf = o->scratch;
	int in, out, dir;
	loff_t a, b;

	pattern_fill((unsigned char *)buf, 65536, 0, 5);
	in = open(P(o, "in"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	out = open(P(o, "out"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	WANT(65536, pwrite_all(in, buf, 65536, 0));
	a = 100;
	b = 5000;
	WANT(10000, copy_file_range(in, &a, out, &b, 10000, 0));
	note(o, "offsets now %lld %lld", (long long)a, (long long)b);
	FST(o, "out", out);
	data_note(o, "out", out, 0, MiB);
	a = 60000;
	b = 0;
	WANT(5536, copy_file_range(in, &a, out, &b, 10000, 0));	/* short at EOF */
	a = 65536;
	WANT(0, copy_file_range(in, &a, out, &b, 10000, 0));	/* at EOF */
	a = 0;
	b = 200000;		/* beyond the end of out: a hole before */
	WANT(4096, copy_file_range(in, &a, out, &b, 4096, 0));
	FST(o, "out", out);
	data_note(o, "out", out, 0, MiB);
	/* the file offsets move when no offsets are given */
	WANT(1000, lseek(in, 1000, SEEK_SET));
	WANT(3, lseek(out, 3, SEEK_SET));
	WANT(50, copy_file_range(in, NULL, out, NULL, 50, 0));
	note(o, "file offsets %lld %lld", (long long)lseek(in, 0, SEEK_CUR),
	     (long long)lseek(out, 0, SEEK_CUR));
	a = 0;
	b = 10;
	WANT(-EINVAL, copy_file_range(in, &a, in, &b, 100, 0));	/* overlap */
	b = 1000;
	WANT(100, copy_file_range(in, &a, in, &b, 100, 0));
	WANT(-EINVAL, copy_file_range(in, &a, out, &b, 100, 1));
	dir = open(P(o, "."), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WANT(-EISDIR, copy_file_range(dir, NULL, out, NULL, 100, 0));
	close(dir);
	data_note(o, "in", in, 0, MiB);
	data_note(o, "out", out, 0, MiB);
	close(in);
	close(out);
	in = open(P(o, "in"), O_RDONLY | O_CLOEXEC);
	WANT(-EBADF, copy_file_range(in, NULL, in, NULL, 100, 0));
	close(in);
}

SCENARIO(fsync_dir)
{
	int d, f;

	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "d/f", "x", 1);
	d = open(P(o, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WANT(0, fsync(d));
	WANT(0, fdatasync(d));
	WANT(0, syncfs(d));
	close(d);
	d = open(P(o, "d"), O_PATH | O_CLOEXEC);
	WANT(-EBADF, fsync(d));
	close(d);
	f = open(P(o, "d/f"), O_RDONLY | O_CLOEXEC);
	WANT(0, fsync(f));
	WANT(0, fdatasync(f));
	WANT(0, sync_file_range(f, 0, 0, SYNC_FILE_RANGE_WRITE));
	close(f);
}

/* ------------------------------------------------------------------ */
/* O_TMPFILE                                                           */

XATTR_SCENARIO(tmpfile_linkat)
{
	char proc[64];
	int fd, ex;

	WANT(0, mkdir(P(o, "d"), 0755));
	fd = WANT(3, open(P(o, "d"), O_TMPFILE | O_RDWR | O_CLOEXEC, 0640));
	FST(o, "tmpfile", fd);
	LS(o, "d");
	WANT(5, write(fd, "hello", 5));
	WANT(0, fchmod(fd, 0600));
	WANT(0, fsetxattr(fd, "user.t", "x", 1, 0));
	WANT(0, linkat(fd, "", AT_FDCWD, P(o, "d/named"), AT_EMPTY_PATH));
	FST(o, "tmpfile after linkat", fd);
	ST(o, "d/named");
	CONTENT(o, "d/named");
	WANT(1, getxattr(P(o, "d/named"), "user.t", o->scratch, 10));
	WANT(-EEXIST, linkat(fd, "", AT_FDCWD, P(o, "d/named"), AT_EMPTY_PATH));
	close(fd);

	/* through /proc: a plain link(2) links the magic symlink itself */
	fd = open(P(o, "d"), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	WANT(-EXDEV, linkat(AT_FDCWD, proc, AT_FDCWD, P(o, "viaproc"), 0));
	WANT(0, linkat(AT_FDCWD, proc, AT_FDCWD, P(o, "viaproc"), AT_SYMLINK_FOLLOW));
	ST(o, "viaproc");
	close(fd);

	/* O_EXCL: never to be linked */
	ex = open(P(o, "d"), O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	WANT(-ENOENT, linkat(ex, "", AT_FDCWD, P(o, "d/ex"), AT_EMPTY_PATH));
	close(ex);

	WANT(-EINVAL, open(P(o, "d"), O_TMPFILE | O_RDONLY, 0600));
	WANT(-ENOTDIR, open(P(o, "viaproc"), O_TMPFILE | O_RDWR, 0600));
	WANT(-ENOENT, open(P(o, "nodir"), O_TMPFILE | O_RDWR, 0600));

	/* an unlinked file cannot be linked back, an O_TMPFILE one can */
	fd = open(P(o, "d/named"), O_RDWR | O_CLOEXEC);
	WANT(0, unlink(P(o, "d/named")));
	WANT(-ENOENT, linkat(fd, "", AT_FDCWD, P(o, "back"), AT_EMPTY_PATH));
	close(fd);
	ST(o, "d");
	LS(o, "d");
	LS(o, ".");
}

/* ------------------------------------------------------------------ */
/* statx                                                               */

/* btime reaches the caller only through FUSE_STATX (7.39) */
static void sc_statx_fields(struct obs *o);
TEST_F(posix, statx_fields)
{
	char proto[32];
	unsigned major = 0, minor = 0;

	ASSERT_EQ(0, stats_get_str(&self->rf, "proto", proto, sizeof(proto)));
	ASSERT_EQ(2, sscanf(proto, "%u.%u", &major, &minor));
	if (minor < 39)
		SKIP(return, "FUSE %u.%u has no STATX (7.39): btime cannot reach the caller",
		     major, minor);
	both(_metadata, self->tmp, self->rf.mnt, sc_statx_fields);
}

static void sc_statx_fields(struct obs *o)
{
	const unsigned int basic = STATX_BASIC_STATS | STATX_BTIME;
	struct statx_buf a, b;
	int fd;

	fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	WANT(0, xstatx(AT_FDCWD, P(o, "f"), 0, basic, &a));
	note(o, "mask %#x of %#x, blksize %u, nlink %u, mode %o, size %llu",
	     a.stx_mask & basic, basic, a.stx_blksize, a.stx_nlink, a.stx_mode,
	     (unsigned long long)a.stx_size);
	EXPECT("btime <= mtime", a.stx_btime.tv_sec < a.stx_mtime.tv_sec ||
	       (a.stx_btime.tv_sec == a.stx_mtime.tv_sec &&
		a.stx_btime.tv_nsec <= a.stx_mtime.tv_nsec));
	tick();
	WANT(3, write(fd, "abc", 3));
	WANT(0, fchmod(fd, 0600));
	WANT(0, xstatx(fd, "", AT_EMPTY_PATH, basic, &b));
	EXPECT("btime stays", a.stx_btime.tv_sec == b.stx_btime.tv_sec &&
	       a.stx_btime.tv_nsec == b.stx_btime.tv_nsec);
	EXPECT("mtime moves", a.stx_mtime.tv_sec != b.stx_mtime.tv_sec ||
	       a.stx_mtime.tv_nsec != b.stx_mtime.tv_nsec);
	/* FUSE has no field to report stx_attributes_mask in, so the kernel
	 * cannot say that immutable/append/nodump (0x70) are supported. */
	note(o, "attributes %#llx mask %#llx", (unsigned long long)b.stx_attributes,
	     (unsigned long long)b.stx_attributes_mask & ~0x70ULL);
	WANT(0, xstatx(AT_FDCWD, P(o, "f"), AT_STATX_FORCE_SYNC, STATX_BTIME, &b));
	note(o, "force sync: has btime %d", !!(b.stx_mask & STATX_BTIME));
	WANT(0, xstatx(AT_FDCWD, P(o, "f"), AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &b));
	note(o, "dont sync: size %llu mode %o", (unsigned long long)b.stx_size, b.stx_mode);
	WANT(0, mkdir(P(o, "d"), 0755));
	WANT(0, xstatx(AT_FDCWD, P(o, "d"), 0, basic, &b));
	note(o, "dir: mask %#x nlink %u size %llu blocks %llu", b.stx_mask & basic,
	     b.stx_nlink, (unsigned long long)b.stx_size, (unsigned long long)b.stx_blocks);
	WANT(-ENOENT, xstatx(AT_FDCWD, P(o, "nope"), 0, basic, &b));
	WANT(-EINVAL, xstatx(AT_FDCWD, P(o, "f"), 0, STATX__RESERVED, &b));
	close(fd);
}

/* chattr-style flags: tmpfs has FS_IOC_GETFLAGS/SETFLAGS */
SCENARIO(inode_flags)
{
	int fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int flags = -1;

	DO(ioctl(fd, FS_IOC_GETFLAGS, &flags));
	note(o, "flags %#x", flags);
	flags = FS_APPEND_FL;
	DO(ioctl(fd, FS_IOC_SETFLAGS, &flags));
	close(fd);
	fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
	DO(fd);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Permissions                                                         */

/* what one user may do with file "f" and directory "d" */
static void try_file(struct obs *o)
{
	int fd;

	fd = DO(open(P(o, "f"), O_RDONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	fd = DO(open(P(o, "f"), O_WRONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	DO(access(P(o, "f"), R_OK));
	DO(access(P(o, "f"), W_OK));
	DO(access(P(o, "f"), X_OK));
	DO(access(P(o, "f"), R_OK | W_OK));
	DO(access(P(o, "f"), F_OK));
	DO(faccessat(AT_FDCWD, P(o, "f"), R_OK | X_OK, AT_EACCESS));
	DO(truncate(P(o, "f"), 1));
	DO(utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
}

SCENARIO(file_permission_bits)
{
	static const mode_t modes[] = { 0000, 0400, 0200, 0100, 0040, 0020, 0010,
					0004, 0002, 0001, 0640, 0604, 0066, 0707, 0777 };

	PUT(o, "f", "data", 4);
	WANT(0, chown(P(o, "f"), 1001, 2000));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		note(o, "mode %04o:", (unsigned)modes[i]);
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(ALICE) try_file(o);
		AS_USER(BOB) try_file(o);
		AS_USER(CAROL) try_file(o);
		AS_USER(DAVE) try_file(o);
		note(o, "as root:");
		try_file(o);
	}
}

static void try_dir(struct obs *o)
{
	struct stat st;
	int fd;
	DIR *d;

	DO(stat(P(o, "d/f"), &st));
	d = opendir(P(o, "d"));
	rec(o, "opendir d", d ? 0 : -1);
	if (d)
		closedir(d);
	fd = DO(open(P(o, "d/new"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
	if (fd >= 0)
		close(fd);
	DO(unlink(P(o, "d/new")));
	DO(mkdir(P(o, "d/sub"), 0755));
	DO(rmdir(P(o, "d/sub")));
	DO(rename(P(o, "d/f"), P(o, "d/f2")));
	DO(rename(P(o, "d/f2"), P(o, "d/f")));
	DO(symlink("x", P(o, "d/sl")));
	DO(unlink(P(o, "d/sl")));
	DO(link(P(o, "d/f"), P(o, "d/hl")));
	DO(unlink(P(o, "d/hl")));
	DO(chdir(P(o, "d")));
	DO(access(P(o, "d"), X_OK));
	DO(access(P(o, "d"), W_OK));
}

SCENARIO(dir_permission_bits)
{
	static const mode_t modes[] = { 0000, 0700, 0500, 0300, 0100, 0070, 0050,
					0030, 0007, 0005, 0003, 0001, 0777 };

	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "d/f", "data", 4);
	WANT(0, chmod(P(o, "d/f"), 0666));
	WANT(0, chown(P(o, "d"), 1001, 2000));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		note(o, "mode %04o:", (unsigned)modes[i]);
		WANT(0, chmod(P(o, "d"), modes[i]));
		AS_USER(ALICE) try_dir(o);
		AS_USER(BOB) try_dir(o);
		AS_USER(CAROL) try_dir(o);
		AS_USER(DAVE) try_dir(o);
		note(o, "as root:");
		try_dir(o);
		WANT(0, chdir("/"));
	}
	LS(o, "d");
}

SCENARIO(root_overrides)
{
	int fd;

	PUT(o, "f", "data", 4);
	WANT(0, chown(P(o, "f"), 1001, 1001));
	WANT(0, chmod(P(o, "f"), 0));
	fd = WANT(3, open(P(o, "f"), O_RDWR | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	WANT(0, access(P(o, "f"), R_OK | W_OK));
	WANT(-EACCES, access(P(o, "f"), X_OK));
	WANT(0, chmod(P(o, "f"), 0010));
	WANT(0, access(P(o, "f"), X_OK));
	WANT(0, mkdir(P(o, "d"), 0));
	WANT(0, chown(P(o, "d"), 1001, 1001));
	WANT(0, access(P(o, "d"), R_OK | W_OK | X_OK));
	PUT(o, "d/x", "x", 1);
	LS(o, "d");
	WANT(0, chmod(P(o, "d"), 01000));
	WANT(0, unlink(P(o, "d/x")));
	WANT(0, chown(P(o, "f"), 1002, 1003));
	WANT(0, utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
	ST(o, "f");
	ST(o, "d");
}

/* sticky directories: only the owner of the entry or the directory, or root,
 * may remove or rename it */
SCENARIO(sticky_dirs)
{
	WANT(0, mkdir(P(o, "t"), 0777));
	WANT(0, chmod(P(o, "t"), 01777));
	AS_USER(ALICE) {
		PUT(o, "t/alice", "a", 1);
		PUT(o, "t/alice2", "a", 1);
		WANT(0, mkdir(P(o, "t/alicedir"), 0777));
	}
	AS_USER(BOB) {
		PUT(o, "t/bob", "b", 1);
		WANT(0, chmod(P(o, "t/bob"), 0666));
		WANT(-EPERM, unlink(P(o, "t/alice")));
		WANT(-EPERM, rmdir(P(o, "t/alicedir")));
		WANT(-EPERM, rename(P(o, "t/alice"), P(o, "t/mine")));
		WANT(-EPERM, rename(P(o, "t/bob"), P(o, "t/alice")));	/* over hers */
		WANT(0, rename(P(o, "t/bob"), P(o, "t/bob2")));
		WANT(0, rename(P(o, "t/bob2"), P(o, "t/bob")));
	}
	AS_USER(ALICE) {
		WANT(-EPERM, unlink(P(o, "t/bob")));
		WANT(0, unlink(P(o, "t/alice2")));
		/* rename over an entry that is not hers, though she may write it */
		WANT(-EPERM, rename(P(o, "t/alice"), P(o, "t/bob")));
	}
	/* the directory's owner may */
	WANT(0, chown(P(o, "t"), 1003, 1003));
	AS_USER(CAROL) {
		WANT(0, rename(P(o, "t/alice"), P(o, "t/was_alice")));
		WANT(0, unlink(P(o, "t/bob")));
	}
	WANT(0, rmdir(P(o, "t/alicedir")));	/* and root */
	/* sticky but not writable: nobody but root removes anything */
	WANT(0, chmod(P(o, "t"), 01755));
	AS_USER(ALICE) WANT(-EACCES, unlink(P(o, "t/was_alice")));
	LS(o, "t");
	ST(o, "t");
}

/* set-group-id directories hand down their group, and the bit to subdirs */
SCENARIO(setgid_dirs)
{
	WANT(0, mkdir(P(o, "g"), 0777));
	WANT(0, chown(P(o, "g"), 0, 3000));
	WANT(0, chmod(P(o, "g"), 02777));
	ST(o, "g");
	AS_USER(ALICE) {
		int fd = open(P(o, "g/file"), O_WRONLY | O_CREAT | O_CLOEXEC, 02755);

		rec(o, "create g/file 02755", fd >= 0 ? 0 : -1);
		if (fd >= 0)
			close(fd);
		WANT(0, mkdir(P(o, "g/sub"), 0755));
		WANT(0, mkdir(P(o, "g/sub/deeper"), 0700));
		WANT(0, mknod(P(o, "g/fifo"), S_IFIFO | 02644, 0));
		WANT(0, symlink("x", P(o, "g/sym")));
		WANT(0, mkdir(P(o, "own"), 0777));
		WANT(0, chmod(P(o, "own"), 02777));	/* not in group 1001? she is */
		WANT(-EPERM, chown(P(o, "own"), -1, 2000));	/* not in 2000 */
	}
	ST(o, "g/file");
	ST(o, "g/sub");
	ST(o, "g/sub/deeper");
	ST(o, "g/fifo");
	ST(o, "g/sym");
	ST(o, "own");
	AS_USER(BOB) {
		/* in 2000 but not 3000: a new file in g keeps 3000, its own
		 * setgid bit is dropped */
		int fd = open(P(o, "g/bobs"), O_WRONLY | O_CREAT | O_CLOEXEC, 02775);

		if (fd >= 0)
			close(fd);
		WANT(0, mkdir(P(o, "g/bobdir"), 02775));
	}
	ST(o, "g/bobs");
	ST(o, "g/bobdir");
	/* root creating: the same inheritance */
	PUT(o, "g/rootfile", "r", 1);
	WANT(0, mkdir(P(o, "g/rootdir"), 0700));
	ST(o, "g/rootfile");
	ST(o, "g/rootdir");
	/* rename into a setgid dir keeps the old group */
	PUT(o, "outside", "o", 1);
	WANT(0, rename(P(o, "outside"), P(o, "g/moved")));
	ST(o, "g/moved");
}

/* writes, truncation and chown by non-root drop set-user-id and
 * set-group-id (the latter only with group execute) */
SCENARIO(setid_clearing)
{
	static const mode_t modes[] = { 06777, 02777, 04777, 02767 };
	int fd;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		note(o, "mode %04o:", (unsigned)modes[i]);
		PUT(o, "f", "data", 4);
		WANT(0, chown(P(o, "f"), 1001, 2000));
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(BOB) {
			fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
			WANT(1, write(fd, "x", 1));
			close(fd);
		}
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(BOB) WANT(0, truncate(P(o, "f"), 100));
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(DAVE) {
			fd = open(P(o, "f"), O_WRONLY | O_TRUNC | O_CLOEXEC);
			rec(o, "open O_TRUNC", fd >= 0 ? 0 : -1);
			close(fd);
		}
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		/* root keeps the bits on write (CAP_FSETID) */
		fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
		WANT(1, write(fd, "y", 1));
		close(fd);
		ST(o, "f");
		/* the owner changing the group (to one of hers) */
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(ALICE) WANT(0, chown(P(o, "f"), -1, 1001));
		ST(o, "f");
		/* root changing the owner */
		WANT(0, chmod(P(o, "f"), modes[i]));
		WANT(0, chown(P(o, "f"), 1002, -1));
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		WANT(0, chown(P(o, "f"), -1, -1));
		ST(o, "f");
		WANT(0, unlink(P(o, "f")));
	}
	/* directories keep their bits on chown */
	WANT(0, mkdir(P(o, "d"), 0777));
	WANT(0, chmod(P(o, "d"), 06777));
	WANT(0, chown(P(o, "d"), 1001, 1001));
	ST(o, "d");
}

/* chmod and chown: who may, and what happens to set-group-id */
SCENARIO(chmod_chown_rules)
{
	PUT(o, "f", "data", 4);
	WANT(0, chown(P(o, "f"), 1001, 1001));
	WANT(0, chmod(P(o, "f"), 0666));
	AS_USER(BOB) {
		WANT(-EPERM, chmod(P(o, "f"), 0777));
		WANT(-EPERM, chown(P(o, "f"), 1002, -1));
		WANT(-EPERM, chown(P(o, "f"), -1, 2000));
		WANT(-EPERM, utimensat(AT_FDCWD, P(o, "f"),
				       (struct timespec[2]){ { 1, 0 }, { 2, 0 } }, 0));
		WANT(0, utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
		WANT(0, utimensat(AT_FDCWD, P(o, "f"),
				  (struct timespec[2]){ { 0, UTIME_NOW }, { 0, UTIME_NOW } }, 0));
		WANT(-EPERM, utimensat(AT_FDCWD, P(o, "f"),
				       (struct timespec[2]){ { 0, UTIME_NOW }, { 0, UTIME_OMIT } }, 0));
	}
	AS_USER(ALICE) {
		WANT(0, chmod(P(o, "f"), 02755));	/* her own group: kept */
		ST(o, "f");
		WANT(-EPERM, chown(P(o, "f"), 1002, -1));	/* give away: no */
		WANT(0, chown(P(o, "f"), 1001, -1));		/* to herself: yes */
		WANT(-EPERM, chown(P(o, "f"), -1, 2000));	/* not her group */
		WANT(0, utimensat(AT_FDCWD, P(o, "f"),
				  (struct timespec[2]){ { 1, 5 }, { 2, 6 } }, 0));
	}
	WANT(0, chown(P(o, "f"), 1001, 2000));
	ST(o, "f");
	AS_USER(ALICE) {
		/* the file is in a group she is not in: g+s is dropped */
		WANT(0, chmod(P(o, "f"), 02755));
		ST(o, "f");
	}
	AS_USER(CAROL) {
		WANT(-EPERM, chmod(P(o, "f"), 0644));
	}
	WANT(0, chown(P(o, "f"), 1003, 1003));
	AS_USER(CAROL) {
		/* supplementary group 2000 is hers */
		WANT(0, chown(P(o, "f"), -1, 2000));
		WANT(0, chmod(P(o, "f"), 02750));
	}
	ST(o, "f");
}

/* ------------------------------------------------------------------ */
/* Timestamps: which of atime/mtime/ctime move, exactly as on tmpfs      */

/* times in the past, so that "now" is always a change */
static void age(struct obs *o, const char *rel)
{
	const struct timespec old[2] = { { 1000000000, 111 }, { 1000000000, 222 } };

	utimensat(AT_FDCWD, P(o, "%s", rel), old, AT_SYMLINK_NOFOLLOW);
}

/* before: snapshot up to three paths ("" = none) */
static void before(struct obs *o, const char *a, const char *b, const char *c)
{
	const char *p[3] = { a, b, c };

	for (int i = 0; i < 3; i++)
		if (p[i] && *p[i])
			SNAP(o, i, p[i]);
		else
			o->snap[i].name[0] = 0;
	tick();
}

static void after(struct obs *o, const char *op)
{
	for (int i = 0; i < 3; i++)
		if (o->snap[i].name[0])
			TIMES(o, i, op);
}

SCENARIO(times_data)
{
	char buf[16];
	int fd;

	PUT(o, "f", "0123456789", 10);
	age(o, "f");
	fd = open(P(o, "f"), O_RDWR | O_CLOEXEC);

	before(o, "f", ".", NULL);
	WANT(3, pwrite(fd, "abc", 3, 2));
	after(o, "write");

	before(o, "f", NULL, NULL);
	WANT(0, pwrite(fd, "", 0, 2));
	after(o, "write of 0 bytes");

	before(o, "f", NULL, NULL);
	WANT(10, pread(fd, buf, 10, 0));
	after(o, "read");

	before(o, "f", NULL, NULL);
	WANT(10, pread(fd, buf, 10, 0));
	after(o, "read again (relatime)");

	before(o, "f", NULL, NULL);
	WANT(0, pread(fd, buf, 10, 100));
	after(o, "read at EOF");

	before(o, "f", NULL, NULL);
	WANT(0, ftruncate(fd, 5));
	after(o, "ftruncate shorter");

	before(o, "f", NULL, NULL);
	WANT(0, ftruncate(fd, 5));
	after(o, "ftruncate same size");

	before(o, "f", NULL, NULL);
	WANT(0, truncate(P(o, "f"), 5));
	after(o, "truncate same size");

	before(o, "f", NULL, NULL);
	WANT(0, truncate(P(o, "f"), 50));
	after(o, "truncate longer");

	before(o, "f", NULL, NULL);
	WANT(0, fallocate(fd, 0, 0, 8192));
	after(o, "fallocate");

	before(o, "f", NULL, NULL);
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
	after(o, "fallocate KEEP_SIZE");

	before(o, "f", NULL, NULL);
	WANT(0, fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 4096));
	after(o, "punch hole");

	before(o, "f", NULL, NULL);
	WANT(0, fsync(fd));
	after(o, "fsync");
	close(fd);

	before(o, "f", NULL, NULL);
	fd = open(P(o, "f"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	after(o, "open O_TRUNC");
	close(fd);

	before(o, "f", NULL, NULL);
	fd = open(P(o, "f"), O_WRONLY | O_TRUNC | O_CLOEXEC);
	after(o, "open O_TRUNC of an empty file");
	close(fd);

	before(o, "f", ".", NULL);
	fd = open(P(o, "f"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	after(o, "open O_CREAT of an existing file");
	close(fd);

	PUT(o, "src", "source data", 11);
	before(o, "f", "src", NULL);
	{
		int in = open(P(o, "src"), O_RDONLY | O_CLOEXEC);

		fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
		WANT(11, copy_file_range(in, NULL, fd, NULL, 11, 0));
		close(in);
		close(fd);
	}
	after(o, "copy_file_range");

	fd = open(P(o, "f"), O_RDWR | O_CLOEXEC);
	age(o, "f");
	before(o, "f", NULL, NULL);
	{
		char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (m != MAP_FAILED) {
			m[0] = 'M';
			msync(m, 4096, MS_SYNC);
			munmap(m, 4096);
		}
	}
	close(fd);
	after(o, "write through mmap, msync, close");
	CONTENT(o, "f");
}

XATTR_SCENARIO(times_metadata)
{
	PUT(o, "f", "x", 1);
	age(o, "f");

	before(o, "f", ".", NULL);
	WANT(0, chmod(P(o, "f"), 0600));
	after(o, "chmod");

	before(o, "f", NULL, NULL);
	WANT(0, chmod(P(o, "f"), 0600));
	after(o, "chmod to the same mode");

	before(o, "f", NULL, NULL);
	WANT(0, chown(P(o, "f"), 1001, 1001));
	after(o, "chown");

	before(o, "f", NULL, NULL);
	WANT(0, chown(P(o, "f"), -1, -1));
	after(o, "chown -1 -1");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
	after(o, "utimensat NULL");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 0, UTIME_OMIT }, { 0, UTIME_OMIT } }, 0));
	after(o, "utimensat OMIT OMIT");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 0, UTIME_NOW }, { 0, UTIME_OMIT } }, 0));
	after(o, "utimensat NOW OMIT");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 0, UTIME_OMIT }, { 0, UTIME_NOW } }, 0));
	after(o, "utimensat OMIT NOW");

	before(o, "f", NULL, NULL);
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 5, 0 }, { 0, UTIME_OMIT } }, 0));
	after(o, "utimensat 5 OMIT");

	WANT(-EINVAL, utimensat(AT_FDCWD, P(o, "f"),
				(struct timespec[2]){ { 5, 1000000000 }, { 0, UTIME_OMIT } }, 0));
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { 123, 456789012 }, { 1234567890, 987654321 } }, 0));
	{
		struct stat st;

		WANT(0, stat(P(o, "f"), &st));
		note(o, "exact times: %lld.%09ld %lld.%09ld", (long long)st.st_atim.tv_sec,
		     st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
	/* times before the epoch and far after it */
	WANT(0, utimensat(AT_FDCWD, P(o, "f"),
			  (struct timespec[2]){ { -1, 5 }, { 4102444800LL, 0 } }, 0));
	{
		struct stat st;

		WANT(0, stat(P(o, "f"), &st));
		note(o, "odd times: %lld.%09ld %lld.%09ld", (long long)st.st_atim.tv_sec,
		     st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}

	before(o, "f", NULL, NULL);
	WANT(0, setxattr(P(o, "f"), "user.x", "1", 1, 0));
	after(o, "setxattr");

	before(o, "f", NULL, NULL);
	WANT(1, getxattr(P(o, "f"), "user.x", o->scratch, 10));
	after(o, "getxattr");

	before(o, "f", NULL, NULL);
	WANT(0, removexattr(P(o, "f"), "user.x"));
	after(o, "removexattr");

	before(o, "f", NULL, NULL);
	WANT(-ENODATA, removexattr(P(o, "f"), "user.x"));
	after(o, "removexattr of nothing");

	before(o, "f", ".", NULL);
	WANT(0, access(P(o, "f"), R_OK));
	after(o, "access");
}

SCENARIO(times_namespace)
{
	struct stat st;
	DIR *d;

	WANT(0, mkdir(P(o, "a"), 0755));
	WANT(0, mkdir(P(o, "b"), 0755));
	PUT(o, "a/f", "x", 1);
	age(o, "a");
	age(o, "b");
	age(o, "a/f");

	before(o, "a", "a/f", NULL);
	WANT(0, link(P(o, "a/f"), P(o, "a/g")));
	after(o, "link");

	before(o, "a", "a/f", NULL);
	WANT(0, unlink(P(o, "a/g")));
	after(o, "unlink of the other name");

	before(o, "a", "a/f", NULL);
	WANT(-EEXIST, link(P(o, "a/f"), P(o, "a/f")));
	after(o, "failed link");

	before(o, "a", "b", "a/f");
	WANT(0, rename(P(o, "a/f"), P(o, "b/f")));
	after(o, "rename across dirs");

	before(o, "b", "b/f", NULL);
	WANT(0, rename(P(o, "b/f"), P(o, "b/f2")));
	after(o, "rename in one dir");

	PUT(o, "b/victim", "v", 1);
	WANT(0, link(P(o, "b/victim"), P(o, "b/victim2")));
	age(o, "b/victim2");
	before(o, "b", "b/f2", "b/victim2");
	WANT(0, rename(P(o, "b/f2"), P(o, "b/victim")));
	after(o, "rename over a file (watching its other name)");

	WANT(0, mkdir(P(o, "a/sub"), 0755));
	age(o, "a/sub");
	before(o, "a", "b", "a/sub");
	WANT(0, rename(P(o, "a/sub"), P(o, "b/sub")));
	after(o, "rename of a directory across dirs");

	before(o, "b", "b/sub", NULL);
	WANT(0, mkdir(P(o, "b/sub/x"), 0755));
	after(o, "mkdir");

	before(o, "b", "b/sub", NULL);
	WANT(0, rmdir(P(o, "b/sub/x")));
	after(o, "rmdir");

	before(o, "b", NULL, NULL);
	WANT(0, symlink("t", P(o, "b/sym")));
	after(o, "symlink");

	age(o, "b/sym");
	before(o, "b/sym", NULL, NULL);
	READLINK(o, "b/sym", 100);
	after(o, "readlink");

	before(o, "b", NULL, NULL);
	WANT(0, mknod(P(o, "b/fifo"), S_IFIFO | 0644, 0));
	after(o, "mknod");

	before(o, "b", "b/victim", NULL);
	WANT(0, unlink(P(o, "b/victim")));
	after(o, "unlink");

	before(o, "b", NULL, NULL);
	WANT(-ENOENT, unlink(P(o, "b/victim")));
	after(o, "failed unlink");

	age(o, "b");
	before(o, "b", NULL, NULL);
	d = opendir(P(o, "b"));
	while (d && readdir(d))
		;
	if (d)
		closedir(d);
	after(o, "readdir");

	before(o, "b", NULL, NULL);
	WANT(0, stat(P(o, "b/sub"), &st));
	after(o, "lookup");

	before(o, "a", "b", NULL);
	RENAME2(0, "a", "b", RENAME_EXCHANGE);
	after(o, "exchange");

	before(o, ".", NULL, NULL);
	{
		int fd = open(P(o, "."), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

		after(o, "O_TMPFILE");
		before(o, ".", NULL, NULL);
		WANT(0, linkat(fd, "", AT_FDCWD, P(o, "tmp"), AT_EMPTY_PATH));
		after(o, "linkat of an O_TMPFILE");
		close(fd);
	}
}

/* nanoseconds are kept, and stamps taken now carry them */
SCENARIO(times_nanoseconds)
{
	long nonzero = 0;
	struct stat st;

	for (int i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		PUT(o, name, "x", 1);
		tick();
		if (!lstat(P(o, "%s", name), &st))
			nonzero += st.st_mtim.tv_nsec != 0;
	}
	EXPECT("some stamps have nanoseconds", nonzero > 0);
}

/* ------------------------------------------------------------------ */
/* Link counts and blocks                                               */

SCENARIO(link_counts_and_blocks)
{
	char page[8192];
	int fd;

	ST(o, ".");
	WANT(0, mkdir(P(o, "d"), 0755));
	ST(o, ".");
	ST(o, "d");
	for (int i = 0; i < 5; i++)
		WANT(0, mkdir(P(o, "d/%d", i), 0755));
	PUT(o, "d/file", "x", 1);
	WANT(0, symlink("x", P(o, "d/sym")));
	ST(o, "d");
	WANT(0, rmdir(P(o, "d/3")));
	ST(o, "d");
	WANT(0, rename(P(o, "d/4"), P(o, "d4")));
	ST(o, "d");
	ST(o, ".");
	ST(o, "d4");

	/* blocks count allocated pages only */
	memset(page, 'b', sizeof(page));
	fd = open(P(o, "s"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	FST(o, "empty", fd);
	WANT(1, write(fd, "x", 1));
	FST(o, "1 byte", fd);
	WANT(4097, pwrite(fd, page, 4097, 4095));
	FST(o, "up to 8192", fd);
	WANT(1, pwrite(fd, "y", 1, 10 * MiB));
	FST(o, "a byte at 10M", fd);
	WANT(0, ftruncate(fd, 100 * MiB));
	FST(o, "truncated to 100M", fd);
	WANT(0, ftruncate(fd, 4096));
	FST(o, "truncated to 4K", fd);
	WANT(0, ftruncate(fd, 0));
	FST(o, "truncated to 0", fd);
	close(fd);
	ST(o, "d/sym");
}

/* ------------------------------------------------------------------ */
/* readdir                                                             */

SCENARIO(readdir_types)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "d/reg", "", 0);
	WANT(0, mkdir(P(o, "d/dir"), 0755));
	WANT(0, symlink("reg", P(o, "d/lnk")));
	WANT(0, mknod(P(o, "d/fifo"), S_IFIFO | 0644, 0));
	WANT(0, mknod(P(o, "d/sock"), S_IFSOCK | 0644, 0));
	WANT(0, mknod(P(o, "d/chr"), S_IFCHR | 0644, makedev(1, 7)));
	WANT(0, mknod(P(o, "d/blk"), S_IFBLK | 0644, makedev(7, 1)));
	LS(o, "d");
	LS(o, "d/dir");
	/* d_ino is the inode number stat gives ("..": the parent's) */
	d = opendir(P(o, "d"));
	while (d && (de = readdir(d))) {
		ino_t ino;

		if (!strcmp(de->d_name, ".."))
			ino = stat(P(o, "."), &st) ? 0 : st.st_ino;
		else
			ino = lstat(P(o, "d/%s", de->d_name), &st) ? 0 : st.st_ino;
		if (ino != de->d_ino)
			note(o, "d_ino of %s is not its st_ino", de->d_name);
	}
	if (d)
		closedir(d);
	/* a removed directory reads as gone */
	{
		int fd;
		char buf[4096];

		WANT(0, mkdir(P(o, "gone"), 0755));
		fd = open(P(o, "gone"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		WANT(0, rmdir(P(o, "gone")));
		WANT(-ENOENT, syscall(SYS_getdents64, fd, buf, sizeof(buf)));
		FST(o, "removed dir", fd);
		WANT(-ENOENT, openat(fd, "x", O_CREAT | O_WRONLY, 0644));
		close(fd);
	}
	WANT(-ENOTDIR, open(P(o, "d/reg"), O_RDONLY | O_DIRECTORY));
	WANT(-EISDIR, open(P(o, "d"), O_WRONLY));
	{
		char buf[10];
		int fd = open(P(o, "d"), O_RDONLY | O_CLOEXEC);

		WANT(-EISDIR, read(fd, buf, sizeof(buf)));
		close(fd);
	}
}

/*
 * Entries that exist throughout a listing are returned exactly once, while
 * others come and go; the listing also works one small getdents at a time.
 */
SCENARIO(readdir_stable_offsets)
{
	enum { N = 300 };
	static unsigned char seen[N + 100];
	char buf[4096];
	int fd, calls = 0, dup = 0, missed = 0;
	long n;

	WANT(0, mkdir(P(o, "d"), 0755));
	for (int i = 0; i < N; i++)
		mknod(P(o, "d/e%03d", i), S_IFREG | 0644, 0);
	memset(seen, 0, sizeof(seen));
	fd = open(P(o, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* small reads: a few entries per call */
	while ((n = syscall(SYS_getdents64, fd, buf, 120)) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			int i;

			if (sscanf(de->d_name, "e%d", &i) == 1 && i >= 0 && i < N + 100) {
				if (seen[i]++)
					dup++;
			}
			off += de->d_reclen;
		}
		if (++calls == 20) {
			/* remove some seen and some unseen entries, add others */
			for (int i = 0; i < N; i += 7)
				unlink(P(o, "d/e%03d", i));
			for (int i = N; i < N + 100; i++)
				mknod(P(o, "d/e%03d", i), S_IFREG | 0644, 0);
		}
	}
	rec(o, "getdents64 end", n);
	close(fd);
	for (int i = 0; i < N; i++)
		if (i % 7 && !seen[i])
			missed++;
	note(o, "calls > 20: %d", calls > 20);
	WANT(0, dup);
	WANT(0, missed);
}

SCENARIO(telldir_seekdir)
{
	long pos[64];
	char name[64][256], again[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	WANT(0, mkdir(P(o, "d"), 0755));
	for (int i = 0; i < 40; i++)
		mknod(P(o, "d/n%02d", i), S_IFREG | 0644, 0);
	d = opendir(P(o, "d"));
	if (!d) {
		rec(o, "opendir", -1);
		return;
	}
	for (;;) {
		long p = telldir(d);

		de = readdir(d);
		if (!de || n == 64)
			break;
		pos[n] = p;
		snprintf(name[n], sizeof(name[n]), "%s", de->d_name);
		n++;
	}
	note(o, "%d entries", n);
	/* going back to any remembered position returns the same entry */
	for (int i = n - 1; i >= 0; i -= 3) {
		seekdir(d, pos[i]);
		de = readdir(d);
		snprintf(again, sizeof(again), "%s", de ? de->d_name : "(end)");
		if (strcmp(again, name[i]))
			want(o, "seekdir returns the same entry", 0, -1);
	}
	/* removing the entry at a position: seekdir there gives the next one */
	for (int i = 10; i < 14; i++) {
		if (name[i][0] == '.')
			continue;
		WANT(0, unlink(P(o, "d/%s", name[i])));
	}
	seekdir(d, pos[10]);
	de = readdir(d);
	snprintf(again, sizeof(again), "%s", de ? de->d_name : "(end)");
	EXPECT("after removals seekdir goes on with the next entry",
	       !strcmp(again, name[14]) || (name[14][0] == '.'));
	rewinddir(d);
	n = 0;
	while (readdir(d))
		n++;
	note(o, "after rewinddir %d entries", n);
	closedir(d);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

SCENARIO(names)
{
	static const char *const odd[] = {
		"with\nnewline", "\xff\xfe", "with space", " ", "  lead", "trail ",
		"-dash", "back\\slash", "tab\there", "\x01\x02", "caf\xc3\xa9", "...",
		".hidden", "a:b", "*?[]", "\x7f",
	};
	char name[300];
	int fd;

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		fd = open(P(o, "%s", odd[i]), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		want(o, "create an odd name", 1, fd >= 0);
		if (fd >= 0) {
			WANT(1, write(fd, "x", 1));
			close(fd);
		}
	}
	LS(o, ".");
	WANT(0, rename(P(o, "with\nnewline"), P(o, "with\nnewline\n2")));
	WANT(0, mkdir(P(o, "\xff"), 0755));
	WANT(0, rename(P(o, "\xff\xfe"), P(o, "\xff/\xfe")));
	LS(o, "\xff");
	/* 255 bytes is the limit */
	memset(name, 'n', sizeof(name));
	name[255] = 0;
	fd = open(P(o, "%s", name), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	want(o, "create a 255-byte name", 1, fd >= 0);
	close(fd);
	WANT(0, mkdir(P(o, "d%.254s", name), 0755));
	WANT(0, symlink("x", P(o, "s%.254s", name)));
	WANT(0, link(P(o, "%s", name), P(o, "l%.254s", name)));
	WANT(0, rename(P(o, "%s", name), P(o, "r%.254s", name)));
	name[255] = 'n';
	name[256] = 0;
	WANT(-ENAMETOOLONG, open(P(o, "%s", name), O_WRONLY | O_CREAT, 0644));
	WANT(-ENAMETOOLONG, open(P(o, "%s", name), O_RDONLY));
	WANT(-ENAMETOOLONG, mkdir(P(o, "%s", name), 0755));
	WANT(-ENAMETOOLONG, symlink("x", P(o, "%s", name)));
	WANT(-ENAMETOOLONG, mknod(P(o, "%s", name), S_IFIFO | 0644, 0));
	WANT(-ENAMETOOLONG, link(P(o, "r%.254s", name), P(o, "%s", name)));
	WANT(-ENAMETOOLONG, rename(P(o, "r%.254s", name), P(o, "%s", name)));
	WANT(-ENAMETOOLONG, unlink(P(o, "%s", name)));
	WANT(-ENAMETOOLONG, rmdir(P(o, "%s", name)));
	WANT(-ENAMETOOLONG, access(P(o, "%s/x", name), F_OK));
	{
		struct stat st;

		WANT(-ENAMETOOLONG, stat(P(o, "%s", name), &st));
	}
	LS(o, ".");
	{
		struct statfs sf;

		WANT(0, statfs(o->root, &sf));
		note(o, "f_namelen %ld", (long)sf.f_namelen);
	}
}

/* ------------------------------------------------------------------ */
/* Sparse files and big offsets                                         */

SCENARIO(sparse_and_big_offsets)
{
	char buf[4];
	int fd = open(P(o, "f"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	WANT(3, pwrite(fd, "end", 3, MiB + 5));
	FST(o, "after write at 1M+5", fd);
	data_note(o, "content", fd, 0, 2 * MiB);
	WANT(1, pwrite(fd, "T", 1, 1LL << 40));
	FST(o, "after write at 1T", fd);
	data_note(o, "near 1T", fd, (1LL << 40) - 10, 20);
	WANT(1, pwrite(fd, "E", 1, LLONG_MAX - 1));
	FST(o, "after write at 2^63-2", fd);
	/* offset + length beyond 2^63-1 is refused before the filesystem */
	WANT(-EINVAL, pwrite(fd, "FG", 2, LLONG_MAX - 1));
	WANT(-EINVAL, pwrite(fd, "X", 1, LLONG_MAX));
	WANT(-EINVAL, pwrite(fd, "X", 1, -1));
	WANT(1, pread(fd, buf, 1, LLONG_MAX - 1));
	WANT(-EINVAL, pread(fd, buf, 4, LLONG_MAX - 1));
	WANT(LLONG_MAX, lseek(fd, 0, SEEK_END));
	WANT(-EINVAL, lseek(fd, 1, SEEK_END));
	WANT(LLONG_MAX - 1, lseek(fd, -1, SEEK_END));
	WANT(1, write(fd, "Z", 1));
	DO(write(fd, "Z", 1));		/* at 2^63-1 */
	WANT(0, ftruncate(fd, 1LL << 50));
	FST(o, "truncated to 2^50", fd);
	WANT(0, ftruncate(fd, LLONG_MAX));
	FST(o, "truncated to 2^63-1", fd);
	WANT(-EINVAL, ftruncate(fd, -1));
	WANT(0, ftruncate(fd, 100));
	FST(o, "truncated to 100", fd);
	close(fd);
	fd = open(P(o, "a"), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	WANT(2, pwrite(fd, "ab", 2, 100));	/* O_APPEND: at the end */
	WANT(2, pwrite(fd, "cd", 2, 0));
	FST(o, "append file", fd);
	close(fd);
	CONTENT(o, "a");
	CONTENT(o, "f");
}

/* ------------------------------------------------------------------ */
/* statfs and the size= / nr_inodes= limits                             */

static void statfs_note(struct obs *o, const char *what)
{
	struct statfs sf;

	if (statfs(o->root, &sf)) {
		rec(o, what, -1);
		return;
	}
	note(o, "%s: bsize %ld frsize %ld blocks %llu bfree %llu bavail %llu files %llu ffree %llu namelen %ld flags %#lx",
	     what, (long)sf.f_bsize, (long)sf.f_frsize, (unsigned long long)sf.f_blocks,
	     (unsigned long long)sf.f_bfree, (unsigned long long)sf.f_bavail,
	     (unsigned long long)sf.f_files, (unsigned long long)sf.f_ffree,
	     (long)sf.f_namelen, (unsigned long)sf.f_flags);
}

SCENARIO(statfs_defaults)
{
	statfs_note(o, "fresh");
	PUT(o, "f", o->scratch, 65536);
	WANT(0, mkdir(P(o, "d"), 0755));
	statfs_note(o, "64K and two inodes more");
}

/* fill with 4K writes until ENOSPC: how much went in */
static void fill(struct obs *o, const char *rel)
{
	char buf[4096];
	long long total = 0;
	ssize_t n;
	int fd = open(P(o, "%s", rel), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	memset(buf, 'f', sizeof(buf));
	while ((n = write(fd, buf, sizeof(buf))) > 0)
		total += n;
	note(o, "filled %s: %lld bytes, then %s", rel, total,
	     n < 0 ? ename(errno) : "a zero write");
	FST(o, rel, fd);
	close(fd);
}

static void limits(struct obs *o)
{
	struct stat st;
	int made = 0, fd;
	long v;

	statfs_note(o, "fresh");
	fill(o, "big");
	statfs_note(o, "full");
	/* a full filesystem still works */
	WANT(0, stat(P(o, "big"), &st));
	fd = open(P(o, "big"), O_WRONLY | O_CLOEXEC);
	WANT(-ENOSPC, fallocate(fd, 0, 0, 8 * MiB));
	close(fd);
	fd = open(P(o, "small"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	WANT(-ENOSPC, write(fd, "x", 1));
	close(fd);
	WANT(0, truncate(P(o, "big"), 512 * KiB));
	statfs_note(o, "after truncating to 512K");
	fill(o, "small");
	WANT(0, unlink(P(o, "big")));
	WANT(0, unlink(P(o, "small")));
	statfs_note(o, "empty again");

	/* inodes */
	for (;;) {
		v = mknod(P(o, "i%d", made), S_IFREG | 0644, 0);
		if (v)
			break;
		made++;
	}
	note(o, "made %d inodes, then %s", made, ename(errno));
	statfs_note(o, "no inodes left");
	WANT(-ENOSPC, mkdir(P(o, "dir"), 0755));
	WANT(-ENOSPC, symlink("x", P(o, "sym")));
	WANT(-ENOSPC, open(P(o, "new"), O_CREAT | O_WRONLY, 0644));
	WANT(-ENOSPC, open(P(o, "."), O_TMPFILE | O_WRONLY, 0644));
	DO(link(P(o, "i0"), P(o, "hardlink")));
	WANT(0, unlink(P(o, "i1")));
	WANT(0, mkdir(P(o, "dir"), 0755));
	WANT(0, stat(P(o, "dir"), &st));
	statfs_note(o, "after one more");
}

TEST(limits_size_and_nr_inodes)
{
	char tmp[64];
	struct ramfuse rf;
	struct obs *t, *r;

	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), "size=4m,nr_inodes=50"));
	if (mount_ramfuse(&rf, "size=4m,nr_inodes=50")) {
		tmpfs_umount(tmp);
		ASSERT_EQ(0, 1) TH_LOG("%s", rf.err);
	}
	t = obs_new(tmp, "tmpfs");
	r = obs_new(rf.mnt, "ramfuse");
	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, r);
	limits(t);
	limits(r);
	EXPECT_EQ(0, t->bad) TH_LOG("%s", t->badlog);
	EXPECT_EQ(0, r->bad) TH_LOG("%s", r->badlog);
	EXPECT_EQ(0, log_diff(_metadata, t, r));
	/* the daemon lived through it */
	EXPECT_TRUE(is_mounted(rf.mnt));
	EXPECT_FALSE(pid_gone(rf.pid));
	obs_free(t);
	obs_free(r);
	tmpfs_umount(tmp);
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
	EXPECT_FALSE(is_mounted(tmp));
}

/* size=0 and nr_inodes=0 mean "no limit": statfs reports zeros */
TEST(limits_unlimited_statfs)
{
	char tmp[64];
	struct ramfuse rf;
	struct obs *t, *r;

	REQUIRE_MOUNT();
	ASSERT_EQ(0, tmpfs_mount(tmp, sizeof(tmp), "size=0,nr_inodes=0"));
	if (mount_ramfuse(&rf, "size=0,nr_inodes=0")) {
		tmpfs_umount(tmp);
		ASSERT_EQ(0, 1) TH_LOG("%s", rf.err);
	}
	t = obs_new(tmp, "tmpfs");
	r = obs_new(rf.mnt, "ramfuse");
	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, r);
	statfs_note(t, "unlimited");
	statfs_note(r, "unlimited");
	EXPECT_EQ(0, log_diff(_metadata, t, r));
	obs_free(t);
	obs_free(r);
	tmpfs_umount(tmp);
	EXPECT_EQ(0, rf_cleanup(&rf)) TH_LOG("%s", rf.err);
}

TEST_HARNESS_MAIN
