// SPDX-License-Identifier: MIT
/*
 * fmt_test - the daemon's stdio-free text helpers against the C library:
 * src/fmt.c's sfmt (snprintf's subset and contract) and struct out, and
 * src/scan.c's scan_ull/scan_ll (strtoull/strtoll).  Needs neither root
 * nor /dev/fuse.
 *
 *   fmt.like_snprintf    every conversion, flag, width and length the
 *                        subset has, with edge values, gives snprintf's
 *                        text and return value
 *   fmt.truncates        a short buffer: the prefix that fits, NUL-ended,
 *                        the full length returned; size 0 writes nothing
 *   fmt.out_grows_and_drains  a memory out grows to hold 100,000 lines; an
 *                        fd out writes them all, in order, to a pipe
 *   scan.like_strto      scan_ull/scan_ll give strtoull/strtoll's value,
 *                        end and errno for signs, bases, prefixes, blanks,
 *                        garbage and overflow (glibc sets no EINVAL
 *                        where there are no digits; musl and scan do)
 */
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* one translation unit: the daemon's own sources, as they are built */
#include "../src/fmt.c"
#include "../src/scan.c"

#define SAME(f, ...)							\
	do {								\
		char want[256], got[256];				\
		int nw = snprintf(want, sizeof(want), f, __VA_ARGS__);	\
		int ng = sfmt(got, sizeof(got), f, __VA_ARGS__);	\
		EXPECT_EQ(nw, ng) {					\
			TH_LOG("%s: length %d, snprintf %d", f, ng, nw); \
		}							\
		EXPECT_STREQ(want, got) {				\
			TH_LOG("format \"%s\"", f);			\
		}							\
	} while (0)

TEST(fmt_like_snprintf)
{
	static const long long ints[] = { 0, 1, -1, 7, 42, -42, 255, 65535, 123456789,
					  INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN };

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		long long v = ints[i];

		SAME("%d|%i|%5d|%-5d|%05d|%0*d", (int)v, (int)v, (int)v, (int)v, (int)v, 9, (int)v);
		SAME("%u|%x|%X|%o|%08x|%02X", (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v,
		     (unsigned)v, (unsigned)v);
		SAME("%lld|%llu|%llx|%016llx|%-20lld|", v, (unsigned long long)v,
		     (unsigned long long)v, (unsigned long long)v, v);
		SAME("%ld|%lu|%zu|%zd|%jd|%td", (long)v, (unsigned long)v, (size_t)v,
		     (ssize_t)v, (intmax_t)v, (ptrdiff_t)v);
		SAME("%hd|%hu|%hhd|%hhu|%hx|%hhx", (short)v, (unsigned short)v, (signed char)v,
		     (unsigned char)v, (unsigned short)v, (unsigned char)v);
	}
	SAME("%s|%10s|%-10s|%.3s|%.*s|%*s|", "abc", "abc", "abc", "abcdef", 2, "xyz", -6, "ab");
	SAME("%.300s|%.0s|%s", "short", "gone", "");
	SAME("%c%c|%3c|%-3c|", 'a', 0x7f, 'b', 'c');
	SAME("100%% %s %%d", "sure");
	SAME("no conversions%s", "");
	errno = ENOENT;
	SAME("open: %m (%d)", 3);
	EXPECT_EQ(ENOENT, errno) TH_LOG("sfmt changed errno");
}

TEST(fmt_truncates)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(11, sfmt(buf, sizeof(buf), "%s-%d", "hello", 12345));
	EXPECT_STREQ("hello-1", buf);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(5, sfmt(buf, 1, "%s", "hello"));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ('x', buf[1]);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(5, sfmt(buf, 0, "%s", "hello"));
	EXPECT_EQ('x', buf[0]) TH_LOG("size 0 wrote into the buffer");
	EXPECT_EQ(7, sfmt(buf, sizeof(buf), "%07d", 42));
	EXPECT_STREQ("0000042", buf);
}

TEST(fmt_out_grows_and_drains)
{
	struct out mem = OUT_MEM, fd;
	int p[2];
	char line[64];
	size_t off = 0;

	for (int i = 0; i < 100000; i++)
		outf(&mem, "line %d %s\n", i, i % 2 ? "odd" : "even");
	out_puts(&mem, "end\n");
	ASSERT_EQ(0, mem.err);
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(line, sizeof(line), "line %d %s\n", i, i % 2 ? "odd" : "even");

		ASSERT_EQ(0, memcmp(mem.buf + off, line, (size_t)n)) {
			TH_LOG("line %d differs", i);
		}
		off += (size_t)n;
	}
	ASSERT_STREQ("end\n", mem.buf + off);
	ASSERT_EQ(off + 4, mem.len);

	/* the same text through a pipe, read by a child */
	ASSERT_EQ(0, pipe(p));
	pid_t kid = fork();

	ASSERT_LE(0, kid);
	if (kid == 0) {
		static char all[4 << 20];
		size_t got = 0;
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], all + got, sizeof(all) - got)) > 0)
			got += (size_t)n;
		_exit(got == mem.len && !memcmp(all, mem.buf, got) ? 0 : 1);
	}
	close(p[0]);
	fd = (struct out)OUT_FD(p[1]);
	out_write(&fd, mem.buf, mem.len / 2);
	out_puts(&fd, mem.buf + mem.len / 2);
	EXPECT_EQ(0, out_close(&fd));
	EXPECT_EQ(NULL, fd.buf);
	close(p[1]);
	int status;

	ASSERT_EQ(kid, waitpid(kid, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("the pipe did not carry the text whole and in order");
	free(mem.buf);
}

static bool same_errno(int libc, int ours, bool no_digits)
{
	return libc == ours || (no_digits && !libc && ours == EINVAL);
}

TEST(scan_like_strto)
{
	static const char *const in[] = {
		"0", "1", "-1", "+7", "  42", "\t\n 9x", "0x1f", "0X1F", "0x", "0xg", "017", "08",
		"09", "-0", "", " ", "-", "abc", "18446744073709551615", "18446744073709551616",
		"-18446744073709551615", "-18446744073709551616", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"99999999999999999999999", "0xffffffffffffffff", "0x10000000000000000", "z", "Z",
		"123abc", "0777777777777777777777", "01777777777777777777777",
		"02000000000000000000000",
	};
	static const int bases[] = { 0, 8, 10, 16, 36 };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			char *we, *ge;
			int wn, gn;
			unsigned long long wu, gu;
			long long wl, gl;

			errno = 0;
			wu = strtoull(in[i], &we, bases[b]);
			wn = errno;
			errno = 0;
			gu = scan_ull(in[i], &ge, bases[b]);
			gn = errno;
			EXPECT_TRUE(wu == gu && we == ge && same_errno(wn, gn, we == in[i])) {
				TH_LOG("scan_ull(\"%s\", %d): %llu +%td errno %d; strtoull: %llu +%td errno %d",
				       in[i], bases[b], gu, ge - in[i], gn, wu, we - in[i], wn);
			}
			errno = 0;
			wl = strtoll(in[i], &we, bases[b]);
			wn = errno;
			errno = 0;
			gl = scan_ll(in[i], &ge, bases[b]);
			gn = errno;
			EXPECT_TRUE(wl == gl && we == ge && same_errno(wn, gn, we == in[i])) {
				TH_LOG("scan_ll(\"%s\", %d): %lld +%td errno %d; strtoll: %lld +%td errno %d",
				       in[i], bases[b], gl, ge - in[i], gn, wl, we - in[i], wn);
			}
		}
	}
}

TEST_HARNESS_MAIN
