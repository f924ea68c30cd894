// SPDX-License-Identifier: MIT
/*
 * -o populate=: a tree with every file type and odd names, packed by the
 * system's cpio and tar, copied in by ramfuse and compared, file by file,
 * with the same archive unpacked by cpio/tar into a tmpfs (type, mode,
 * owner, size, data, mtime, link target, rdev, nlink, xattrs).  Hostile
 * archives, made here byte by byte, are refused with the entry named and
 * nothing mounted.
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define LONGNAME_LEN 255

static bool have_tool(const char *name)
{
	char p[64];
	snprintf(p, sizeof(p), "/usr/bin/%s", name);
	if (!access(p, X_OK))
		return true;
	snprintf(p, sizeof(p), "/bin/%s", name);
	return !access(p, X_OK);
}

static int sh(const char *cmd, char *out, size_t len)
{
	const char *argv[] = { "sh", "-c", cmd, NULL };
	return rf_run("/bin/sh", argv, 60000, out, len);
}

static int put(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Every file type tar and cpio carry, odd names, owners, times, xattrs. */
static int make_tree(const char *d, bool *user_xattrs)
{
	char p[4096], big[70000];
	int ok = 0;
#define P(...) (snprintf(p, sizeof(p), __VA_ARGS__), p)
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	ok |= put(P("%s/file", d), "hello\n", 6, 0644);
	ok |= chmod(p, 04755);
	ok |= put(P("%s/big", d), big, sizeof(big), 0600);
	{
		char a[4096], b[4096];
		snprintf(a, sizeof(a), "%s/file", d);
		snprintf(b, sizeof(b), "%s/hardlink", d);
		ok |= link(a, b);
	}
	ok |= symlink("file", P("%s/symlink", d));
	ok |= symlink("/etc/passwd", P("%s/abs-symlink", d));
	ok |= mkfifo(P("%s/fifo", d), 0640);
	ok |= mknod(P("%s/chr", d), S_IFCHR | 0620, makedev(4, 300));
	ok |= mknod(P("%s/blk", d), S_IFBLK | 0660, makedev(8, 1));
	ok |= put(P("%s/sp ace", d), "x", 1, 0644);
	ok |= put(P("%s/new\nline", d), "y", 1, 0644);
	ok |= mkdir(P("%s/dir", d), 0750);
	ok |= chown(p, 1234, 5678);
	ok |= mkdir(P("%s/sticky", d), 01777);
	ok |= chmod(p, 01777);
	ok |= put(P("%s/dir/owned", d), "z", 1, 0600);
	ok |= chown(p, 4321, 8765);
	char name[LONGNAME_LEN + 1];
	memset(name, 'n', LONGNAME_LEN);
	name[LONGNAME_LEN] = 0;
	ok |= put(P("%s/%s", d, name), "long", 4, 0644);
	/* a deep path, longer than ustar's 100 and 155 bytes */
	char deep[1024];
	snprintf(deep, sizeof(deep), "%s", d);
	for (int i = 0; i < 6; i++) {
		size_t n = strlen(deep);
		snprintf(deep + n, sizeof(deep) - n, "/level%d-%040d", i, i);
		ok |= mkdir(deep, 0755);
	}
	ok |= put(P("%s/deep-file", deep), "deep", 4, 0644);
	ok |= setxattr(P("%s/file", d), "trusted.ramfuse", "t-value", 7, 0);
	*user_xattrs = !setxattr(P("%s/big", d), "user.test", "u-value\0bin", 11, 0);
	/* times last: a fixed past, with nanoseconds (cpio keeps seconds) */
	static const char *const stamp[] = { "file", "big", "sp ace", "dir/owned", "dir",
					     "fifo", "chr", "blk", "sticky" };
	for (size_t i = 0; i < sizeof(stamp) / sizeof(stamp[0]); i++) {
		struct timespec ts[2] = { { 1000000000 + (long)i, 0 },
					  { 1100000000 + (long)i * 1000, 123456789 } };
		ok |= utimensat(AT_FDCWD, P("%s/%s", d, stamp[i]), ts, AT_SYMLINK_NOFOLLOW);
	}
	struct timespec lt[2] = { { 1000, 0 }, { 1200000000, 5 } };
	ok |= utimensat(AT_FDCWD, P("%s/symlink", d), lt, AT_SYMLINK_NOFOLLOW);
#undef P
	return ok ? -1 : 0;
}

