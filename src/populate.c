/* -o populate=: entries into the memory filesystem through its own API
 * (never through the mount), from a directory tree or an archive reader. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fmt.h"
#include "populate.h"

/* Everything is written as root: the archive says who owns what. */
static const struct memfs_cred root_cred = { .uid = 0 };

struct pop_dir {
	uint64_t ino;
	struct timespec mtime, atime;
};

struct pop_link {
	uint64_t k[3], ino;
	bool used;
};

static size_t link_hash(const uint64_t k[3], size_t mask)
{
	uint64_t h = (k[0] * 0x9e3779b97f4a7c15ull) ^ (k[1] * 0xc2b2ae3d27d4eb4full) ^ k[2];
	h ^= h >> 29;
	return (size_t)(h * 0xbf58476d1ce4e5b9ull >> 32) & mask;
}

uint64_t *pop_link(struct pop *p, uint64_t a, uint64_t b, uint64_t c)
{
	const uint64_t k[3] = { a, b, c };
	if (p->nlinks * 2 >= p->links_cap) { /* grow: at most half full */
		size_t cap = p->links_cap ? p->links_cap * 2 : 64;
		struct pop_link *l = calloc(cap, sizeof(*l));
		if (!l)
			return NULL;
		for (size_t i = 0; i < p->links_cap; i++) {
			if (!p->links[i].used)
				continue;
			size_t j = link_hash(p->links[i].k, cap - 1);
			while (l[j].used)
				j = (j + 1) & (cap - 1);
			l[j] = p->links[i];
		}
		free(p->links);
		p->links = l;
		p->links_cap = cap;
	}
	size_t j = link_hash(k, p->links_cap - 1);
	for (; p->links[j].used; j = (j + 1) & (p->links_cap - 1))
		if (!memcmp(p->links[j].k, k, sizeof(k)))
			return &p->links[j].ino;
	p->links[j] = (struct pop_link){ .k = { a, b, c }, .used = true };
	p->nlinks++;
	return &p->links[j].ino;
}

/* ---- the input stream ---- */

