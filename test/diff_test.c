// SPDX-License-Identifier: MIT
/*
 * Differential test: a seeded random sequence of file-system calls runs step
 * by step on a tmpfs and on a ramfuse; every step's outcome (return value,
 * errno, the data read, stat fields tmpfs defines, sorted listings, xattr
 * values) must be the same on both.
 *
 * The namespace is small (four names, three levels) so that collisions,
 * ENOENT, EEXIST, ENOTEMPTY, ENOTDIR and friends are frequent.  Four
 * descriptor slots carry open files across steps.  Steps are generated from
 * the seed alone, never from results, so any subsequence can be replayed.
 *
 * On a mismatch the test prints the seed and the step, then shrinks the
 * failing sequence (dropping chunks of steps, each candidate replayed on
 * fresh mounts) and prints the shortest one it found, ready to turn into a
 * test of its own.
 *
 * Environment:
 *   DIFF_SEEDS=1,5,9    these seeds
 *   DIFF_ROUNDS=N       seeds 1..N (default 4)
 *   DIFF_STEPS=N        steps per seed (default 2000)
 *   DIFF_SKIP=op,op     do not generate these operations (triage: e.g.
 *                       DIFF_SKIP=copy_file_range to look past a known bug)
 *   DIFF_SHRINK=N       at most N replays while shrinking (default 300)
 * Variants: default_permissions or not, passthrough off, and root with the
 * capabilities that override permissions dropped (both permission modes).
 * Not compared: inode numbers, st_dev, timestamps.
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <grp.h>

#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif
/* linux/fs.h's struct fsxattr and its ioctls, which musl lacks */
struct fsxattr_abi {
	uint32_t xflags, extsize, nextents, projid, cowextsize;
	unsigned char pad[8];
};
#define FSGETXATTR_IOC _IOR('X', 31, struct fsxattr_abi)
#define FSSETXATTR_IOC _IOW('X', 32, struct fsxattr_abi)

#define NSLOTS 4
#define OUT_MAX 4096

/* ------------------------------------------------------------------ */
/* The operations                                                      */

enum op {
	OP_OPEN, OP_CREAT, OP_CLOSE, OP_WRITE, OP_PWRITE, OP_READ, OP_PREAD,
	OP_FTRUNCATE, OP_TRUNCATE, OP_FALLOCATE, OP_LSEEK, OP_FSTAT, OP_STAT,
	OP_LSTAT, OP_MKDIR, OP_RMDIR, OP_UNLINK, OP_RENAME, OP_RENAME2, OP_LINK,
	OP_SYMLINK, OP_READLINK, OP_CHMOD, OP_UTIMENSAT, OP_SETXATTR,
	OP_GETXATTR, OP_LISTXATTR, OP_REMOVEXATTR, OP_READDIR, OP_FSYNC,
	OP_COPY_FILE_RANGE, OP_FSSETXATTR, OP_SETACL, OP_GETACL, OP_ACCESS_AS,
	OP_COUNT
};

static const struct {
	const char *name;
	int weight;
} ops[OP_COUNT] = {
	[OP_OPEN] = { "open", 10 }, [OP_CREAT] = { "creat", 4 },
	[OP_CLOSE] = { "close", 6 }, [OP_WRITE] = { "write", 8 },
	[OP_PWRITE] = { "pwrite", 8 }, [OP_READ] = { "read", 6 },
	[OP_PREAD] = { "pread", 6 }, [OP_FTRUNCATE] = { "ftruncate", 4 },
	[OP_TRUNCATE] = { "truncate", 3 }, [OP_FALLOCATE] = { "fallocate", 4 },
	[OP_LSEEK] = { "lseek", 5 }, [OP_FSTAT] = { "fstat", 6 },
	[OP_STAT] = { "stat", 6 }, [OP_LSTAT] = { "lstat", 4 },
	[OP_MKDIR] = { "mkdir", 8 }, [OP_RMDIR] = { "rmdir", 5 },
	[OP_UNLINK] = { "unlink", 6 }, [OP_RENAME] = { "rename", 8 },
	[OP_RENAME2] = { "renameat2", 5 }, [OP_LINK] = { "link", 5 },
	[OP_SYMLINK] = { "symlink", 4 }, [OP_READLINK] = { "readlink", 3 },
	[OP_CHMOD] = { "chmod", 4 }, [OP_UTIMENSAT] = { "utimensat", 3 },
	[OP_SETXATTR] = { "setxattr", 4 }, [OP_GETXATTR] = { "getxattr", 3 },
	[OP_LISTXATTR] = { "listxattr", 3 }, [OP_REMOVEXATTR] = { "removexattr", 3 },
	[OP_READDIR] = { "readdir", 6 }, [OP_FSYNC] = { "fsync", 2 },
	[OP_COPY_FILE_RANGE] = { "copy_file_range", 3 },
	[OP_FSSETXATTR] = { "fssetxattr", 2 },
	[OP_SETACL] = { "setacl", 4 }, [OP_GETACL] = { "getacl", 2 },
	[OP_ACCESS_AS] = { "access_as", 4 },
};