struct cmp {
	struct __test_metadata *md;
	bool nsec, xattrs;
	bool weak_ref; /* GNU cpio -i keeps neither "."'s mode nor directories' and symlinks' mtimes */
	int entries, bad;
	char why[1024];
};

static void differ(struct cmp *c, const char *rel, const char *fmt, long long a, long long b)
{
	if (c->bad++ < 4) {
		char what[256];
		size_t n = strlen(c->why);
		snprintf(what, sizeof(what), fmt, a, b);
		snprintf(c->why + n, sizeof(c->why) - n, "%s'%s': %s", n ? "; " : "", rel, what);
	}
}

static void cmp_xattrs(struct cmp *c, const char *rel, const char *a, const char *b)
{
	char la[4096], lb[4096], va[1024], vb[1024];
	ssize_t na = llistxattr(a, la, sizeof(la)), nb = llistxattr(b, lb, sizeof(lb));
	if (na < 0)
		na = 0;
	if (nb < 0)
		nb = 0;
	int counta = 0, countb = 0;
	for (char *n = la; n < la + na; n += strlen(n) + 1) {
		counta++;
		ssize_t x = lgetxattr(a, n, va, sizeof(va)), y = lgetxattr(b, n, vb, sizeof(vb));
		if (x != y || (x > 0 && memcmp(va, vb, (size_t)x)))
			differ(c, rel, "xattr value sizes %lld vs %lld", x, y);
	}
	for (char *n = lb; n < lb + nb; n += strlen(n) + 1)
		countb++;
	if (counta != countb)
		differ(c, rel, "%lld vs %lld xattrs", counta, countb);
}

static void cmp_data(struct cmp *c, const char *rel, const char *a, const char *b)
{
	char ba[65536], bb[65536];
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	long long off = 0;
	for (;;) {
		ssize_t x = read(fa, ba, sizeof(ba)), y = read(fb, bb, sizeof(bb));
		if (x != y || (x > 0 && memcmp(ba, bb, (size_t)x))) {
			differ(c, rel, "data differs at block from %lld (%lld)", off, x);
			break;
		}
		if (x <= 0)
			break;
		off += x;
	}
	close(fa);
	close(fb);
}

/* Walks ref; every entry must be in got, the same; got has no others. */
static int cmp_tree(struct cmp *c, const char *ref, const char *got, const char *rel)
{
	char a[4096], b[4096];
	struct stat sa, sb;
	snprintf(a, sizeof(a), "%s/%s", ref, rel);
	snprintf(b, sizeof(b), "%s/%s", got, rel);
	if (lstat(a, &sa) || lstat(b, &sb)) {
		differ(c, rel, "missing (%lld %lld)", lstat(a, &sa), lstat(b, &sb));
		return 0;
	}
	c->entries++;
#define SAME(f) if (sa.f != sb.f) differ(c, rel, #f " %llo vs %llo", (long long)sa.f, (long long)sb.f)
	bool weak = c->weak_ref && (S_ISDIR(sa.st_mode) || S_ISLNK(sa.st_mode));
	if (!weak || *rel)
		SAME(st_mode);
	SAME(st_uid);
	SAME(st_gid);
	SAME(st_nlink);
	SAME(st_rdev);
	if (!weak)
		SAME(st_mtim.tv_sec);
	if (!S_ISDIR(sa.st_mode))
		SAME(st_size);
	if (c->nsec && !S_ISLNK(sa.st_mode))
		SAME(st_mtim.tv_nsec);
#undef SAME
	if (c->xattrs)
		cmp_xattrs(c, rel, a, b);
	if (S_ISLNK(sa.st_mode)) {
		char ta[4096] = "", tb[4096] = "";
		ssize_t x = readlink(a, ta, sizeof(ta) - 1), y = readlink(b, tb, sizeof(tb) - 1);
		if (x != y || strcmp(ta, tb))
			differ(c, rel, "symlink targets of %lld and %lld bytes", x, y);
	}
	if (S_ISREG(sa.st_mode))
		cmp_data(c, rel, a, b);
	if (!S_ISDIR(sa.st_mode))
		return 0;
	int count_a = 0, count_b = 0;
	DIR *d = opendir(b);
	struct dirent *de;
	while (d && (de = readdir(d)))
		count_b += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	d = opendir(a);
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		count_a++;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		cmp_tree(c, ref, got, sub);
	}
	if (d)
		closedir(d);
	if (count_a != count_b)
		differ(c, rel, "%lld vs %lld entries", count_a, count_b);
	return 0;
}