static int fill(struct pop_in *in)
{
	if (in->pos > 0 && in->pos < in->len)
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
	in->len -= in->pos;
	in->pos = 0;
	while (in->len < sizeof(in->buf)) {
		ssize_t n = read(in->fd, in->buf + in->len, sizeof(in->buf) - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		in->len += (size_t)n;
		return 0; /* a pipe gives what it has: use it */
	}
	return 0;
}

ssize_t pop_peek(struct pop_in *in, size_t n)
{
	while (in->len - in->pos < n) {
		size_t had = in->len - in->pos;
		int err = fill(in);
		if (err)
			return err;
		if (in->len - in->pos == had)
			break; /* the end */
	}
	size_t have = in->len - in->pos;
	return (ssize_t)(have < n ? have : n);
}

/* A pointer to up to max bytes at the position, consumed. */
static ssize_t next(struct pop_in *in, const unsigned char **p, size_t max)
{
	if (in->pos == in->len) {
		int err = fill(in);
		if (err)
			return err;
		if (in->len == 0)
			return -EPIPE;
	}
	size_t n = in->len - in->pos;
	if (n > max)
		n = max;
	*p = in->buf + in->pos;
	in->pos += n;
	in->off += n;
	return (ssize_t)n;
}

int pop_read(struct pop_in *in, void *dst, size_t n)
{
	for (size_t done = 0; done < n;) {
		const unsigned char *p;
		ssize_t got = next(in, &p, n - done);
		if (got < 0)
			return (int)got;
		memcpy((char *)dst + done, p, (size_t)got);
		done += (size_t)got;
	}
	return 0;
}

int pop_skip(struct pop_in *in, uint64_t n)
{
	while (n) {
		const unsigned char *p;
		ssize_t got = next(in, &p, n > sizeof(in->buf) ? sizeof(in->buf) : (size_t)n);
		if (got < 0)
			return (int)got;
		n -= (uint64_t)got;
	}
	return 0;
}

/* ---- entries ---- */

int pop_fail(struct pop *p, const char *path, int err, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsfmt(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* names may hold anything: show at most a line of them */
	sfmt(p->err, p->errlen, "populate=%s: %s%.300s%s%s", p->src, path ? "'" : "",
		 path ? path : "", path ? "': " : "", what);
	for (char *c = p->err; *c; c++)
		if ((unsigned char)*c < ' ')
			*c = '?';
	return err < 0 ? err : -EINVAL;
}

static int fail_errno(struct pop *p, const char *path, int err, const char *doing)
{
	const char *why = err == -ENOSPC ? "no space left (size= or nr_inodes= reached)"
					 : strerror(-err);
	return pop_fail(p, path, err, "%s: %s", doing, why);
}

/* Splits path into its directory (made when missing and make is set) and
 * its last name ("" for the root).  Names stay inside the root, and a
 * symlink met on the way is an error: never followed. */
static int walk(struct pop *p, const char *path, bool make, uint64_t *dir, char *name)
{
	char buf[MEMFS_PATH_MAX];
	size_t len = strlen(path);
	if (path[0] == '/')
		return pop_fail(p, path, -EINVAL, "an absolute path (names must stay inside the root)");
	if (len >= sizeof(buf))
		return pop_fail(p, path, -ENAMETOOLONG, "a path longer than %d bytes", MEMFS_PATH_MAX - 1);
	memcpy(buf, path, len + 1);
	uint64_t cur = MEMFS_ROOT;
	const char *pending = NULL;
	for (char *s = buf, *e; *s; s = e) {
		e = strchrnul(s, '/');
		if (*e)
			*e++ = 0;
		if (!*s || !strcmp(s, "."))
			continue;
		if (!strcmp(s, ".."))
			return pop_fail(p, path, -EINVAL, "a '..' component (names must stay inside the root)");
		if (strlen(s) > MEMFS_NAME_MAX)
			return pop_fail(p, path, -ENAMETOOLONG, "a name longer than %d bytes", MEMFS_NAME_MAX);
		if (pending) {
			struct memfs_attr a;
			int r = memfs_lookup(p->fs, &root_cred, cur, pending, &a);
			if (r == -ENOENT && make)
				r = memfs_mknod(p->fs, &root_cred, cur, pending, S_IFDIR | 0755, 0, &a);
			if (r < 0)
				return fail_errno(p, path, r, pending);
			memfs_forget(p->fs, a.ino, 1);
			if (S_ISLNK(a.mode))
				return pop_fail(p, path, -ELOOP, "'%s' on the way is a symlink (not followed)", pending);
			if (!S_ISDIR(a.mode))
				return pop_fail(p, path, -ENOTDIR, "'%s' on the way is not a directory", pending);
			cur = a.ino;
		}
		pending = s;
	}
	*dir = cur;
	strcpy(name, pending ? pending : "");
	return 0;
}

static int note_dir(struct pop *p, uint64_t ino, const struct pop_entry *e)
{
	if (p->ndirs == p->dirs_cap) {
		size_t cap = p->dirs_cap ? p->dirs_cap * 2 : 64;
		struct pop_dir *d = realloc(p->dirs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		p->dirs = d;
		p->dirs_cap = cap;
	}
	p->dirs[p->ndirs++] = (struct pop_dir){ ino, e->mtime, e->has_atime ? e->atime : e->mtime };
	return 0;
}

static int copy_data(struct pop *p, const struct pop_entry *e, struct pop_in *in, uint64_t ino)
{
	struct memfs_setattr sa = { .valid = MEMFS_SET_SIZE, .size = 0 };
	struct memfs_attr a;
	int r = memfs_setattr(p->fs, &root_cred, ino, &sa, &a); /* a later link's data */
	for (uint64_t off = 0; !r && off < e->size;) {
		const unsigned char *buf;
		uint64_t left = e->size - off;
		ssize_t n = next(in, &buf, left > sizeof(in->buf) ? sizeof(in->buf) : (size_t)left);
		if (n == -EPIPE)
			return pop_fail(p, e->path, -EPIPE, "truncated: %llu of %llu bytes of data",
					(unsigned long long)off, (unsigned long long)e->size);
		if (n < 0)
			return fail_errno(p, e->path, (int)n, "reading");
		if (p->sum)
			for (ssize_t i = 0; i < n; i++)
				p->csum += buf[i];
		ssize_t w = memfs_write(p->fs, &root_cred, ino, buf, (size_t)n, off, false);
		if (w < 0)
			r = (int)w;
		else if (w != n)
			r = -ENOSPC;
		off += (uint64_t)n;
	}
	return r ? fail_errno(p, e->path, r, "writing") : 0;
}

static int set_attrs(struct pop *p, const struct pop_entry *e, uint64_t ino)
{
	struct memfs_setattr sa = {
		.valid = MEMFS_SET_UID | MEMFS_SET_GID | MEMFS_SET_MTIME | MEMFS_SET_ATIME,
		.uid = e->uid, .gid = e->gid, .mode = e->mode & 07777,
		.mtime = e->mtime, .atime = e->has_atime ? e->atime : e->mtime,
	};
	if (!S_ISLNK(e->mode))
		sa.valid |= MEMFS_SET_MODE;
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct pop_xattr *x = &e->xattrs[i];
		int r = memfs_setxattr(p->fs, &root_cred, ino, x->name, x->value, x->size, 0);
		if (r < 0)
			return pop_fail(p, e->path, r, "xattr '%.255s': %s", x->name, strerror(-r));
	}
	struct memfs_attr a;
	int r = memfs_setattr(p->fs, &root_cred, ino, &sa, &a);
	if (r < 0)
		return fail_errno(p, e->path, r, "setting attributes");
	return S_ISDIR(e->mode) ? note_dir(p, ino, e) : 0;
}

/* The inode an earlier entry made, for a hard link by name. */
static int link_target(struct pop *p, const struct pop_entry *e, uint64_t *ino)
{
	uint64_t dir;
	char name[MEMFS_NAME_MAX + 1];
	int r = walk(p, e->link, false, &dir, name);
	if (r < 0)
		return r;
	struct memfs_attr a;
	r = name[0] ? memfs_lookup(p->fs, &root_cred, dir, name, &a) : -EPERM;
	if (r < 0)
		return pop_fail(p, e->path, r, "hard link to '%.300s': %s", e->link, strerror(-r));
	memfs_forget(p->fs, a.ino, 1);
	if (S_ISDIR(a.mode))
		return pop_fail(p, e->path, -EPERM, "hard link to a directory");
	*ino = a.ino;
	return 0;
}

int pop_add(struct pop *p, const struct pop_entry *e, struct pop_in *in, uint64_t *ino_out)
{
	uint32_t type = e->mode & S_IFMT;
	if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFCHR &&
	    type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK)
		return pop_fail(p, e->path, -EINVAL, "unknown file type 0%o", e->mode);
	if (e->size && type != S_IFREG)
		return pop_fail(p, e->path, -EINVAL, "data for a file that is not regular");
	uint64_t dir, ino = e->link_ino;
	char name[MEMFS_NAME_MAX + 1];
	int r = walk(p, e->path, true, &dir, name);
	if (r < 0)
		return r;
	struct memfs_attr a;
	if (!name[0]) { /* ".": the root's own attributes, as the kernel's initramfs */
		if (type != S_IFDIR || e->hardlink)
			return pop_fail(p, e->path, -EINVAL, "the root can only be a directory");
		return set_attrs(p, e, MEMFS_ROOT);
	}
	if (e->hardlink && !ino && (r = link_target(p, e, &ino)) < 0)
		return r;
	r = memfs_lookup(p->fs, &root_cred, dir, name, &a);
	if (r == 0) {
		memfs_forget(p->fs, a.ino, 1);
		if (S_ISDIR(a.mode) && type == S_IFDIR && !e->hardlink)
			return set_attrs(p, e, a.ino); /* again: attributes only */
		if (S_ISDIR(a.mode))
			return pop_fail(p, e->path, -EEXIST, "exists as a directory");
		if (e->hardlink && a.ino == ino)
			goto linked;
		/* an earlier entry of that name is replaced, never written through */
		r = memfs_unlink(p->fs, &root_cred, dir, name);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r < 0)
		return fail_errno(p, e->path, r, "replacing");
	if (e->hardlink)
		r = memfs_link(p->fs, &root_cred, ino, dir, name, &a);
	else if (type == S_IFLNK)
		r = memfs_symlink(p->fs, &root_cred, dir, name, e->link, &a);
	else
		r = memfs_mknod(p->fs, &root_cred, dir, name, type | (e->mode & 07777), e->rdev, &a);
	if (r < 0)
		return fail_errno(p, e->path, r, "creating");
	memfs_forget(p->fs, a.ino, 1);
	ino = a.ino;
linked:
	if (e->size && (r = copy_data(p, e, in, ino)) < 0)
		return r;
	if (ino_out)
		*ino_out = ino;
	return set_attrs(p, e, ino);
}

/* ---- a directory tree ---- */

struct tree {
	struct pop *p;
	struct pop_in *in;
	char src[MEMFS_PATH_MAX * 2]; /* the source path of the entry */
	size_t root_len;
	char xnames[65536];
	char *xvalues;
};

static int tree_xattrs(struct tree *t, const char *rel, struct pop_xattr *xs, size_t *n)
{
	ssize_t len = llistxattr(t->src, t->xnames, sizeof(t->xnames));
	*n = 0;
	if (len < 0)
		return errno == ENOTSUP ? 0 : pop_fail(t->p, rel, -errno, "listxattr: %s", strerror(errno));
	size_t used = 0;
	for (char *name = t->xnames; name < t->xnames + len; name += strlen(name) + 1) {
		if (*n == 64)
			return pop_fail(t->p, rel, -E2BIG, "more than 64 xattrs");
		ssize_t v = lgetxattr(t->src, name, t->xvalues + used, MEMFS_XATTR_SIZE_MAX * 4 - used);
		if (v < 0)
			return pop_fail(t->p, rel, -errno, "xattr '%s': %s", name, strerror(errno));
		xs[(*n)++] = (struct pop_xattr){ name, t->xvalues + used, (size_t)v };
		used += (size_t)v;
	}
	return 0;
}

static int tree_entry(struct tree *t, const char *rel, const struct stat *st)
{
	char target[MEMFS_PATH_MAX];
	struct pop_xattr xs[64];
	struct pop_entry e = {
		.path = rel, .mode = st->st_mode, .uid = st->st_uid, .gid = st->st_gid,
		.rdev = (uint32_t)((minor(st->st_rdev) & 0xff) | (major(st->st_rdev) << 8) |
				   ((minor(st->st_rdev) & ~0xffu) << 12)),
		.mtime = st->st_mtim, .atime = st->st_atim, .has_atime = true, .xattrs = xs,
	};
	int r = tree_xattrs(t, rel, xs, &e.nxattrs);
	if (r < 0)
		return r;
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(t->src, target, sizeof(target) - 1);
		if (n < 0)
			return pop_fail(t->p, rel, -errno, "readlink: %s", strerror(errno));
		target[n] = 0;
		e.link = target;
	}
	uint64_t *link = NULL;
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		if (!(link = pop_link(t->p, st->st_dev, st->st_ino, 0)))
			return -ENOMEM;
		e.hardlink = *link != 0;
		e.link_ino = *link;
	}
	if (S_ISREG(st->st_mode) && !e.hardlink) {
		t->in->fd = open(t->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (t->in->fd < 0)
			return pop_fail(t->p, rel, -errno, "open: %s", strerror(errno));
		t->in->pos = t->in->len = 0;
		e.size = (uint64_t)st->st_size;
	}
	uint64_t ino;
	r = pop_add(t->p, &e, t->in, &ino);
	if (e.size)
		close(t->in->fd);
	if (!r && link && !*link)
		*link = ino;
	return r;
}

