// SPDX-License-Identifier: MIT
/*
 * File data: odd offsets and sizes across 1 MiB boundaries, holes, append,
 * truncation, a 16 MiB checksum, and unlinked-but-open files.  Run with
 * passthrough off (every byte through the daemon) and with the default
 * (passthrough=auto).
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <sys/stat.h>

#define MiB (1ULL << 20)

FIXTURE(data) {
	struct ramfuse rf;
	char file[256];
};

FIXTURE_VARIANT(data) {
	const char *opts;
};

FIXTURE_VARIANT_ADD(data, threads1) { .opts = "threads=1,passthrough=off" };
FIXTURE_VARIANT_ADD(data, threads2) { .opts = "threads=2,passthrough=off" };
FIXTURE_VARIANT_ADD(data, passthrough_auto) { .opts = "threads=2" };

FIXTURE_SETUP(data)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, variant->opts)) TH_LOG("%s", self->rf.err);
	snprintf(self->file, sizeof(self->file), "%s/file", self->rf.mnt);
}

FIXTURE_TEARDOWN(data)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

/* drop the page cache of fd so the next read goes to the filesystem */
static void uncache(struct __test_metadata *_metadata, int fd)
{
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
}

/* compare [off, off+len) of the file with model */
static void verify(struct __test_metadata *_metadata, int fd,
		   const unsigned char *model, size_t off, size_t len,
		   const char *what)
{
	unsigned char *buf = malloc(len + 1);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	n = pread_all(fd, buf, len, (off_t)off);
	EXPECT_EQ((ssize_t)len, n) TH_LOG("%s: short read at %zu", what, off);
	if (n == (ssize_t)len) {
		for (size_t i = 0; i < len; i++) {
			if (buf[i] != model[off + i]) {
				EXPECT_EQ(model[off + i], buf[i])
					TH_LOG("%s: first mismatch at offset %zu", what,
					       off + i);
				break;
			}
		}
	}
	free(buf);
}

TEST_F(data, odd_offsets)
{
	static const struct { size_t off, len; } w[] = {
		{ 0, 1 }, { 1, 4095 }, { 4095, 2 }, { 3 * 4096 - 1, 4098 },
		{ MiB - 7, MiB + 123 }, { 3 * MiB + 5, 65537 },
		{ 2 * MiB - 1, 3 }, { 4 * MiB - 4096, 8192 + 1 },
		{ 100, 131072 + 17 },
	};
	const size_t size = 5 * MiB;
	unsigned char *model = calloc(1, size), *chunk;
	size_t end = 0;
	struct stat st;
	int fd;

	ASSERT_NE(NULL, model);
	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		chunk = model + w[i].off;
		pattern_fill(chunk, w[i].len, w[i].off, (unsigned)i + 1);
		ASSERT_EQ((ssize_t)w[i].len,
			  pwrite_all(fd, chunk, w[i].len, (off_t)w[i].off))
			TH_LOG("write %zu at %zu: %s", w[i].len, w[i].off, strerror(errno));
		if (w[i].off + w[i].len > end)
			end = w[i].off + w[i].len;
		verify(_metadata, fd, model, w[i].off, w[i].len, "just written");
	}
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)end, st.st_size);

	/* the whole file, from the cache and then from the daemon */
	verify(_metadata, fd, model, 0, end, "cached");
	uncache(_metadata, fd);
	verify(_metadata, fd, model, 0, end, "uncached");
	/* odd-sized reads straddling the boundaries */
	verify(_metadata, fd, model, MiB - 3, 10, "around 1 MiB");
	verify(_metadata, fd, model, 2 * MiB - 2, 4, "around 2 MiB");
	verify(_metadata, fd, model, 4095, 4097, "page straddle");
	close(fd);

	/* a fresh open sees the same */
	ASSERT_EQ(0, drop_caches(1));
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	verify(_metadata, fd, model, 0, end, "reopened");
	{
		char c;

		EXPECT_EQ(0, pread(fd, &c, 1, (off_t)end)) TH_LOG("read at EOF");
		EXPECT_EQ(0, pread(fd, &c, 1, (off_t)end + 12345));
	}
	close(fd);
	free(model);
}

TEST_F(data, sparse_holes)
{
	const size_t size = 24 * MiB;
	unsigned char *model = calloc(1, size);
	struct stat st;
	int fd;

	ASSERT_NE(NULL, model);
	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 10 * MiB));
	pattern_fill(model + 5 * MiB + 3, 100, 5 * MiB + 3, 11);
	ASSERT_EQ(100, pwrite_all(fd, model + 5 * MiB + 3, 100, 5 * MiB + 3));
	/* write beyond EOF: [10 MiB, 20 MiB) becomes a hole */
	pattern_fill(model + 20 * MiB + 1, 4000, 20 * MiB + 1, 12);
	ASSERT_EQ(4000, pwrite_all(fd, model + 20 * MiB + 1, 4000, 20 * MiB + 1));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)(20 * MiB + 4001), st.st_size);
	uncache(_metadata, fd);
	verify(_metadata, fd, model, 0, 20 * MiB + 4001, "sparse");
	close(fd);
	free(model);
}

