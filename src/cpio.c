/* cpio "newc" (070701) and "crc" (070702) archives, as the kernel's
 * initramfs reads them: a 110-byte header of hex fields, the name (NUL
 * included) padded to 4 bytes, the data padded to 4; "TRAILER!!!" ends an
 * archive, and another may follow after zero padding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "populate.h"

#define HEADER 110
#define PAD4(n) ((4 - ((n) & 3)) & 3)

enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_SIZE, F_DEVMAJ, F_DEVMIN,
       F_RDEVMAJ, F_RDEVMIN, F_NAMESIZE, F_CHECK, F_NR };

static bool hex8(const unsigned char *s, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 8; i++) {
		unsigned c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return false;
		*v = *v << 4 | d;
	}
	return true;
}

/* After a trailer: zeros, then the end or another archive. */
static int next_archive(struct pop *p, struct pop_in *in, bool *more)
{
	for (;;) {
		ssize_t n = pop_peek(in, 6);
		if (n < 0)
			return pop_fail(p, NULL, (int)n, "reading: %s", strerror((int)-n));
		if (n == 0) {
			*more = false;
			return 0;
		}
		const unsigned char *b = in->buf + in->pos;
		if (b[0]) {
			*more = true;
			return 0;
		}
		pop_skip(in, 1);
	}
}

static int entry(struct pop *p, struct pop_in *in, char *name, char *target, bool *end)
{
	unsigned char h[HEADER];
	uint64_t at = in->off;
	int r = pop_read(in, h, HEADER);
	if (r == -EPIPE)
		return pop_fail(p, NULL, r, "truncated at byte %llu (no TRAILER!!!)",
				(unsigned long long)at);
	if (r < 0)
		return pop_fail(p, NULL, r, "reading: %s", strerror(-r));
	if (memcmp(h, "07070", 5) || (h[5] != '1' && h[5] != '2'))
		return pop_fail(p, NULL, -EINVAL, "no cpio header (070701 or 070702) at byte %llu",
				(unsigned long long)at);
	uint32_t f[F_NR];
	for (int i = 0; i < F_NR; i++)
		if (!hex8(h + 6 + 8 * i, &f[i]))
			return pop_fail(p, NULL, -EINVAL, "a header field that is not hex at byte %llu",
					(unsigned long long)at + 6 + 8 * i);
	uint32_t ns = f[F_NAMESIZE];
	if (ns < 2 || ns > MEMFS_PATH_MAX)
		return pop_fail(p, NULL, -EINVAL, "name size %u at byte %llu (1..%d with its NUL)",
				ns, (unsigned long long)at, MEMFS_PATH_MAX);
	if ((r = pop_read(in, name, ns)) < 0 || (r = pop_skip(in, PAD4(HEADER + ns))) < 0)
		return pop_fail(p, NULL, r, "truncated in the name at byte %llu", (unsigned long long)at);
	if (name[ns - 1] || strlen(name) != ns - 1)
		return pop_fail(p, NULL, -EINVAL, "a name with a NUL inside or none at its end at byte %llu",
				(unsigned long long)at);
	if (!strcmp(name, "TRAILER!!!")) {
		bool more = false;
		if ((r = pop_skip(in, f[F_SIZE] + (uint64_t)PAD4(f[F_SIZE]))) < 0)
			return pop_fail(p, name, r, "truncated");
		if ((r = next_archive(p, in, &more)) < 0)
			return r;
		*end = !more;
		return 0;
	}
	uint32_t mode = f[F_MODE], size = f[F_SIZE];
	struct pop_entry e = {
		.path = name, .mode = mode, .uid = f[F_UID], .gid = f[F_GID],
		.mtime = { .tv_sec = f[F_MTIME] },
	};
	if (mode & ~(uint32_t)(S_IFMT | 07777))
		return pop_fail(p, name, -EINVAL, "mode 0%o", mode);
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		uint32_t maj = f[F_RDEVMAJ], min = f[F_RDEVMIN];
		if (maj > 0xfff || min > 0xfffff)
			return pop_fail(p, name, -EINVAL, "device %u:%u out of range", maj, min);
		e.rdev = (min & 0xff) | maj << 8 | (min & ~0xffu) << 12;
	}
	if (S_ISLNK(mode)) {
		if (size < 1 || size >= MEMFS_PATH_MAX)
			return pop_fail(p, name, -EINVAL, "symlink target of %u bytes", size);
		if ((r = pop_read(in, target, size)) < 0)
			return pop_fail(p, name, r, "truncated in the symlink target");
		target[size] = 0;
		if (strlen(target) != size)
			return pop_fail(p, name, -EINVAL, "a symlink target with a NUL inside");
		e.link = target;
	} else {
		e.size = size;
		p->csum = 0;
	}
	p->sum = h[5] == '2' && S_ISREG(mode); /* cpio sums regular files' data */
	uint64_t *link = NULL;
	if (!S_ISDIR(mode) && f[F_NLINK] > 1) {
		/* the kernel's key: the source's device and inode numbers */
		link = pop_link(p, (uint64_t)f[F_DEVMAJ] << 32 | f[F_DEVMIN], f[F_INO], mode);
		if (!link)
			return -ENOMEM;
		e.hardlink = *link != 0;
		e.link_ino = *link;
	}
	uint64_t ino;
	if ((r = pop_add(p, &e, in, &ino)) < 0)
		return r;
	if (link && !*link)
		*link = ino;
	if (p->sum && p->csum != f[F_CHECK])
		return pop_fail(p, name, -EBADMSG, "checksum error: 0x%08x in the header, 0x%08x in the data",
				f[F_CHECK], p->csum);
	if ((r = pop_skip(in, PAD4(size))) < 0)
		return pop_fail(p, name, r, "truncated after the data");
	return 0;
}

int cpio_read(struct pop *p, struct pop_in *in)
{
	char *name = malloc(MEMFS_PATH_MAX + 1), *target = malloc(MEMFS_PATH_MAX + 1);
	int r = name && target ? 0 : -ENOMEM;
	for (bool end = false; !r && !end;)
		r = entry(p, in, name, target, &end);
	p->sum = false;
	free(name);
	free(target);
	return r;
}
