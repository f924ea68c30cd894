/* SPDX-License-Identifier: MIT */
/*
 * kselftest.h - the helpers the Linux kselftest.h offers tests, written for
 * this project so that kernel selftests build unchanged against harness.h
 * (which includes this file, as the kernel's harness includes its own):
 *
 *   ARRAY_SIZE(a), KSFT_PASS/FAIL/XFAIL/XPASS/SKIP (exit codes)
 *   ksft_print_header(), ksft_set_plan(n), ksft_print_cnts()
 *   ksft_print_msg(fmt, ...), ksft_perror(msg)      "# ..." lines
 *   ksft_test_result_pass/fail/xfail/skip/error(fmt, ...), ksft_test_result(
 *     cond, fmt, ...), ksft_test_result_code(code, name, fmt, ...),
 *     ksft_test_result_report(code, fmt, ...)      one "ok N ..." line each
 *   ksft_exit_pass/fail/xfail/xpass(), ksft_exit_skip(fmt, ...),
 *     ksft_exit_fail_msg(fmt, ...), ksft_exit_fail_perror(msg),
 *     ksft_exit(cond), ksft_finished()             print the counts, exit
 *   ksft_min_kernel_version(major, minor)           1 if the kernel is new enough
 *   ksft_test_num(), ksft_inc_*_cnt(), ksft_get_*_cnt()
 *
 * The counts are per program (static): these are for tests that print
 * their own TAP lines (ksft_* style), not for TEST()s, whose lines the
 * harness prints.
 */
#ifndef RAMFUSE_TEST_KSELFTEST_H
#define RAMFUSE_TEST_KSELFTEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* exit codes of a test program, as the kselftest runner reads them */
#define KSFT_PASS  0
#define KSFT_FAIL  1
#define KSFT_XFAIL 2
#define KSFT_XPASS 3
#define KSFT_SKIP  4

#ifndef __noreturn
#define __noreturn __attribute__((__noreturn__))
#endif
#ifndef __printf
#define __printf(a, b) __attribute__((format(printf, a, b)))
#endif

struct ksft_count {
	unsigned int ksft_pass, ksft_fail, ksft_xfail, ksft_xpass, ksft_xskip,
		     ksft_error;
};

static struct ksft_count ksft_cnt __attribute__((unused));
static unsigned int ksft_plan __attribute__((unused));

static inline unsigned int ksft_test_num(void)
{
	return ksft_cnt.ksft_pass + ksft_cnt.ksft_fail + ksft_cnt.ksft_xfail +
	       ksft_cnt.ksft_xpass + ksft_cnt.ksft_xskip + ksft_cnt.ksft_error;
}

static inline void ksft_inc_pass_cnt(void) { ksft_cnt.ksft_pass++; }
static inline void ksft_inc_fail_cnt(void) { ksft_cnt.ksft_fail++; }
static inline void ksft_inc_xfail_cnt(void) { ksft_cnt.ksft_xfail++; }
static inline void ksft_inc_xpass_cnt(void) { ksft_cnt.ksft_xpass++; }
static inline void ksft_inc_xskip_cnt(void) { ksft_cnt.ksft_xskip++; }
static inline void ksft_inc_error_cnt(void) { ksft_cnt.ksft_error++; }
static inline int ksft_get_pass_cnt(void) { return (int)ksft_cnt.ksft_pass; }
static inline int ksft_get_fail_cnt(void) { return (int)ksft_cnt.ksft_fail; }
static inline int ksft_get_xfail_cnt(void) { return (int)ksft_cnt.ksft_xfail; }
static inline int ksft_get_xpass_cnt(void) { return (int)ksft_cnt.ksft_xpass; }
static inline int ksft_get_xskip_cnt(void) { return (int)ksft_cnt.ksft_xskip; }
static inline int ksft_get_error_cnt(void) { return (int)ksft_cnt.ksft_error; }

static inline void ksft_print_header(void)
{
	/* KSFT_TAP_LEVEL set: an outer runner printed the version line */
	if (!getenv("KSFT_TAP_LEVEL"))
		printf("TAP version 13\n");
}

static inline void ksft_set_plan(unsigned int plan)
{
	ksft_plan = plan;
	printf("1..%u\n", plan);
}

static inline void ksft_print_cnts(void)
{
	if (ksft_plan != ksft_test_num())
		printf("# Planned tests != run tests (%u != %u)\n", ksft_plan,
		       ksft_test_num());
	printf("# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:%u\n",
	       ksft_cnt.ksft_pass, ksft_cnt.ksft_fail, ksft_cnt.ksft_xfail,
	       ksft_cnt.ksft_xpass, ksft_cnt.ksft_xskip, ksft_cnt.ksft_error);
}

/* "prefix N " then the message; errno is the caller's for %m */
static inline void __ksft_line(const char *prefix, const char *directive,
			       const char *fmt, va_list ap)
{
	int saved = errno;

	fflush(stdout);
	printf("%s %u %s", prefix, ksft_test_num(), directive);
	errno = saved;
	vprintf(fmt, ap);
	fflush(stdout);
}

