// SPDX-License-Identifier: MIT
/*
 * oracle.c - the observation log of the posix_*_test binaries (oracle.h):
 * what a scenario did and saw, line by line, the same on tmpfs and ramfuse.
 */
#include "oracle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

struct obs *obs_new(const char *root, const char *fsname)
{
	struct obs *o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (o == MAP_FAILED)
		return NULL;
	snprintf(o->root, sizeof(o->root), "%s", root);
	o->fsname = fsname;
	return o;
}

void obs_free(struct obs *o)
{
	if (o)
		munmap(o, sizeof(*o));
}

void __attribute__((format(printf, 2, 3)))
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
const char *__attribute__((format(printf, 2, 3)))
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

const char *ename(int e)
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
long rec(struct obs *o, const char *what, long ret)
{
	char r[32];
	long v = ret == -1 ? -errno : ret;

	note(o, "%s = %s", what, result(r, sizeof(r), v));
	return v;
}

/* rec, and the specification: the call must give want (-errno on failure) */
long want(struct obs *o, const char *what, long expect, long ret)
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

static char ftype(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' :
	       S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' :
	       S_ISBLK(m) ? 'b' : '?';
}

void stat_note(struct obs *o, const char *what, const struct stat *st)
{
	note(o, "%s: %c mode=%04o nlink=%lu size=%lld blocks=%lld uid=%u gid=%u blksize=%ld rdev=%u:%u",
	     what, ftype(st->st_mode), (unsigned)(st->st_mode & 07777),
	     (unsigned long)st->st_nlink, (long long)st->st_size,
	     (long long)st->st_blocks, (unsigned)st->st_uid, (unsigned)st->st_gid,
	     (long)st->st_blksize, major(st->st_rdev), minor(st->st_rdev));
}

/* lstat a path of this mount and record what tmpfs defines */
void ST(struct obs *o, const char *rel)
{
	char what[300];
	struct stat st;

	snprintf(what, sizeof(what), "lstat %s", rel);
	if (lstat(P(o, "%s", rel), &st))
		rec(o, what, -1);
	else
		stat_note(o, what, &st);
}

void FST(struct obs *o, const char *what, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		rec(o, what, -1);
	else
		stat_note(o, what, &st);
}

uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

/* bytes [off, off+len) of fd: how many could be read and their hash */
void data_note(struct obs *o, const char *what, int fd, off_t off, size_t len)
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
void CONTENT(struct obs *o, const char *rel)
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

int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the sorted listing of a directory, with d_type, as one line */
void LS(struct obs *o, const char *rel)
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

void READLINK(struct obs *o, const char *rel, size_t size)
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
long PUT(struct obs *o, const char *rel, const char *data, size_t len)
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
void SNAP(struct obs *o, int slot, const char *rel)
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

void TIMES(struct obs *o, int slot, const char *after)
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
void tick(void)
{
	coarse_clock_tick();
}

/* become another user in a forked child; the child runs the block */
pid_t as_user_begin(struct obs *o, uid_t uid, gid_t gid, gid_t supp)
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
__attribute__((noreturn)) pid_t as_user_end(void)
{
	_exit(0);
}

/* tmpfs keeps user.* xattrs only since Linux 6.6; ramfuse keeps them on every
 * kernel, but an older tmpfs is no oracle for them. */
bool tmpfs_has_user_xattrs(const char *tmp)
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

long ren2(struct obs *o, const char *from, const char *to, unsigned flags)
{
	char what[300];

	snprintf(what, sizeof(what), "renameat2(%s, %s, %#x)", from, to, flags);
	return rec(o, what, syscall(SYS_renameat2, AT_FDCWD, P(o, "%s", from), AT_FDCWD,
				    P(o, "%s", to), flags));
}

int xstatx(int dirfd, const char *path, int flags, unsigned mask,
	   struct statx_buf *buf)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, buf);
}
