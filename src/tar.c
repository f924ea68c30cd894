/* tar archives: ustar and pax (POSIX), GNU (long names 'L'/'K', base-256
 * numbers) and old v7 headers.  pax records give path, linkpath, size, uid,
 * gid, mtime, atime and xattrs (SCHILY.xattr.NAME, as GNU tar and bsdtar
 * write them).  Every header's checksum is checked; the archive ends at a
 * zero block, and one that ends before it is truncated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "populate.h"

#define BLOCK 512
#define PAD512(n) ((BLOCK - ((n) & (BLOCK - 1))) & (BLOCK - 1))
#define PAX_MAX (1 << 20) /* an extended header's size: paths and xattrs */
#define XATTRS_MAX 256

/* What the extended headers before an entry said about it. */
struct ext {
	char *pax;         /* the last 'x' header's records; values point in */
	char *longname, *longlink; /* GNU 'L' and 'K' */
	const char *path, *linkpath;
	uint64_t size, uid, gid;
	struct timespec mtime, atime;
	bool has_size, has_uid, has_gid, has_mtime, has_atime;
	struct pop_xattr x[XATTRS_MAX];
	size_t nx;
};

static void ext_reset(struct ext *x)
{
	free(x->pax);
	free(x->longname);
	free(x->longlink);
	*x = (struct ext){ 0 };
}

/* An octal field (spaces before, space or NUL after), or GNU's base-256. */
static int number(const unsigned char *f, size_t w, uint64_t *v)
{
	*v = 0;
	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -ERANGE; /* negative */
		for (size_t i = 1; i < w; i++) {
			if (*v >> 55)
				return -ERANGE;
			*v = *v << 8 | f[i];
		}
		return 0;
	}
	size_t i = 0;
	while (i < w && f[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return -ERANGE;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	if (i < w && f[i] != ' ' && f[i] != 0)
		return -EINVAL;
	for (; i < w; i++) /* GNU pads with spaces then NUL, or the reverse */
		if (f[i] != ' ' && f[i] != 0)
			return -EINVAL;
	return digits ? 0 : -EINVAL;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	if (number(h + 148, 8, &want) < 0)
		return false;
	unsigned long sum = 0;
	long ssum = 0; /* some old tars summed signed chars */
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
		sum += c;
		ssum += (signed char)c;
	}
	return want == sum || (long)want == ssum;
}