FIXTURE(rt) {
	struct ramfuse rf;
	char src[64], ref[64], work[64];
	bool user_xattrs;
};

FIXTURE_SETUP(rt)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, tmpfs_mount(self->src, sizeof(self->src), "mode=0755"));
	ASSERT_EQ(0, tmpfs_mount(self->ref, sizeof(self->ref), "mode=0755"));
	ASSERT_EQ(0, tmpfs_mount(self->work, sizeof(self->work), "mode=0755"));
	ASSERT_EQ(0, make_tree(self->src, &self->user_xattrs)) TH_LOG("%s", strerror(errno));
	/* the root's own attributes travel as "." */
	struct timespec ts[2] = { { 1000, 0 }, { 1300000000, 0 } };
	ASSERT_EQ(0, chmod(self->src, 0751));
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->src, ts, 0));
}

FIXTURE_TEARDOWN(rt)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	tmpfs_umount(self->src);
	tmpfs_umount(self->ref);
	tmpfs_umount(self->work);
}

/* Packs src with pack, unpacks it into ref with unpack, populates a
 * ramfuse from the archive and compares. */
static void round_trip(struct __test_metadata *_metadata, FIXTURE_DATA(rt) *self,
		       const char *tool, const char *pack, const char *unpack, bool nsec,
		       bool xattrs, bool weak_ref)
{
	char cmd[1024], out[4096], o[256];

	if (!have_tool(tool))
		SKIP(return, "no %s here", tool);
	snprintf(cmd, sizeof(cmd), pack, self->src, self->work);
	ASSERT_EQ(0, sh(cmd, out, sizeof(out))) TH_LOG("%s: %s", cmd, out);
	snprintf(cmd, sizeof(cmd), unpack, self->ref, self->work);
	ASSERT_EQ(0, sh(cmd, out, sizeof(out))) TH_LOG("%s: %s", cmd, out);
	snprintf(o, sizeof(o), "populate=%s/archive", self->work);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, o)) TH_LOG("%s", self->rf.err);
	struct cmp c = { .md = _metadata, .nsec = nsec, .xattrs = xattrs, .weak_ref = weak_ref };
	cmp_tree(&c, self->ref, self->rf.mnt, "");
	EXPECT_EQ(0, c.bad) TH_LOG("%d differences, first %s", c.bad, c.why);
	EXPECT_LT(20, c.entries);
	/* and the same as what was packed, where the format carries it */
	struct cmp s = { .md = _metadata, .nsec = nsec, .xattrs = xattrs };
	cmp_tree(&s, self->src, self->rf.mnt, "");
	EXPECT_EQ(0, s.bad) TH_LOG("against the source: %d differences, first %s", s.bad, s.why);
	/* and the inodes are counted: one per entry that is not a hard link */
	EXPECT_LT(20, stats_get(&self->rf, "inodes"));
}

TEST_F(rt, cpio_newc)
{
	round_trip(_metadata, self, "cpio",
		   "cd %s && find . -print0 | cpio -o -0 -H newc --quiet > %s/archive",
		   "cd %s && cpio -i -d -m -u --quiet --no-absolute-filenames < %s/archive",
		   false, false, true);
}

TEST_F(rt, cpio_crc)
{
	round_trip(_metadata, self, "cpio",
		   "cd %s && find . -print0 | cpio -o -0 -H crc --quiet > %s/archive",
		   "cd %s && cpio -i -d -m -u --quiet --no-absolute-filenames < %s/archive",
		   false, false, true);
}

TEST_F(rt, tar_pax)
{
	round_trip(_metadata, self, "tar",
		   "tar --xattrs --xattrs-include='*' --format=pax -C %s -cf %s/archive .",
		   "tar --xattrs --xattrs-include='*' --numeric-owner -xpf %2$s/archive -C %1$s",
		   true, true, false);
}