static inline __printf(1, 2) void ksft_print_msg(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fflush(stdout);
	printf("# ");
	errno = saved;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static inline void ksft_perror(const char *msg)
{
	ksft_print_msg("%s: %s (%d)\n", msg, strerror(errno), errno);
}

#define __KSFT_RESULT(name, counter, prefix, directive)			\
	static inline __printf(1, 2) void name(const char *fmt, ...)	\
	{								\
		va_list ap;						\
									\
		counter++;						\
		va_start(ap, fmt);					\
		__ksft_line(prefix, directive, fmt, ap);		\
		va_end(ap);						\
	}

__KSFT_RESULT(ksft_test_result_pass, ksft_cnt.ksft_pass, "ok", "")
__KSFT_RESULT(ksft_test_result_fail, ksft_cnt.ksft_fail, "not ok", "")
__KSFT_RESULT(ksft_test_result_xfail, ksft_cnt.ksft_xfail, "ok", "# XFAIL ")
__KSFT_RESULT(ksft_test_result_skip, ksft_cnt.ksft_xskip, "ok", "# SKIP ")
__KSFT_RESULT(ksft_test_result_error, ksft_cnt.ksft_error, "not ok", "# error ")

#define ksft_test_result(cond, fmt, ...)				\
	do {								\
		if (cond)						\
			ksft_test_result_pass(fmt, ##__VA_ARGS__);	\
		else							\
			ksft_test_result_fail(fmt, ##__VA_ARGS__);	\
	} while (0)

/* one result line for test_name by exit code: "ok N name", "ok N name #
 * SKIP msg", ... */
static inline __printf(3, 4) void ksft_test_result_code(int code, const char *test_name,
							  const char *fmt, ...)
{
	const char *prefix = "ok", *directive = "";
	char msg[512] = "";
	va_list ap;

	switch (code) {
	case KSFT_PASS:
		ksft_cnt.ksft_pass++;
		break;
	case KSFT_XFAIL:
		ksft_cnt.ksft_xfail++;
		directive = " # XFAIL ";
		break;
	case KSFT_XPASS:
		ksft_cnt.ksft_xpass++;
		directive = " # XPASS ";
		break;
	case KSFT_SKIP:
		ksft_cnt.ksft_xskip++;
		directive = " # SKIP ";
		break;
	case KSFT_FAIL:
	default:
		ksft_cnt.ksft_fail++;
		prefix = "not ok";
		break;
	}
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	printf("%s %u %s%s%s\n", prefix, ksft_test_num(), test_name,
	       *msg && !*directive ? " # " : directive, msg);
	fflush(stdout);
}

#define ksft_test_result_report(code, fmt, ...)				\
	do {								\
		switch (code) {						\
		case KSFT_PASS:						\
			ksft_test_result_pass(fmt, ##__VA_ARGS__);	\
			break;						\
		case KSFT_XFAIL:					\
			ksft_test_result_xfail(fmt, ##__VA_ARGS__);	\
			break;						\
		case KSFT_SKIP:						\
			ksft_test_result_skip(fmt, ##__VA_ARGS__);	\
			break;						\
		default:						\
			ksft_test_result_fail(fmt, ##__VA_ARGS__);	\
			break;						\
		}							\
	} while (0)

static inline __noreturn void ksft_exit_pass(void)
{
	ksft_print_cnts();
	exit(KSFT_PASS);
}

static inline __noreturn void ksft_exit_fail(void)
{
	ksft_print_cnts();
	exit(KSFT_FAIL);
}

static inline __noreturn void ksft_exit_xfail(void)
{
	ksft_print_cnts();
	exit(KSFT_XFAIL);
}

static inline __noreturn void ksft_exit_xpass(void)
{
	ksft_print_cnts();
	exit(KSFT_XPASS);
}

/* pass when cond holds, else fail */
#define ksft_exit(cond)							\
	do {								\
		if (cond)						\
			ksft_exit_pass();				\
		else							\
			ksft_exit_fail();				\
	} while (0)

/* the end of a test program that set a plan: fail on any failure */
#define ksft_finished()							\
	ksft_exit(ksft_plan == ksft_cnt.ksft_pass + ksft_cnt.ksft_xfail + \
		  ksft_cnt.ksft_xskip)

static inline __noreturn __printf(1, 2) void ksft_exit_fail_msg(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	ksft_print_cnts();
	exit(KSFT_FAIL);
}

static inline __noreturn void ksft_exit_fail_perror(const char *msg)
{
	ksft_exit_fail_msg("%s: %s (%d)\n", msg, strerror(errno), errno);
}

/* the whole program skips; with nothing run yet, its plan is 1..0 */
static inline __noreturn __printf(1, 2) void ksft_exit_skip(const char *fmt, ...)
{
	va_list ap;

	if (ksft_test_num() == 0)
		printf("1..0 # SKIP ");
	else
		printf("# SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (ksft_test_num())
		ksft_print_cnts();
	exit(KSFT_SKIP);
}

/* 1 when the running kernel is at least major.minor, else 0 */
static inline int ksft_min_kernel_version(unsigned int min_major, unsigned int min_minor)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		ksft_exit_fail_msg("can't parse the kernel version\n");
	return major > min_major || (major == min_major && minor >= min_minor);
}

#endif /* RAMFUSE_TEST_KSELFTEST_H */