/* A decimal number, as pax writes it. */
static bool decimal(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	*v = 0;
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || *v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

/* pax times: [-]SECONDS[.FRACTION] */
static bool pax_time(const char *s, size_t len, struct timespec *t)
{
	bool neg = len && s[0] == '-';
	size_t i = neg, dot = i;
	while (dot < len && s[dot] != '.')
		dot++;
	uint64_t sec, nsec = 0;
	if (!decimal(s + i, dot - i, INT64_MAX, &sec))
		return false;
	if (dot < len) {
		uint64_t scale = 100000000;
		if (dot + 1 == len)
			return false;
		for (size_t j = dot + 1; j < len; j++, scale /= 10) {
			if (s[j] < '0' || s[j] > '9')
				return false;
			nsec += (uint64_t)(s[j] - '0') * scale;
		}
	}
	t->tv_sec = neg ? -(int64_t)sec : (int64_t)sec;
	t->tv_nsec = (long)nsec;
	if (neg && nsec) { /* -1.5 is 1.5 s before the epoch */
		t->tv_sec -= 1;
		t->tv_nsec = 1000000000 - (long)nsec;
	}
	return true;
}

/* "LEN KEY=VALUE\n" records; a value is used where it lies (NUL-ended). */
static int pax_parse(struct pop *p, struct ext *x, char *d, size_t len, bool global)
{
	for (size_t pos = 0; pos < len;) {
		size_t sp = pos;
		while (sp < len && sp - pos < 20 && d[sp] >= '0' && d[sp] <= '9')
			sp++;
		uint64_t rl;
		if (sp == len || d[sp] != ' ' || !decimal(d + pos, sp - pos, len - pos, &rl) ||
		    rl < sp - pos + 4 || d[pos + rl - 1] != '\n')
			return pop_fail(p, NULL, -EINVAL, "a bad pax record at its byte %zu", pos);
		char *key = d + sp + 1, *end = d + pos + rl - 1;
		char *eq = memchr(key, '=', (size_t)(end - key));
		if (!eq || eq == key)
			return pop_fail(p, NULL, -EINVAL, "a pax record without a key at its byte %zu", pos);
		*eq = 0;
		*end = 0;
		char *val = eq + 1;
		size_t vlen = (size_t)(end - val);
		pos += rl;
		if (global) /* 'g' headers: nothing we use may be set for all */
			continue;
		bool ok = true;
		if (!strcmp(key, "path") || !strcmp(key, "linkpath")) {
			ok = vlen && !memchr(val, 0, vlen);
			*(key[0] == 'p' ? &x->path : &x->linkpath) = val;
		} else if (!strcmp(key, "size")) {
			ok = x->has_size = decimal(val, vlen, INT64_MAX, &x->size);
		} else if (!strcmp(key, "uid")) {
			ok = x->has_uid = decimal(val, vlen, UINT32_MAX - 1, &x->uid);
		} else if (!strcmp(key, "gid")) {
			ok = x->has_gid = decimal(val, vlen, UINT32_MAX - 1, &x->gid);
		} else if (!strcmp(key, "mtime")) {
			ok = x->has_mtime = pax_time(val, vlen, &x->mtime);
		} else if (!strcmp(key, "atime")) {
			ok = x->has_atime = pax_time(val, vlen, &x->atime);
		} else if (!strncmp(key, "SCHILY.xattr.", 13)) {
			const char *name = key + 13;
			if (!*name || strlen(name) > MEMFS_XATTR_NAME_MAX || vlen > MEMFS_XATTR_SIZE_MAX)
				return pop_fail(p, NULL, -EINVAL, "pax xattr '%.255s' too long or empty", name);
			if (x->nx == XATTRS_MAX)
				return pop_fail(p, NULL, -E2BIG, "more than %d xattrs on one entry", XATTRS_MAX);
			x->x[x->nx++] = (struct pop_xattr){ name, val, vlen };
		} else if (!strncmp(key, "GNU.sparse.", 11)) {
			return pop_fail(p, NULL, -ENOTSUP, "a sparse file (GNU.sparse): not supported");
		}
		if (!ok)
			return pop_fail(p, NULL, -EINVAL, "a bad value in pax record '%s'", key);
	}
	return 0;
}

/* The data of an extended header, NUL-terminated. */
static int ext_data(struct pop *p, struct pop_in *in, uint64_t size, uint64_t max, char **out)
{
	if (size > max)
		return pop_fail(p, NULL, -EFBIG, "an extended header of %llu bytes (at most %llu)",
				(unsigned long long)size, (unsigned long long)max);
	char *d = malloc(size + 1);
	if (!d)
		return -ENOMEM;
	int r = pop_read(in, d, size);
	if (!r)
		r = pop_skip(in, PAD512(size));
	if (r < 0) {
		free(d);
		return pop_fail(p, NULL, r, "truncated in an extended header");
	}
	d[size] = 0;
	*out = d;
	return 0;
}

/* A name field: NUL-ended, or the whole width. */
static size_t field_len(const unsigned char *f, size_t w)
{
	const unsigned char *z = memchr(f, 0, w);
	return z ? (size_t)(z - f) : w;
}

static int entry(struct pop *p, struct pop_in *in, struct ext *x, char *name, bool *end)
{
	unsigned char h[BLOCK];
	uint64_t at = in->off;
	int r = pop_read(in, h, BLOCK);
	if (r == -EPIPE)
		return pop_fail(p, NULL, r, "truncated at byte %llu (no end-of-archive block)",
				(unsigned long long)at);
	if (r < 0)
		return pop_fail(p, NULL, r, "reading: %s", strerror(-r));
	bool zero = true;
	for (int i = 0; i < BLOCK && zero; i++)
		zero = !h[i];
	if (zero) { /* the end; a second zero block may follow, or not */
		*end = true;
		return 0;
	}
	bool posix = !memcmp(h + 257, "ustar\0" "00", 8);
	bool gnu = !memcmp(h + 257, "ustar  \0", 8);
	/* the name first, to name the entry in messages */
	size_t nl = field_len(h, 100), pl = posix ? field_len(h + 345, 155) : 0;
	memcpy(name, h + 345, pl);
	name[pl] = 0;
	if (pl)
		name[pl++] = '/';
	memcpy(name + pl, h, nl);
	name[pl + nl] = 0;
	const char *path = x->path ? x->path : x->longname ? x->longname : name;
	if (!checksum_ok(h))
		return pop_fail(p, path, -EBADMSG, "checksum error in the header at byte %llu",
				(unsigned long long)at);
	uint64_t mode, uid, gid, size, mtime, maj = 0, min = 0;
	if (number(h + 100, 8, &mode) || number(h + 108, 8, &uid) || number(h + 116, 8, &gid) ||
	    number(h + 124, 12, &size) || number(h + 136, 12, &mtime) ||
	    ((posix || gnu) && h[156] >= '3' && h[156] <= '4' &&
	     (number(h + 329, 8, &maj) || number(h + 337, 8, &min))))
		return pop_fail(p, path, -EINVAL, "a bad number in the header at byte %llu",
				(unsigned long long)at);
	char type = (char)h[156];
	if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
		char *d = NULL;
		if ((r = ext_data(p, in, size, type == 'L' || type == 'K' ? MEMFS_PATH_MAX : PAX_MAX, &d)) < 0)
			return r;
		if (type == 'L' || type == 'K') {
			char **slot = type == 'L' ? &x->longname : &x->longlink;
			free(*slot);
			*slot = d;
			return 0;
		}
		if (type == 'g') {
			r = pax_parse(p, x, d, size, true);
			free(d);
			return r;
		}
		if (x->pax)
			return free(d), pop_fail(p, path, -EINVAL, "two pax headers for one entry");
		x->pax = d;
		return pax_parse(p, x, d, size, false);
	}
	if (x->has_size)
		size = x->size;
	if (x->has_uid)
		uid = x->uid;
	if (x->has_gid)
		gid = x->gid;
	if (uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1 || mtime > INT64_MAX || size > INT64_MAX)
		return pop_fail(p, path, -ERANGE, "uid, gid, size or mtime out of range");
	struct pop_entry e = {
		.path = path, .mode = (uint32_t)mode & 07777, .uid = (uint32_t)uid,
		.gid = (uint32_t)gid, .mtime = { .tv_sec = (int64_t)mtime },
		.xattrs = x->x, .nxattrs = x->nx,
	};
	if (x->has_mtime)
		e.mtime = x->mtime;
	if (x->has_atime) {
		e.atime = x->atime;
		e.has_atime = true;
	}
	const char *lk = x->linkpath ? x->linkpath : x->longlink;
	char link[101];
	if (!lk) {
		memcpy(link, h + 157, field_len(h + 157, 100));
		link[field_len(h + 157, 100)] = 0;
		lk = link;
	}
	bool data = false;
	switch (type) {
	case '0': case 0: case '7':
		/* old archives mark directories with a slash */
		e.mode |= size == 0 && type == 0 && path[0] && path[strlen(path) - 1] == '/'
			   ? S_IFDIR : S_IFREG;
		data = S_ISREG(e.mode);
		break;
	case '1': e.mode |= S_IFREG; e.hardlink = true; e.link = lk; break;
	case '2': e.mode |= S_IFLNK; e.link = lk; break;
	case '3': e.mode |= S_IFCHR; break;
	case '4': e.mode |= S_IFBLK; break;
	case '5': e.mode |= S_IFDIR; break;
	case '6': e.mode |= S_IFIFO; break;
	default:
		return pop_fail(p, path, -ENOTSUP, "entry type '%c' (0x%02x) not supported",
				type > ' ' && type < 127 ? type : '?', (unsigned char)type);
	}
	if (size && !data)
		return pop_fail(p, path, -EINVAL, "%llu bytes of data for a type '%c' entry",
				(unsigned long long)size, type);
	if ((e.hardlink || S_ISLNK(e.mode)) && !*lk)
		return pop_fail(p, path, -EINVAL, "an empty link target");
	if (S_ISCHR(e.mode) || S_ISBLK(e.mode)) {
		if (maj > 0xfff || min > 0xfffff)
			return pop_fail(p, path, -EINVAL, "device %llu:%llu out of range",
					(unsigned long long)maj, (unsigned long long)min);
		e.rdev = (uint32_t)((min & 0xff) | maj << 8 | (min & ~0xffull) << 12);
	}
	e.size = data ? size : 0;
	if ((r = pop_add(p, &e, in, NULL)) < 0)
		return r;
	if ((r = pop_skip(in, PAD512(size))) < 0)
		return pop_fail(p, path, r, "truncated after the data");
	ext_reset(x);
	return 0;
}

int tar_read(struct pop *p, struct pop_in *in)
{
	struct ext *x = calloc(1, sizeof(*x));
	char *name = malloc(256 + 2);
	int r = x && name ? 0 : -ENOMEM;
	for (bool end = false; !r && !end;)
		r = entry(p, in, x, name, &end);
	if (x)
		ext_reset(x);
	free(x);
	free(name);
	return r;
}