TEST_F(rt, tar_gnu)
{
	round_trip(_metadata, self, "tar",
		   "tar --format=gnu -C %s -cf %s/archive .",
		   "tar --numeric-owner -xpf %2$s/archive -C %1$s",
		   false, false, false);
}

TEST_F(rt, directory)
{
	char o[256];

	snprintf(o, sizeof(o), "populate=%s", self->src);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, o)) TH_LOG("%s", self->rf.err);
	struct cmp c = { .md = _metadata, .nsec = true, .xattrs = true };
	cmp_tree(&c, self->src, self->rf.mnt, "");
	EXPECT_EQ(0, c.bad) TH_LOG("%d differences, first %s", c.bad, c.why);
	EXPECT_LT(20, c.entries);
}

/* gzip is not read: a pipe from zcat is (README) */
TEST_F(rt, gzip_through_a_pipe)
{
	char cmd[1024], out[4096];

	if (!have_tool("tar") || !have_tool("gzip"))
		SKIP(return, "no tar or gzip here");
	snprintf(cmd, sizeof(cmd), "tar --xattrs --xattrs-include='*' --format=pax -C %s -czf %s/a.tgz .",
		 self->src, self->work);
	ASSERT_EQ(0, sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, rf_prepare(&self->rf));
	snprintf(cmd, sizeof(cmd), "%s -o populate=%s/a.tgz %s", ramfuse_path(), self->work,
		 self->rf.mnt);
	EXPECT_EQ(1, sh(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "zcat")) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "zcat %s/a.tgz | %s -o populate=/dev/stdin,stats=%s %s",
		 self->work, ramfuse_path(), self->rf.stats, self->rf.mnt);
	ASSERT_EQ(0, sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	self->rf.mounted = 1;
	self->rf.pid = (pid_t)stats_get(&self->rf, "pid");
	struct cmp c = { .md = _metadata, .nsec = true, .xattrs = true };
	cmp_tree(&c, self->src, self->rf.mnt, "");
	EXPECT_EQ(0, c.bad) TH_LOG("%d differences, first %s", c.bad, c.why);
}

/* ---- hostile archives, made here ---- */

struct buf {
	unsigned char d[1 << 16];
	size_t n;
};

static void cpio_entry(struct buf *b, const char *magic, const char *name, unsigned mode,
		       const void *data, size_t size, unsigned nlink, unsigned ino, unsigned check)
{
	size_t ns = strlen(name) + 1;
	b->n += (size_t)sprintf((char *)b->d + b->n,
				"%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X",
				magic, ino, mode, 0, 0, nlink, 1000000000, (unsigned)size, 0, 0, 0, 0,
				ns, check);
	memcpy(b->d + b->n, name, ns);
	b->n += ns;
	while (b->n & 3)
		b->d[b->n++] = 0;
	memcpy(b->d + b->n, data, size);
	b->n += size;
	while (b->n & 3)
		b->d[b->n++] = 0;
}

static void cpio_file(struct buf *b, const char *name, unsigned mode, const char *data)
{
	static unsigned ino = 100;
	cpio_entry(b, "070701", name, mode, data, strlen(data), 1, ino++, 0);
}

static void cpio_end(struct buf *b)
{
	cpio_entry(b, "070701", "TRAILER!!!", 0, "", 0, 1, 0, 0);
}

static void tar_entry(struct buf *b, const char *name, char type, const char *link,
		      const void *data, size_t size)
{
	unsigned char *h = b->d + b->n;
	memset(h, 0, 512);
	strncpy((char *)h, name, 100);
	sprintf((char *)h + 100, "%07o", 0644);
	sprintf((char *)h + 108, "%07o", 0);
	sprintf((char *)h + 116, "%07o", 0);
	sprintf((char *)h + 124, "%011zo", size);
	sprintf((char *)h + 136, "%011o", 1000000000);
	h[156] = (unsigned char)type;
	if (link)
		strncpy((char *)h + 157, link, 100);
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	sprintf((char *)h + 148, "%06o", sum);
	b->n += 512;
	memcpy(b->d + b->n, data, size);
	b->n += (size + 511) & ~(size_t)511;
}