/* One step, fully decided by the generator. */
struct step {
	uint8_t op, slot, slot2, p1, p2;
	uint32_t a, b, c;
};

/* the namespace: "" (the root) and paths over four names, three deep */
static const char *const paths[] = {
	"a", "b", "c", "d",
	"a/a", "a/b", "a/c", "a/d", "b/a", "b/b", "b/c", "c/a", "c/b", "d/a",
	"a/a/a", "a/a/b", "a/b/a", "b/a/a", "b/b/b", "c/a/a",
	"",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static const char *const link_targets[] = { "a", "b/a", "../a", "nonexistent", "a/a/a", "." };
static const char *const xattr_names[] = { "user.a", "user.b", "trusted.t", "security.s" };

/* tmpfs keeps user.* xattrs only since Linux 6.6: on older kernels there is
 * no oracle for them, and the sequences use the other namespaces only. */
static bool tmpfs_user_xattrs = true;

static const char *xattr_name(uint32_t c)
{
	return tmpfs_user_xattrs ? xattr_names[c % 4] : xattr_names[2 + c % 2];
}
static const uint32_t sizes[] = { 0, 1, 7, 100, 4095, 4096, 4097, 10000, 65536, 70000 };
static const uint64_t offsets[] = { 0, 1, 100, 4095, 4096, 8192, 65536, 100000,
				    1 << 20, 3 << 20, 1ULL << 40 };
static const mode_t modes[] = { 0644, 0600, 0755, 0700, 0444, 0000, 04755, 02755, 01777, 0666 };

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Operations a variant does not generate: without default_permissions the
 * kernel walks paths asking nothing about search permission, so an op on
 * two paths meets the other path's ENOENT before ramfuse can say EACCES
 * about the first (tmpfs says EACCES).  Root with its capabilities never
 * lacks search permission; root without them does. */
static const char *variant_skip = "";

static bool skipped(int op)
{
	const char *list = getenv("DIFF_SKIP");

	return (list && opt_has(list, ops[op].name)) || opt_has(variant_skip, ops[op].name);
}

static void gen(uint64_t *rng, struct step *s)
{
	int total = 0, pick;

	for (int i = 0; i < OP_COUNT; i++)
		total += ops[i].weight;
	pick = (int)(rnd(rng) % (uint64_t)total);
	for (s->op = 0; pick >= ops[s->op].weight; s->op++)
		pick -= ops[s->op].weight;
	s->slot = (uint8_t)(rnd(rng) % NSLOTS);
	s->slot2 = (uint8_t)(rnd(rng) % NSLOTS);
	/* file paths mostly shallow; the root only where it makes sense */
	s->p1 = (uint8_t)(rnd(rng) % (NPATHS - 1));
	s->p2 = (uint8_t)(rnd(rng) % (NPATHS - 1));
	if (s->op == OP_READDIR || s->op == OP_STAT || s->op == OP_CHMOD ||
	    s->op == OP_SETXATTR || s->op == OP_LISTXATTR)
		if (rnd(rng) % 6 == 0)
			s->p1 = NPATHS - 1;
	s->a = (uint32_t)rnd(rng);
	s->b = (uint32_t)rnd(rng);
	s->c = (uint32_t)rnd(rng);
	if (skipped(s->op))
		s->op = OP_STAT;	/* the same number of PRNG draws either way */
}

/* ------------------------------------------------------------------ */
/* Running a step on one mount                                         */

struct fsx {
	const char *root;
	int fd[NSLOTS];
	char pa[RF_PATH + 40], pb[RF_PATH + 40];
};

static void res(char *buf, size_t len, long v)
{
	if (v == -1)
		strappendf(buf, len, " = -%d (%s)", errno, strerror(errno));
	else
		strappendf(buf, len, " = %ld", v);
}

static uint64_t hash(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

static void stat_out(char *buf, size_t len, int rc, const struct stat *st)
{
	if (rc) {
		res(buf, len, -1);
		return;
	}
	strappendf(buf, len, " = mode %06o nlink %lu size %lld blocks %lld uid %u gid %u",
	    (unsigned)st->st_mode, (unsigned long)st->st_nlink, (long long)st->st_size,
	    (long long)st->st_blocks, (unsigned)st->st_uid, (unsigned)st->st_gid);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing(char *buf, size_t len, const char *path)
{
	char names[64][300], *sorted[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(path);

	if (!d) {
		res(buf, len, -1);
		return;
	}
	while ((de = readdir(d)) && n < 64) {
		snprintf(names[n], sizeof(names[n]), "%s/%d", de->d_name, de->d_type);
		sorted[n] = names[n];
		n++;
	}
	closedir(d);
	qsort(sorted, n, sizeof(sorted[0]), cmp_str);
	strappendf(buf, len, " =");
	for (size_t i = 0; i < n; i++)
		strappendf(buf, len, " %s", sorted[i]);
}

static const char *P(struct fsx *f, char *buf, int idx)
{
	snprintf(buf, RF_PATH + 40, "%s/%s", f->root, paths[idx]);
	return buf;
}

/* describe and run one step; the description never names the mount */
/* POSIX ACLs as setfacl writes them (system.posix_acl_*, version 2,
 * entries tag/perm/id sorted by tag then id): which entries a step has and
 * their permissions come from its numbers, and one in eight is malformed
 * (order, a missing mask, bad permission bits, a bad version) for the
 * kernel's and ramfuse's errors to meet tmpfs's. */
static size_t make_acl(const struct step *s, unsigned char *v)
{
	struct { uint16_t tag, perm; uint32_t id; } e[8];
	uint32_t version = 2, a = s->a, b = s->b;
	size_t n = 0;
	bool named = false;

	e[n++] = (typeof(e[0])){ 0x01, b & 7, UINT32_MAX };
	if (a & 1)
		e[n++] = (typeof(e[0])){ 0x02, (b >> 3) & 7, 1001 }, named = true;
	if (a & 2)
		e[n++] = (typeof(e[0])){ 0x02, (b >> 6) & 7, 1002 }, named = true;
	e[n++] = (typeof(e[0])){ 0x04, (b >> 9) & 7, UINT32_MAX };
	if (a & 4)
		e[n++] = (typeof(e[0])){ 0x08, (b >> 12) & 7, 1002 }, named = true;
	if (named || (a & 8))
		e[n++] = (typeof(e[0])){ 0x10, (b >> 15) & 7, UINT32_MAX };
	e[n++] = (typeof(e[0])){ 0x20, (b >> 18) & 7, UINT32_MAX };
	if (s->c % 8 == 0) {
		switch ((s->c >> 3) % 4) {
		case 0: { typeof(e[0]) t = e[0]; e[0] = e[n - 1]; e[n - 1] = t; break; }
		case 1: if (named) { e[n - 2] = e[n - 1]; n--; } else e[0].perm = 8; break;
		case 2: e[n - 1].perm |= 0x10; break;
		case 3: version = 1; break;
		}
	}
	memcpy(v, &version, 4);
	memcpy(v + 4, e, n * sizeof(e[0]));
	return 4 + n * sizeof(e[0]);
}

/* Another user (uid/gid pairs, one in a named group) asks for access:
 * a child that enters the mount as root, then drops to the user. */
static long access_as(const char *root, const char *path, const struct step *s)
{
	static const uint32_t ids[][2] = { { 1001, 1001 }, { 1002, 1002 }, { 1001, 1002 },
					   { 65534, 65534 } };
	static const int masks[] = { R_OK, W_OK, X_OK, R_OK | W_OK };
	const uint32_t *id = ids[s->a % 4];
	pid_t pid = fork();

	if (pid == 0) {
		gid_t g = id[1];
		if (chdir(root) || setgroups(1, &g) || setresgid(g, g, g) ||
		    setresuid(id[0], id[0], id[0]))
			_exit(200);
		if (s->b & 1) {
			int fd = open(*path ? path : ".", (s->b & 2) ? O_WRONLY : O_RDONLY);
			_exit(fd >= 0 ? 0 : errno);
		}
		_exit(access(*path ? path : ".", masks[s->b % 4]) ? errno : 0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1000;
	return WEXITSTATUS(st);
}

static void run_step(struct fsx *f, const struct step *s, char *buf, size_t len)
{
	const char *p1 = P(f, f->pa, s->p1), *p2 = P(f, f->pb, s->p2);
	int *fd = &f->fd[s->slot], fd2 = f->fd[s->slot2];
	uint32_t size = sizes[s->a % 10];
	uint64_t off = offsets[s->b % 11];
	static unsigned char data[1 << 17];
	struct stat st;
	long v;

	buf[0] = 0;
	switch (s->op) {
	case OP_OPEN: {
		static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
		static const int extra[] = { O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY };
		int flags = acc[s->a % 3] | O_CLOEXEC;

		for (int i = 0; i < 5; i++)
			if (s->b & (1u << (i * 3)) && (s->b >> (i * 3 + 1) & 1))
				flags |= extra[i];
		if (*fd >= 0)
			close(*fd);
		strappendf(buf, len, "slot %d = open(%s, %#o, %04o)", s->slot, paths[s->p1],
		    flags & ~O_CLOEXEC, (unsigned)modes[s->c % 10]);
		*fd = open(p1, flags, modes[s->c % 10]);
		strappendf(buf, len, " -> %s", *fd >= 0 ? "ok" : strerror(errno));
		return;
	}
	case OP_CREAT:
		if (*fd >= 0)
			close(*fd);
		strappendf(buf, len, "slot %d = creat(%s, %04o)", s->slot, paths[s->p1],
		    (unsigned)modes[s->c % 10]);
		*fd = creat(p1, modes[s->c % 10]);
		strappendf(buf, len, " -> %s", *fd >= 0 ? "ok" : strerror(errno));
		return;
	case OP_CLOSE:
		strappendf(buf, len, "close(slot %d)", s->slot);
		res(buf, len, close(*fd));
		*fd = -1;
		return;
	case OP_WRITE:
	case OP_PWRITE:
		pattern_fill(data, size, off, s->c);
		if (s->op == OP_WRITE) {
			strappendf(buf, len, "write(slot %d, %u bytes)", s->slot, size);
			res(buf, len, write(*fd, data, size));
		} else {
			strappendf(buf, len, "pwrite(slot %d, %u bytes, %llu)", s->slot, size,
			    (unsigned long long)off);
			res(buf, len, pwrite(*fd, data, size, (off_t)off));
		}
		return;
	case OP_READ:
	case OP_PREAD:
		if (s->op == OP_READ) {
			strappendf(buf, len, "read(slot %d, %u)", s->slot, size);
			v = read(*fd, data, size);
		} else {
			strappendf(buf, len, "pread(slot %d, %u, %llu)", s->slot, size,
			    (unsigned long long)off);
			v = pread(*fd, data, size, (off_t)off);
		}
		res(buf, len, v);
		if (v > 0)
			strappendf(buf, len, " hash %016llx", (unsigned long long)hash(data, (size_t)v));
		return;
	case OP_FTRUNCATE:
		strappendf(buf, len, "ftruncate(slot %d, %llu)", s->slot, (unsigned long long)(off + size));
		res(buf, len, ftruncate(*fd, (off_t)(off + size)));
		return;
	case OP_TRUNCATE:
		strappendf(buf, len, "truncate(%s, %u)", paths[s->p1], size);
		res(buf, len, truncate(p1, size));
		return;
	case OP_FALLOCATE: {
		static const int fm[] = { 0, FALLOC_FL_KEEP_SIZE,
			FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE };
		int mode = fm[s->c % 4];

		strappendf(buf, len, "fallocate(slot %d, %#x, %llu, %u)", s->slot, mode,
		    (unsigned long long)off, size);
		res(buf, len, fallocate(*fd, mode, (off_t)off, size));
		return;
	}
	case OP_LSEEK: {
		static const int wh[] = { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE };
		int w = wh[s->c % 5];
		off_t o = w == SEEK_END || w == SEEK_CUR ? (off_t)(s->a % 200) - 100 : (off_t)off;

		strappendf(buf, len, "lseek(slot %d, %lld, %d)", s->slot, (long long)o, w);
		/* FUSE directories seek with generic_file_llseek (SEEK_END,
		 * SEEK_DATA, SEEK_HOLE by i_size), tmpfs's only SEEK_SET/CUR:
		 * a kernel difference no daemon can change, so not compared */
		if (w != SEEK_SET && w != SEEK_CUR && !fstat(*fd, &st) && S_ISDIR(st.st_mode)) {
			strappendf(buf, len, " on a directory: not compared");
			return;
		}
		res(buf, len, lseek(*fd, o, w));
		return;
	}
	case OP_FSTAT:
		strappendf(buf, len, "fstat(slot %d)", s->slot);
		stat_out(buf, len, fstat(*fd, &st), &st);
		return;
	case OP_STAT:
		strappendf(buf, len, "stat(%s)", paths[s->p1]);
		stat_out(buf, len, stat(p1, &st), &st);
		return;
	case OP_LSTAT:
		strappendf(buf, len, "lstat(%s)", paths[s->p1]);
		stat_out(buf, len, lstat(p1, &st), &st);
		return;
	case OP_MKDIR:
		strappendf(buf, len, "mkdir(%s, %04o)", paths[s->p1], (unsigned)modes[s->c % 10]);
		res(buf, len, mkdir(p1, modes[s->c % 10]));
		return;
	case OP_RMDIR:
		strappendf(buf, len, "rmdir(%s)", paths[s->p1]);
		res(buf, len, rmdir(p1));
		return;
	case OP_UNLINK:
		strappendf(buf, len, "unlink(%s)", paths[s->p1]);
		res(buf, len, unlink(p1));
		return;
	case OP_RENAME:
		strappendf(buf, len, "rename(%s, %s)", paths[s->p1], paths[s->p2]);
		res(buf, len, rename(p1, p2));
		return;
	case OP_RENAME2: {
		static const unsigned rf[] = {
			0, RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT,
			RENAME_WHITEOUT | RENAME_NOREPLACE, RENAME_WHITEOUT | RENAME_EXCHANGE,
		};
		unsigned flags = rf[s->c % 6];

		strappendf(buf, len, "renameat2(%s, %s, %u)", paths[s->p1], paths[s->p2], flags);
		res(buf, len, syscall(SYS_renameat2, AT_FDCWD, p1, AT_FDCWD, p2, flags));
		return;
	}
	case OP_LINK:
		strappendf(buf, len, "link(%s, %s)", paths[s->p1], paths[s->p2]);
		res(buf, len, link(p1, p2));
		return;
	case OP_SYMLINK: {
		const char *t = link_targets[s->c % 6];

		strappendf(buf, len, "symlink(%s, %s)", t, paths[s->p1]);
		res(buf, len, symlink(t, p1));
		return;
	}
	case OP_READLINK: {
		char t[256];

		strappendf(buf, len, "readlink(%s)", paths[s->p1]);
		v = readlink(p1, t, sizeof(t));
		res(buf, len, v);
		if (v > 0)
			strappendf(buf, len, " \"%.*s\"", (int)v, t);
		return;
	}
	case OP_CHMOD:
		strappendf(buf, len, "chmod(%s, %04o)", paths[s->p1], (unsigned)modes[s->c % 10]);
		res(buf, len, chmod(p1, modes[s->c % 10]));
		return;
	case OP_UTIMENSAT: {
		struct timespec ts[2] = { { 1000000 + s->a % 1000, s->b % 1000000000 },
					  { 2000000, UTIME_NOW } };

		if (s->c & 1)
			ts[1].tv_nsec = UTIME_OMIT;
		strappendf(buf, len, "utimensat(%s, %s)", paths[s->p1], s->c & 1 ? "T OMIT" : "T NOW");
		res(buf, len, utimensat(AT_FDCWD, p1, ts, 0));
		return;
	}
	case OP_SETXATTR: {
		static const int xf[] = { 0, XATTR_CREATE, XATTR_REPLACE };
		const char *name = xattr_name(s->c);
		uint32_t vlen = s->a % 3 == 0 ? 0 : s->a % 300;

		pattern_fill(data, vlen, 0, s->b);
		strappendf(buf, len, "setxattr(%s, %s, %u bytes, %d)", paths[s->p1], name, vlen,
		    xf[s->b % 3]);
		res(buf, len, setxattr(p1, name, data, vlen, xf[s->b % 3]));
		return;
	}
	case OP_GETXATTR: {
		const char *name = xattr_name(s->c);

		strappendf(buf, len, "getxattr(%s, %s)", paths[s->p1], name);
		v = getxattr(p1, name, data, sizeof(data));
		res(buf, len, v);
		if (v > 0)
			strappendf(buf, len, " hash %016llx", (unsigned long long)hash(data, (size_t)v));
		return;
	}
	case OP_LISTXATTR: {
		char *names[16];
		size_t n = 0;

		strappendf(buf, len, "listxattr(%s)", paths[s->p1]);
		v = listxattr(p1, (char *)data, sizeof(data));
		res(buf, len, v);
		for (char *p = (char *)data; v > 0 && p < (char *)data + v && n < 16;
		     p += strlen(p) + 1)
			names[n++] = p;
		qsort(names, n, sizeof(names[0]), cmp_str);
		for (size_t i = 0; i < n; i++)
			strappendf(buf, len, " %s", names[i]);
		return;
	}
	case OP_REMOVEXATTR: {
		const char *name = xattr_name(s->c);

		strappendf(buf, len, "removexattr(%s, %s)", paths[s->p1], name);
		res(buf, len, removexattr(p1, name));
		return;
	}
	case OP_READDIR:
		strappendf(buf, len, "readdir(%s)", s->p1 == NPATHS - 1 ? "/" : paths[s->p1]);
		listing(buf, len, p1);
		return;
	case OP_FSYNC:
		strappendf(buf, len, "fsync(slot %d)", s->slot);
		res(buf, len, fsync(*fd));
		return;
	case OP_COPY_FILE_RANGE: {
		loff_t a = (loff_t)offsets[s->a % 8], b = (loff_t)off;

		strappendf(buf, len, "copy_file_range(slot %d at %lld, slot %d at %lld, %u)",
		    s->slot2, (long long)a, s->slot, (long long)b, size);
		res(buf, len, copy_file_range(fd2, &a, *fd, &b, size, 0));
		return;
	}
	case OP_FSSETXATTR: {
		/* tmpfs keeps a few flags, no project ids or extent hints */
		static const uint32_t xfl[] = { 0, 0x40 /* noatime */, 0x80 /* nodump */,
						0x20 /* sync */ };
		struct fsxattr_abi x = { 0 };
		int dfd = open(p1, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

		x.xflags = xfl[s->c % 4];
		x.projid = s->c >> 2 & 1;
		x.extsize = s->c >> 3 & 1 ? 4096 : 0;
		x.cowextsize = s->c >> 4 & 1 ? 4096 : 0;
		strappendf(buf, len, "fssetxattr(%s, xflags %#x projid %u extsize %u cowextsize %u)",
		    paths[s->p1], x.xflags, x.projid, x.extsize, x.cowextsize);
		if (dfd < 0) {
			res(buf, len, -1);
			return;
		}
		res(buf, len, ioctl(dfd, FSSETXATTR_IOC, &x));
		memset(&x, 0, sizeof(x));
		if (ioctl(dfd, FSGETXATTR_IOC, &x))
			res(buf, len, -1);
		else
			strappendf(buf, len, ", then xflags %#x projid %u extsize %u", x.xflags,
			    x.projid, x.extsize);
		close(dfd);
		return;
	}
	case OP_SETACL: {
		const char *name = s->c & 4 ? "system.posix_acl_default" : "system.posix_acl_access";
		size_t n = make_acl(s, data);

		strappendf(buf, len, "setacl(%s, %s, a %#x b %#x c %#x)", paths[s->p1], name + 17,
		    s->a & 15, s->b & 0x1fffff, s->c & 31);
		res(buf, len, setxattr(p1, name, data, n, 0));
		return;
	}
	case OP_GETACL: {
		const char *name = s->c & 4 ? "system.posix_acl_default" : "system.posix_acl_access";

		strappendf(buf, len, "getacl(%s, %s)", paths[s->p1], name + 17);
		v = getxattr(p1, name, data, sizeof(data));
		res(buf, len, v);
		if (v > 0)
			strappendf(buf, len, " hash %016llx", (unsigned long long)hash(data, (size_t)v));
		return;
	}
	case OP_ACCESS_AS:
		strappendf(buf, len, "access_as(%s, user %u, %s %u) -> %ld", paths[s->p1], s->a % 4,
		    s->b & 1 ? "open" : "access", s->b % 4, access_as(f->root, paths[s->p1], s));
		return;
	}
	strappendf(buf, len, "unknown op %d", s->op);
}

/* ------------------------------------------------------------------ */
/* Replaying a sequence on fresh mounts                                 */

struct pair {
	char tmp[64];
	struct ramfuse rf;
};

static const char *ramfuse_opts = "";

static int pair_mount(struct pair *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (tmpfs_mount(m->tmp, sizeof(m->tmp), NULL)) {
		snprintf(err, errlen, "tmpfs: %s", strerror(errno));
		m->tmp[0] = 0;
		return -1;
	}
	if (mount_ramfuse(&m->rf, ramfuse_opts)) {
		snprintf(err, errlen, "%s", m->rf.err);
		return -1;
	}
	char probe[128];
	snprintf(probe, sizeof(probe), "%s/.xattr-probe", m->tmp);
	int fd = open(probe, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fsetxattr(fd, "user.probe", "1", 1, 0) < 0 && errno == EOPNOTSUPP)
			tmpfs_user_xattrs = false;
		close(fd);
		unlink(probe);
	}
	return 0;
}

static int pair_umount(struct pair *m, char *err, size_t errlen)
{
	int rc = 0;

	if (m->tmp[0]) {
		tmpfs_umount(m->tmp);
		if (is_mounted(m->tmp)) {
			snprintf(err, errlen, "%s still mounted", m->tmp);
			rc = -1;
		}
		m->tmp[0] = 0;
	}
	if (rf_cleanup(&m->rf)) {
		snprintf(err, errlen, "%s", m->rf.err);
		rc = -1;
	}
	return rc;
}

/* Capability-dropped root: the steps run without the capabilities that
 * override permissions (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
 * CAP_FOWNER, CAP_FSETID), as after capsh --drop; mounting keeps them. */
static bool drop_caps;
#define OVERRIDE_CAPS 0x1fu

static int effective_caps(bool on)
{
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t effective, permitted, inheritable; } data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective = on ? data[0].permitted : data[0].effective & ~OVERRIDE_CAPS;
	return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * Run steps[idx[0..n)] on fresh mounts.  Returns the position (in idx) of
 * the first step whose outcomes differ, n when all agree, or -1 when the
 * mounts could not be made.  The differing outcomes go to t_out / r_out.
 */
static long replay(const struct step *steps, const uint32_t *idx, size_t n,
		   char *t_out, char *r_out, char *err, size_t errlen)
{
	struct pair m;
	struct fsx t = { 0 }, r = { 0 };
	char troot[RF_PATH + 8], rroot[RF_PATH + 8];
	long at = (long)n;

	if (pair_mount(&m, err, errlen)) {
		pair_umount(&m, err + strlen(err), errlen - strlen(err));
		return -1;
	}
	/* the namespace is <mount>/w, so that "../x" stays inside the mount */
	snprintf(troot, sizeof(troot), "%s/w", m.tmp);
	snprintf(rroot, sizeof(rroot), "%s/w", m.rf.mnt);
	if (mkdir(troot, 0755) || mkdir(rroot, 0755)) {
		snprintf(err, errlen, "mkdir w: %s", strerror(errno));
		pair_umount(&m, err + strlen(err), errlen - strlen(err));
		return -1;
	}
	t.root = troot;
	r.root = rroot;
	for (int i = 0; i < NSLOTS; i++)
		t.fd[i] = r.fd[i] = -1;
	if (drop_caps && effective_caps(false)) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		pair_umount(&m, err + strlen(err), errlen - strlen(err));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		run_step(&t, &steps[idx[i]], t_out, OUT_MAX);
		run_step(&r, &steps[idx[i]], r_out, OUT_MAX);
		if (strcmp(t_out, r_out)) {
			at = (long)i;
			break;
		}
	}
	for (int i = 0; i < NSLOTS; i++) {
		if (t.fd[i] >= 0)
			close(t.fd[i]);
		if (r.fd[i] >= 0)
			close(r.fd[i]);
	}
	if (drop_caps)
		effective_caps(true);
	if (pair_umount(&m, err, errlen))
		return -1;
	return at;
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

/*
 * Shrink a failing sequence whose last step differs: try dropping chunks of
 * the other steps, halving the chunk size; keep a candidate when its first
 * difference is still at that same last step.
 */
static size_t shrink(struct __test_metadata *_metadata, const struct step *steps,
		     uint32_t *idx, size_t n, char *t_out, char *r_out)
{
	uint32_t *cand = malloc(n * sizeof(*cand));
	long budget = env_long("DIFF_SHRINK", 300);
	char err[2048];

	if (!cand || n < 2) {
		free(cand);
		return n;
	}
	for (size_t chunk = (n - 1) / 2 ? (n - 1) / 2 : 1; budget > 0; chunk /= 2) {
		for (size_t start = 0; start < n - 1 && budget > 0;) {
			size_t m = 0;
			long at;

			for (size_t i = 0; i < n; i++)
				if (i < start || i >= start + chunk || i == n - 1)
					cand[m++] = idx[i];
			budget--;
			at = replay(steps, cand, m, t_out, r_out, err, sizeof(err));
			if (at < 0) {
				TH_LOG("while shrinking: %s", err);
				budget = 0;
				break;
			}
			if ((size_t)at == m - 1) {	/* the same step still differs */
				n = m;
				memcpy(idx, cand, n * sizeof(*idx));
			} else {
				start += chunk;
			}
		}
		if (chunk <= 1)
			break;
	}
	free(cand);
	return n;
}

static void describe(const struct step *s, char *buf, size_t len)
{
	/* a step's description is its outcome line up to " = " / " -> " */
	struct fsx f = { .root = "/nonexistent-ramfuse-diff" };
	char *cut;

	for (int i = 0; i < NSLOTS; i++)
		f.fd[i] = -1;
	run_step(&f, s, buf, len);
	cut = strstr(buf, " -> ");
	if (!cut)
		cut = strstr(buf, " = ");
	if (cut)
		*cut = 0;
}

/* one seed: returns true when tmpfs and ramfuse agreed on every step */
static bool one_seed(struct __test_metadata *_metadata, uint64_t seed, size_t nsteps)
{
	struct step *steps = calloc(nsteps, sizeof(*steps));
	uint32_t *idx = calloc(nsteps, sizeof(*idx));
	char *t_out = malloc(OUT_MAX), *r_out = malloc(OUT_MAX), err[2048];
	uint64_t rng = seed;
	bool ok = false;
	long at;

	if (!steps || !idx || !t_out || !r_out) {
		TH_LOG("out of memory");
		goto out;
	}
	for (size_t i = 0; i < nsteps; i++) {
		gen(&rng, &steps[i]);
		idx[i] = (uint32_t)i;
	}
	at = replay(steps, idx, nsteps, t_out, r_out, err, sizeof(err));
	if (at < 0) {
		TH_LOG("seed %llu: %s", (unsigned long long)seed, err);
		goto out;
	}
	if ((size_t)at == nsteps) {
		ok = true;
		goto out;
	}
	TH_LOG("seed %llu: step %ld of %zu differs:\n  tmpfs:   %s\n  ramfuse: %s",
	       (unsigned long long)seed, at, nsteps, t_out, r_out);
	{
		size_t n = shrink(_metadata, steps, idx, (size_t)at + 1, t_out, r_out);
		char line[OUT_MAX];

		/* the final replay of the shortest sequence, for its outcome */
		replay(steps, idx, n, t_out, r_out, err, sizeof(err));
		TH_LOG("seed %llu: shortest failing sequence found, %zu steps "
		       "(DIFF_SEEDS=%llu DIFF_STEPS=%zu to rerun):",
		       (unsigned long long)seed, n, (unsigned long long)seed, nsteps);
		for (size_t i = 0; i < n; i++) {
			describe(&steps[idx[i]], line, sizeof(line));
			fprintf(stderr, "#   %3zu: %s\n", i + 1, line);
		}
		TH_LOG("last step:\n  tmpfs:   %s\n  ramfuse: %s", t_out, r_out);
	}
out:
	free(steps);
	free(idx);
	free(t_out);
	free(r_out);
	return ok;
}

FIXTURE(diff) {
	int unused;
};

FIXTURE_VARIANT(diff) {
	const char *opts;
	bool drop_caps;
	const char *skip;
};

/* allow_other: other users' access (access_as); ACLs come only with
 * default_permissions */
FIXTURE_VARIANT_ADD(diff, defaults) { .opts = "allow_other" };
FIXTURE_VARIANT_ADD(diff, passthrough_off) { .opts = "allow_other,passthrough=off" };
FIXTURE_VARIANT_ADD(diff, nodefault_permissions) {
	.opts = "nodefault_permissions", .skip = "setacl,getacl,access_as"
};
FIXTURE_VARIANT_ADD(diff, capdrop_root) { .opts = "allow_other", .drop_caps = true };
FIXTURE_VARIANT_ADD(diff, nodefault_capdrop_root) {
	.opts = "nodefault_permissions", .drop_caps = true,
	.skip = "rename,renameat2,link,copy_file_range,setacl,getacl,access_as"
};

FIXTURE_SETUP(diff)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(diff)
{
}

TEST_F_TIMEOUT(diff, random_sequences, 300)
{
	size_t nsteps = (size_t)env_long("DIFF_STEPS", 2000);
	const char *seeds = getenv("DIFF_SEEDS");
	long rounds = env_long("DIFF_ROUNDS", 4);
	int failed = 0, ran = 0;

	ramfuse_opts = variant->opts;
	drop_caps = variant->drop_caps;
	variant_skip = variant->skip ? variant->skip : "";
	umask(022);
	if (seeds && *seeds) {
		for (const char *p = seeds; *p;) {
			char *end;
			unsigned long long seed = strtoull(p, &end, 0);

			if (end == p)
				break;
			ran++;
			failed += !one_seed(_metadata, seed, nsteps);
			p = *end == ',' ? end + 1 : end;
		}
	} else {
		for (long seed = 1; seed <= rounds; seed++) {
			ran++;
			failed += !one_seed(_metadata, (uint64_t)seed, nsteps);
		}
	}
	TH_LOG("%d of %d seeds with %zu steps each differed", failed, ran, nsteps);
	EXPECT_EQ(0, failed);
}

TEST_HARNESS_MAIN