/* t->src holds the directory's path; entries are added below it. */
static int tree_dir(struct tree *t, size_t len)
{
	DIR *d = opendir(t->src);
	if (!d)
		return pop_fail(t->p, t->src + t->root_len, -errno, "opendir: %s", strerror(errno));
	int r = 0;
	struct dirent *de;
	while (!r && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t n = strlen(de->d_name);
		if (len + 1 + n >= t->root_len + MEMFS_PATH_MAX) {
			r = pop_fail(t->p, t->src + t->root_len, -ENAMETOOLONG, "path too long");
			break;
		}
		t->src[len] = '/';
		memcpy(t->src + len + 1, de->d_name, n + 1);
		struct stat st;
		if (lstat(t->src, &st) < 0)
			r = pop_fail(t->p, t->src + t->root_len + 1, -errno, "%s", strerror(errno));
		else
			r = tree_entry(t, t->src + t->root_len + 1, &st);
		if (!r && S_ISDIR(st.st_mode))
			r = tree_dir(t, len + 1 + n);
		t->src[len] = 0;
	}
	if (!r && errno)
		r = pop_fail(t->p, t->src + t->root_len, -errno, "readdir: %s", strerror(errno));
	closedir(d);
	return r;
}

static int tree_read(struct pop *p, struct pop_in *in, const char *src)
{
	struct tree *t = calloc(1, sizeof(*t));
	if (!t || !(t->xvalues = malloc(MEMFS_XATTR_SIZE_MAX * 4))) {
		free(t);
		return -ENOMEM;
	}
	t->p = p;
	t->in = in;
	t->root_len = strlen(src);
	int r = -ENAMETOOLONG;
	if (t->root_len < MEMFS_PATH_MAX) {
		memcpy(t->src, src, t->root_len + 1);
		struct stat st;
		r = stat(src, &st) < 0 ? -errno : tree_entry(t, ".", &st);
		if (!r)
			r = tree_dir(t, t->root_len);
	}
	free(t->xvalues);
	free(t);
	return r;
}