static void tar_end(struct buf *b)
{
	memset(b->d + b->n, 0, 1024);
	b->n += 1024;
}

FIXTURE(bad) {
	struct ramfuse rf;
	char dir[64];   /* a tmpfs: the archive, and a place to escape to */
	char file[128];
	struct buf b;
};

FIXTURE_SETUP(bad)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, tmpfs_mount(self->dir, sizeof(self->dir), "mode=0755"));
	snprintf(self->file, sizeof(self->file), "%s/archive", self->dir);
	ASSERT_EQ(0, rf_prepare(&self->rf));
	self->b.n = 0;
}

FIXTURE_TEARDOWN(bad)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	tmpfs_umount(self->dir);
}

/* The archive in b is refused: exit 1, a message naming what, nothing
 * mounted, nothing made outside. */
static void refused(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
		    const char *opts, const char *what)
{
	char o[512], out[4096];
	const char *argv[] = { "ramfuse", "-o", o, self->rf.mnt, NULL };

	ASSERT_EQ(0, put(self->file, (char *)self->b.d, self->b.n, 0644));
	snprintf(o, sizeof(o), "populate=%s%s%s", self->file, *opts ? "," : "", opts);
	EXPECT_EQ(1, rf_run(ramfuse_path(), argv, 20000, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "ramfuse: populate=", 18)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, what)) TH_LOG("no '%s' in: %s", what, out);
	EXPECT_FALSE(is_mounted(self->rf.mnt));
	DIR *d = opendir(self->dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	EXPECT_EQ(1, n) TH_LOG("something was made next to the archive");
}

TEST_F(bad, cpio_dotdot)
{
	cpio_file(&self->b, "ok", S_IFREG | 0644, "fine");
	cpio_file(&self->b, "sub/../../evil", S_IFREG | 0644, "evil");
	cpio_end(&self->b);
	refused(_metadata, self, "", "'sub/../../evil': a '..' component");
}

TEST_F(bad, cpio_absolute)
{
	cpio_file(&self->b, "/evil", S_IFREG | 0644, "evil");
	cpio_end(&self->b);
	refused(_metadata, self, "", "'/evil': an absolute path");
}

TEST_F(bad, cpio_symlink_escape)
{
	char target[128];

	snprintf(target, sizeof(target), "%s", self->dir);
	cpio_entry(&self->b, "070701", "link", S_IFLNK | 0777, target, strlen(target), 1, 7, 0);
	cpio_file(&self->b, "link/evil", S_IFREG | 0644, "evil");
	cpio_end(&self->b);
	refused(_metadata, self, "", "'link/evil': 'link' on the way is a symlink");
}

TEST_F(bad, cpio_truncated)
{
	cpio_file(&self->b, "file", S_IFREG | 0644, "some data that is cut");
	self->b.n -= 12;
	refused(_metadata, self, "", "'file': truncated");
}

TEST_F(bad, cpio_no_trailer)
{
	cpio_file(&self->b, "file", S_IFREG | 0644, "data");
	refused(_metadata, self, "", "no TRAILER!!!");
}

TEST_F(bad, cpio_huge_size)
{
	/* says 4 GiB - 1 of data, has 4 bytes */
	cpio_entry(&self->b, "070701", "huge", S_IFREG | 0644, "data", 4, 1, 9, 0);
	memcpy(self->b.d + 6 + 6 * 8, "FFFFFFFF", 8);
	refused(_metadata, self, "", "'huge': truncated");
}

TEST_F(bad, cpio_huge_name)
{
	cpio_file(&self->b, "name", S_IFREG | 0644, "data");
	memcpy(self->b.d + 6 + 11 * 8, "7FFFFFFF", 8);
	refused(_metadata, self, "", "name size 2147483647");
}

TEST_F(bad, cpio_not_hex)
{
	cpio_file(&self->b, "name", S_IFREG | 0644, "data");
	self->b.d[6 + 3 * 8 + 2] = 'x';
	refused(_metadata, self, "", "not hex");
}

TEST_F(bad, cpio_checksum)
{
	/* "abc": 0x61 + 0x62 + 0x63 = 0x126 */
	cpio_entry(&self->b, "070702", "good", S_IFREG | 0644, "abc", 3, 1, 1, 0x126);
	cpio_entry(&self->b, "070702", "bad", S_IFREG | 0644, "abc", 3, 1, 2, 0x127);
	cpio_end(&self->b);
	refused(_metadata, self, "", "'bad': checksum error");
}

