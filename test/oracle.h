/* SPDX-License-Identifier: MIT */
/*
 * oracle.h - tmpfs as the oracle: the posix_*_test binaries run one
 * scenario on a tmpfs and on a ramfuse mounted side by side, and compare
 * what a program sees.
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
 *
 * oracle.c holds the log and its helpers (no harness); the fixture and the
 * SCENARIO macros below need a kselftest harness included first.
 */
#ifndef RAMFUSE_TEST_ORACLE_H
#define RAMFUSE_TEST_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fuse_util.h"


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
#ifndef FS_IMMUTABLE_FL
#define FS_IMMUTABLE_FL 0x00000010
#endif
#endif

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

int xstatx(int dirfd, const char *path, int flags, unsigned mask,
	   struct statx_buf *buf);

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

/* in scenarios, "o" is the log */
#define DO(call) rec(o, #call, (long)(call))
#define WANT(expect, call) want(o, #call, (long)(expect), (long)(call))
#define EXPECT(what, cond) want(o, what, 1, (long)!!(cond))

struct obs *obs_new(const char *root, const char *fsname);
void obs_free(struct obs *o);
void __attribute__((format(printf, 2, 3))) note(struct obs *o, const char *fmt, ...);
/* An absolute path in this mount: P(o, "dir/%s", name). */
const char *__attribute__((format(printf, 2, 3))) P(struct obs *o, const char *fmt, ...);
const char *ename(int e);
/* Record "what = ret" (ret -1 becomes -errno); returns ret or -errno. */
long rec(struct obs *o, const char *what, long ret);
/* rec, and the specification: the call must give want (-errno on failure) */
long want(struct obs *o, const char *what, long expect, long ret);
void stat_note(struct obs *o, const char *what, const struct stat *st);
/* lstat a path of this mount and record what tmpfs defines */
void ST(struct obs *o, const char *rel);
void FST(struct obs *o, const char *what, int fd);
uint64_t fnv(uint64_t h, const void *p, size_t n);
/* bytes [off, off+len) of fd: how many could be read and their hash */
void data_note(struct obs *o, const char *what, int fd, off_t off, size_t len);
/* the whole content of a file */
void CONTENT(struct obs *o, const char *rel);
int cmp_str(const void *a, const void *b);
/* the sorted listing of a directory, with d_type, as one line */
void LS(struct obs *o, const char *rel);
void READLINK(struct obs *o, const char *rel, size_t size);
/* write a whole file */
long PUT(struct obs *o, const char *rel, const char *data, size_t len);
/* Timestamps: remember them (SNAP), then record which changed (TIMES). */
void SNAP(struct obs *o, int slot, const char *rel);
void TIMES(struct obs *o, int slot, const char *after);
/* let the coarse clock move on, so a change shows as "later" */
void tick(void);
long ren2(struct obs *o, const char *from, const char *to, unsigned flags);

/* become another user in a forked child; the child runs the block */
pid_t as_user_begin(struct obs *o, uid_t uid, gid_t gid, gid_t supp);
__attribute__((noreturn)) pid_t as_user_end(void);
#define AS_USER(...) AS_USER_(__VA_ARGS__)
#define AS_USER_(uid, gid, supp) \
	for (pid_t _as = as_user_begin(o, uid, gid, supp); _as == 0; _as = as_user_end())

#define RENAME2(expect, from, to, flags) \
	want(o, "renameat2 " from " -> " to " " #flags, expect, ren2(o, from, to, flags))

/* the users that AS_USER plays */
#define ALICE 1001, 1001, 0	/* owns files below */
#define BOB 1002, 2000, 0	/* in group 2000 by his primary group */
#define CAROL 1003, 1003, 2000	/* in group 2000 as a supplementary group */
#define DAVE 1004, 1004, 0	/* nobody special */

#ifdef FIXTURE
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
static inline int log_diff(struct __test_metadata *_metadata, const struct obs *a,
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
static inline void both(struct __test_metadata *_metadata, const char *tmp,
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

#endif

#endif /* RAMFUSE_TEST_ORACLE_H */