/* ---- which format ---- */

static bool tar_checksum_ok(const unsigned char *h)
{
	unsigned long sum = 0, want = 0;
	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	int i = 148;
	while (i < 156 && h[i] == ' ')
		i++;
	if (i == 156 || h[i] < '0' || h[i] > '7')
		return false;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(h[i] - '0');
	return sum == want;
}

static bool all_zero(const unsigned char *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (h[i])
			return false;
	return true;
}

int populate(struct memfs *fs, const char *src, char *err, size_t errlen)
{
	struct pop p = { .fs = fs, .src = src, .err = err, .errlen = errlen };
	struct pop_in *in = malloc(sizeof(*in));
	if (!in) {
		sfmt(err, errlen, "populate=%s: %s", src, strerror(ENOMEM));
		return -ENOMEM;
	}
	*in = (struct pop_in){ .fd = -1 };
	int r;
	struct stat st;
	if (stat(src, &st) < 0) {
		r = pop_fail(&p, NULL, -errno, "%s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		r = tree_read(&p, in, src);
	} else if ((in->fd = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		r = pop_fail(&p, NULL, -errno, "%s", strerror(errno));
	} else {
		ssize_t n = pop_peek(in, 512);
		const unsigned char *h = in->buf;
		if (n < 0)
			r = pop_fail(&p, NULL, (int)n, "reading: %s", strerror((int)-n));
		else if (n >= 6 && !memcmp(h, "07070", 5) && (h[5] == '1' || h[5] == '2'))
			r = cpio_read(&p, in);
		else if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
			r = pop_fail(&p, NULL, -EINVAL, "gzip-compressed: decompress it into a pipe, "
				     "e.g. zcat FILE | ramfuse -o populate=/dev/stdin ...");
		else if (n == 512 && (!memcmp(h + 257, "ustar", 5) || tar_checksum_ok(h) ||
				      all_zero(h, 512) /* an empty archive */))
			r = tar_read(&p, in);
		else
			r = pop_fail(&p, NULL, -EINVAL, "neither a directory, a cpio (newc) nor a tar archive");
		close(in->fd);
	}
	/* directories' times last: adding their entries changed them */
	for (size_t i = 0; !r && i < p.ndirs; i++) {
		struct memfs_setattr sa = { .valid = MEMFS_SET_MTIME | MEMFS_SET_ATIME,
					    .mtime = p.dirs[i].mtime, .atime = p.dirs[i].atime };
		struct memfs_attr a;
		r = memfs_setattr(fs, &root_cred, p.dirs[i].ino, &sa, &a);
		if (r < 0)
			r = pop_fail(&p, NULL, r, "setting directory times: %s", strerror(-r));
	}
	free(p.dirs);
	free(p.links);
	free(in);
	return r;
}