TEST_F(bad, cpio_name_too_long)
{
	char name[300];
	memset(name, 'a', 256);
	name[256] = 0;
	cpio_file(&self->b, name, S_IFREG | 0644, "data");
	cpio_end(&self->b);
	refused(_metadata, self, "", "a name longer than 255 bytes");
}

TEST_F(bad, size_exceeded)
{
	static char data[20000];
	memset(data, 'x', sizeof(data) - 1);
	cpio_file(&self->b, "small", S_IFREG | 0644, "ok");
	cpio_file(&self->b, "large", S_IFREG | 0644, data);
	cpio_end(&self->b);
	refused(_metadata, self, "size=8k", "'large': writing: no space left (size=");
}

TEST_F(bad, nr_inodes_exceeded)
{
	char name[16];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		cpio_file(&self->b, name, S_IFREG | 0644, "x");
	}
	cpio_end(&self->b);
	refused(_metadata, self, "nr_inodes=5", "creating: no space left");
}

TEST_F(bad, tar_checksum)
{
	tar_entry(&self->b, "good", '0', NULL, "abc", 3);
	size_t at = self->b.n;
	tar_entry(&self->b, "corrupt", '0', NULL, "abc", 3);
	self->b.d[at + 100] ^= 1; /* the mode, under the checksum */
	tar_end(&self->b);
	refused(_metadata, self, "", "'corrupt': checksum error");
}

TEST_F(bad, tar_symlink_escape)
{
	tar_entry(&self->b, "link", '2', self->dir, "", 0);
	tar_entry(&self->b, "link/evil", '0', NULL, "evil", 4);
	tar_end(&self->b);
	refused(_metadata, self, "", "'link/evil': 'link' on the way is a symlink");
}

TEST_F(bad, tar_dotdot_hardlink)
{
	tar_entry(&self->b, "hl", '1', "../../etc/passwd", "", 0);
	tar_end(&self->b);
	refused(_metadata, self, "", "'../../etc/passwd': a '..' component");
}

TEST_F(bad, tar_truncated)
{
	tar_entry(&self->b, "file", '0', NULL, "0123456789", 10);
	self->b.n -= 512 - 5; /* half the data */
	refused(_metadata, self, "", "'file': truncated");
}

TEST_F(bad, tar_no_end)
{
	tar_entry(&self->b, "file", '0', NULL, "0123456789", 10);
	refused(_metadata, self, "", "no end-of-archive block");
}

TEST_F(bad, tar_bad_pax)
{
	static const char rec[] = "99 path=x\n";
	tar_entry(&self->b, "pax", 'x', NULL, rec, sizeof(rec) - 1);
	tar_entry(&self->b, "file", '0', NULL, "x", 1);
	tar_end(&self->b);
	refused(_metadata, self, "", "a bad pax record");
}

TEST_F(bad, tar_pax_path_escape)
{
	static const char rec[] = "19 path=/etc/evil1\n";
	tar_entry(&self->b, "pax", 'x', NULL, rec, sizeof(rec) - 1);
	tar_entry(&self->b, "harmless", '0', NULL, "x", 1);
	tar_end(&self->b);
	refused(_metadata, self, "", "'/etc/evil1': an absolute path");
}

TEST_F(bad, tar_huge_size)
{
	tar_entry(&self->b, "huge", '0', NULL, "x", 1);
	/* base-256: 2^62 bytes */
	memset(self->b.d + 124, 0, 12);
	self->b.d[124] = 0x80;
	self->b.d[124 + 4] = 0x40;
	memset(self->b.d + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += self->b.d[i];
	sprintf((char *)self->b.d + 148, "%06o", sum);
	tar_end(&self->b);
	refused(_metadata, self, "", "'huge': truncated");
}

TEST_F(bad, not_an_archive)
{
	memcpy(self->b.d, "just some text\n", 15);
	self->b.n = 15;
	refused(_metadata, self, "", "neither a directory, a cpio (newc) nor a tar archive");
}

TEST_HARNESS_MAIN