TEST_F(data, append)
{
	char buf[64];
	struct stat st;
	int fd, fd2;

	fd = open(self->file, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	fd2 = open(self->file, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(3, write(fd, "abc", 3));
	ASSERT_EQ(4, write(fd2, "defg", 4));
	/* even after seeking back, O_APPEND writes go to the end */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(2, write(fd, "hi", 2));
	ASSERT_EQ(9, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(1, write(fd2, "j", 1));
	close(fd);
	close(fd2);
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(10, st.st_size);
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	uncache(_metadata, fd);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(10, read(fd, buf, sizeof(buf)));
	EXPECT_STREQ("abcdefghij", buf);
	close(fd);
}

TEST_F(data, truncate)
{
	unsigned char buf[8192], back[8192];
	struct stat st;
	int fd;

	memset(buf, 'A', sizeof(buf));
	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(buf), pwrite_all(fd, buf, sizeof(buf), 0));
	/* shrink and grow again: the old bytes must not come back */
	ASSERT_EQ(0, ftruncate(fd, 100));
	ASSERT_EQ(0, ftruncate(fd, 8192));
	uncache(_metadata, fd);
	ASSERT_EQ(8192, pread_all(fd, back, sizeof(back), 0));
	for (int i = 0; i < 8192; i++) {
		if (back[i] != (i < 100 ? 'A' : 0)) {
			EXPECT_EQ(i < 100 ? 'A' : 0, back[i]) TH_LOG("offset %d", i);
			break;
		}
	}
	/* truncate in the middle of a page, across 1 MiB */
	ASSERT_EQ(0, ftruncate(fd, MiB + 10));
	memset(buf, 'B', sizeof(buf));
	ASSERT_EQ(4096, pwrite_all(fd, buf, 4096, MiB - 2048));
	ASSERT_EQ(0, ftruncate(fd, MiB - 1));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)MiB - 1, st.st_size);
	ASSERT_EQ(0, ftruncate(fd, MiB + 4096));
	uncache(_metadata, fd);
	ASSERT_EQ(4096, pread_all(fd, back, 4096, MiB - 2048));
	for (int i = 0; i < 4096; i++) {
		if (back[i] != (i < 2047 ? 'B' : 0)) {
			EXPECT_EQ(i < 2047 ? 'B' : 0, back[i]) TH_LOG("offset %d", i);
			break;
		}
	}
	close(fd);

	/* O_TRUNC empties an existing file */
	fd = open(self->file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_size);
	close(fd);
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ(0, st.st_size);
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, back, 1));
	close(fd);
}

/* FNV-1a, 64 bit */
static unsigned long long fnv(unsigned long long h, const unsigned char *p,
			      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

TEST_F_TIMEOUT(data, checksum_16m, 60)
{
	const size_t size = 16 * MiB, wchunk = 128 * 1024 + 3, rchunk = 100003;
	unsigned char *buf = malloc(wchunk > rchunk ? wchunk : rchunk);
	unsigned long long want = 0xcbf29ce484222325ULL, got = want;
	struct stat st;
	size_t off;
	int fd;

	ASSERT_NE(NULL, buf);
	fd = open(self->file, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	for (off = 0; off < size; off += wchunk) {
		size_t n = size - off < wchunk ? size - off : wchunk;

		pattern_fill(buf, n, off, 99);
		want = fnv(want, buf, n);
		ASSERT_EQ((ssize_t)n, write(fd, buf, n)) TH_LOG("at %zu: %s", off, strerror(errno));
	}
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(self->file, &st));
	ASSERT_EQ((off_t)size, st.st_size);
	ASSERT_EQ(0, stats_refresh(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_LE((long long)size, stats_get(&self->rf, "bytes"));

	ASSERT_EQ(0, drop_caches(1));
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (off = 0;;) {
		ssize_t n = read(fd, buf, rchunk);

		ASSERT_LE(0, n) TH_LOG("%s", strerror(errno));
		if (!n)
			break;
		got = fnv(got, buf, (size_t)n);
		off += (size_t)n;
	}
	close(fd);
	EXPECT_EQ(size, off);
	EXPECT_EQ(want, got);
	free(buf);

	/* removing it gives the memory back */
	ASSERT_EQ(0, unlink(self->file));
	EXPECT_GT((long long)MiB, stats_wait_le(&self->rf, "bytes", 0, 5000));
}

TEST_F(data, unlinked_open)
{
	struct ramfuse *rf = &self->rf;
	unsigned char *buf = malloc(MiB), *back = malloc(MiB);
	long long inodes0, bytes0;
	struct stat st;
	int fd;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	inodes0 = stats_get(rf, "inodes");
	bytes0 = stats_get(rf, "bytes");
	ASSERT_LE(1, inodes0);

	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	pattern_fill(buf, MiB, 0, 5);
	ASSERT_EQ((ssize_t)MiB, pwrite_all(fd, buf, MiB, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(inodes0 + 1, stats_wait_ge(rf, "inodes", inodes0 + 1, 2000));

	ASSERT_EQ(0, unlink(self->file));
	EXPECT_EQ(-1, stat(self->file, &st));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_nlink);
	EXPECT_EQ((off_t)MiB, st.st_size);

	/* still readable and writable through the descriptor */
	uncache(_metadata, fd);
	ASSERT_EQ((ssize_t)MiB, pread_all(fd, back, MiB, 0));
	EXPECT_EQ(0, memcmp(buf, back, MiB));
	pattern_fill(buf, 4096, MiB, 6);
	ASSERT_EQ(4096, pwrite_all(fd, buf, 4096, MiB));
	uncache(_metadata, fd);
	ASSERT_EQ(4096, pread_all(fd, back, 4096, MiB));
	EXPECT_EQ(0, memcmp(buf, back, 4096));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)MiB + 4096, st.st_size);
	ASSERT_EQ(0, stats_refresh(rf));
	EXPECT_EQ(inodes0 + 1, stats_get(rf, "inodes")) TH_LOG("freed while open");
	EXPECT_LE(bytes0 + (long long)MiB, stats_get(rf, "bytes"));

	/* the last close frees inode and data */
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(inodes0, stats_wait_le(rf, "inodes", inodes0, 5000));
	EXPECT_EQ(bytes0, stats_wait_le(rf, "bytes", bytes0, 5000));
	free(buf);
	free(back);
}

TEST_HARNESS_MAIN
