// SPDX-License-Identifier: MIT
/*
 * kpaths_getdents_test - READDIR and READDIRPLUS with small user buffers.
 *
 * The kernel asks the daemon for a page of entries at a time but can hand
 * the caller only what its getdents64 buffer holds; the rest of that page
 * is dropped and the next call asks again from the offset of the last entry
 * given.  With buffers for 1, 2 or 3 entries (and just short of one more)
 * over a directory of many pages, every name must come exactly once.
 *
 *   small.plain  READDIR: only the first call of a pass is READDIRPLUS
 *                (READDIRPLUS_AUTO), the rest plain (op.READDIR counts them)
 *   small.plus   READDIRPLUS all along: a stat of a returned name between
 *                calls makes the kernel keep asking for it; every entry of
 *                each reply is looked up, given or not, so afterwards all
 *                names are removed and the inode count must come back to
 *                the root alone (a lookup the kernel never forgets would
 *                keep one)
 *
 * GETDENTS_ENTRIES=N changes the directory's size (default 1500, 400 in the
 * VM: RAMFUSE_VM set; still several pages of READDIR replies).
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define NAME_FMT "e%07d"	/* 8 bytes: a 32-byte linux_dirent64 */
#define DIRENT_LEN 32

struct dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

RAMFUSE_FIXTURE(small, "entry_timeout=5,attr_timeout=5")

static int entries(void)
{
	const char *e = getenv("GETDENTS_ENTRIES");
	int n = e ? atoi(e) : 0;

	return n > 0 ? n : getenv("RAMFUSE_VM") ? 400 : 1500;
}

/* One pass over dir with getdents64 buffers of len bytes: each name counted
 * in seen[]; with stat_one, fstatat() of the first name of each batch.
 * The number of getdents64 calls, or -1 with why. */
static int pass(const char *dir, size_t len, int n, unsigned char *seen,
		bool stat_one, char *why, size_t wlen)
{
	char buf[4 * DIRENT_LEN + DIRENT_LEN - 1];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), calls = 0;

	if (fd < 0) {
		snprintf(why, wlen, "open %s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, len);
		const char *first = NULL;

		if (got < 0) {
			snprintf(why, wlen, "getdents64(%zu bytes) after %d calls: %s",
				 len, calls, strerror(errno));
			calls = -1;
			break;
		}
		if (got == 0)
			break;
		calls++;
		for (long at = 0; at < got;) {
			const struct dirent64 *d = (const void *)(buf + at);
			int i;

			at += d->reclen;
			if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
				continue;
			if (sscanf(d->name, "e%d", &i) != 1 || i < 0 || i >= n) {
				snprintf(why, wlen, "unexpected name '%s'", d->name);
				close(fd);
				return -1;
			}
			seen[i]++;
			if (!first)
				first = d->name;
		}
		if (stat_one && first) {
			struct stat st;

			fstatat(fd, first, &st, 0);
		}
	}
	close(fd);
	return calls;
}

static void getdents_small(struct __test_metadata *_metadata, struct ramfuse *rf,
			   bool plus)
{
	int n = entries(), fd;
	unsigned char *seen = calloc((size_t)n, 1);
	char p[300], why[256];
	long long rd0, rdp0;

	ASSERT_NE(NULL, seen);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/" NAME_FMT, rf->mnt, i);
		fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", p, strerror(errno));
		close(fd);
	}
	for (int k = 1; k <= 3; k++) {
		/* room for k entries exactly, and one byte short of k + 1 */
		size_t sizes[2] = { (size_t)k * DIRENT_LEN, (size_t)(k + 1) * DIRENT_LEN - 1 };

		for (int s = 0; s < 2; s++) {
			int calls, lost = 0, twice = 0, first_bad = -1;

			ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
			rd0 = stats_get(rf, "op.READDIR");
			rdp0 = stats_get(rf, "op.READDIRPLUS");
			memset(seen, 0, (size_t)n);
			calls = pass(rf->mnt, sizes[s], n, seen, plus, why, sizeof(why));
			ASSERT_LT(0, calls) TH_LOG("%s", why);
			for (int i = 0; i < n; i++) {
				lost += !seen[i];
				twice += seen[i] > 1;
				if (seen[i] != 1 && first_bad < 0)
					first_bad = i;
			}
			ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
			TH_LOG("%s, %zu-byte buffer: %d calls, READDIR %lld, READDIRPLUS %lld, "
			       "%d lost, %d repeated", plus ? "plus" : "plain", sizes[s], calls,
			       stats_get(rf, "op.READDIR") - rd0,
			       stats_get(rf, "op.READDIRPLUS") - rdp0, lost, twice);
			EXPECT_EQ(0, lost) TH_LOG("first: " NAME_FMT, first_bad);
			EXPECT_EQ(0, twice) TH_LOG("first: " NAME_FMT, first_bad);
			/* a pass makes about n / k calls, each asking the daemon */
			if (plus) {
				EXPECT_LE(n / k / 2, stats_get(rf, "op.READDIRPLUS") - rdp0);
			} else {
				EXPECT_LE(n / k / 2, stats_get(rf, "op.READDIR") - rd0);
			}
		}
	}
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/" NAME_FMT, rf->mnt, i);
		ASSERT_EQ(0, unlink(p)) TH_LOG("%s: %s", p, strerror(errno));
	}
	free(seen);
	/* every lookup the replies made is forgotten: only the root is left */
	drop_caches(2);
	EXPECT_EQ(1, stats_wait_le(rf, "inodes", 1, 5000))
		TH_LOG("inodes left after unlinking all and dropping caches");
}

TEST_F_TIMEOUT(small, plain, 120)
{
	getdents_small(_metadata, &self->rf, false);
}

TEST_F_TIMEOUT(small, plus, 120)
{
	getdents_small(_metadata, &self->rf, true);
}

TEST_HARNESS_MAIN
