/* SPDX-License-Identifier: MIT */
/*
 * harness.h - a small kselftest-compatible test harness for ramfuse.
 *
 * Written for this project; the API mirrors the Linux kselftest harness so
 * tests read the same, and the output is TAP 13 in the kselftest format.
 *
 *   TEST(name) { ... }                       test in the implicit "global" fixture
 *   TEST_SIGNAL(name, sig) { ... }           passes iff the test dies by sig
 *   TEST_TIMEOUT(name, secs) { ... }         like TEST with its own timeout
 *   FIXTURE(f) { members; };                 fixture data, reachable as self->x
 *   FIXTURE_VARIANT(f) { members; };         optional, reachable as variant->x
 *   FIXTURE_VARIANT_ADD(f, v) { .x = 1 };    one run of every TEST_F per variant
 *   FIXTURE_SETUP(f) { ... }                 optional
 *   FIXTURE_TEARDOWN(f) { ... }              optional; see "teardown" below
 *   TEST_F(f, name) { ... }
 *   TEST_F_TIMEOUT(f, name, secs) { ... }
 *   TEST_HARNESS_MAIN
 *
 *   ASSERT_EQ/NE/LT/LE/GT/GE(expected, seen), ASSERT_TRUE/FALSE(x),
 *   ASSERT_NULL(p), ASSERT_STREQ/STRNE(a, b) and the EXPECT_* forms.
 *   ASSERT_* ends the test (teardown still runs); EXPECT_* marks it failed
 *   and carries on.  A statement may follow either one and runs only on
 *   failure, e.g.  ASSERT_EQ(0, ret) TH_LOG("open: %s", strerror(errno));
 *   Integer comparisons are done on the mathematical values, so signed and
 *   unsigned operands may be mixed.
 *   SKIP(statement, fmt, ...)  marks the test skipped (unless it already
 *   failed) with a reason, then runs statement (usually "return").
 *   TH_LOG(fmt, ...)           diagnostic line "# file:line:test:msg" on stderr.
 *
 * Running: every test runs in its own forked child, in its own process
 * group, with a timeout (default 30 s, TEST_F_TIMEOUT / TEST_TIMEOUT to
 * change; environment TEST_TIMEOUT_MULT=N multiplies every timeout, for slow
 * emulated machines).  A child that hangs is killed (the whole process
 * group) and reported "not ok N name # TIMEOUT".
 *
 * Teardown: FIXTURE_TEARDOWN runs in the test child after the test body,
 * also when the body (or the setup) failed an ASSERT or SKIPped.  The fixture
 * data lives in memory shared with the harness, so when the child dies
 * (signal, timeout) before its teardown finished, the harness runs the
 * teardown again in a fresh child on the same data.  Teardowns must therefore
 * be idempotent and cope with a zeroed or half-set-up fixture, and fixture
 * data should be plain values (no pointers to the child's heap).
 *
 * Selection: -t NAME / -T NAME include/exclude tests named NAME, -f/-F the
 * same for fixtures, -v/-V for variants, -r FIXTURE[.VARIANT].TEST one test
 * (first match decides, as in kselftest); -l lists, -h helps.  In addition
 * the environment variable TEST_FILTER, if set and non-empty, is a
 * comma-separated list of substrings; a test runs only if its full name
 * "binary.fixture[.variant].test" contains one of them.
 *
 * Exit status: 0 when no test failed (skips are fine), 1 otherwise.
 *
 * kselftest.h (included here, as the kernel's harness includes its own)
 * brings what the kernel's kselftest.h offers tests: ksft_print_msg(),
 * ksft_test_result_*(), ksft_exit_*(), ARRAY_SIZE, KSFT_* ...  Tests
 * written for either harness build with the other (make kselftest-compat):
 * give an ASSERT/EXPECT that is the body of an if/for/while braces, use
 * no harness internals (_metadata->results, ...), and TEST_F_TIMEOUT
 * rather than TEST_TIMEOUT (ours only).
 */
#ifndef RAMFUSE_TEST_HARNESS_H
#define RAMFUSE_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"	/* KSFT_* exit codes, ksft_print_msg(), ARRAY_SIZE, ... */

#define TH_DEFAULT_TIMEOUT 30
#define TH_REASON_MAX 512

#ifndef TH_LOG_ENABLED
#define TH_LOG_ENABLED 1
#endif

#define __TH_UNUSED __attribute__((unused))

struct __test_metadata;

typedef void (*__th_fn)(struct __test_metadata *_metadata, void *self,
			const void *variant);

/* Shared (MAP_SHARED) between the harness and one test child. */
struct __th_shared {
	volatile int setup_started;
	volatile int teardown_done;
	volatile int failed;
	volatile int skipped;
	char reason[TH_REASON_MAX];
};

struct __fixture_variant_metadata {
	const char *name;
	const void *data;
	int line;
	struct __fixture_variant_metadata *next;
};

struct __fixture_metadata {
	const char *name;
	size_t data_size;
	__th_fn setup;
	__th_fn teardown;
	int line;
	struct __test_metadata *tests;
	struct __fixture_variant_metadata *variants;
	struct __fixture_metadata *next;
};

struct __test_metadata {
	const char *name;		/* test name */
	__th_fn fn;
	struct __fixture_metadata *fixture;
	int timeout;			/* seconds */
	int termsig;			/* TEST_SIGNAL: expected signal */
	int line;
	struct __test_metadata *next;
	/* per run, in the child */
	struct __th_shared *results;
	bool in_teardown;
	jmp_buf env;
};

/* The one piece of global state: the registry, filled by constructors. */
static struct {
	struct __fixture_metadata *fixtures;
} __th_registry __TH_UNUSED;

static struct __fixture_metadata _global_fixture_object __TH_UNUSED = {
	.name = "global",
	.line = 0,
};

static inline void __th_register_fixture(struct __fixture_metadata *f)
{
	struct __fixture_metadata **p = &__th_registry.fixtures;

	/* keep source order regardless of constructor order */
	while (*p && (*p)->line <= f->line)
		p = &(*p)->next;
	f->next = *p;
	*p = f;
}

static inline void __th_register_test(struct __test_metadata *t)
{
	struct __fixture_metadata *f = t->fixture;
	struct __test_metadata **p = &f->tests;
	struct __fixture_metadata *it;

	for (it = __th_registry.fixtures; it && it != f; it = it->next)
		;
	if (!it)
		__th_register_fixture(f);
	while (*p && (*p)->line <= t->line)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

static inline void __th_register_variant(struct __fixture_metadata *f,
					 struct __fixture_variant_metadata *v)
{
	struct __fixture_variant_metadata **p = &f->variants;

	while (*p && (*p)->line <= v->line)
		p = &(*p)->next;
	v->next = *p;
	*p = v;
}

/* ------------------------------------------------------------------ */
/* Declarations                                                        */

#define FIXTURE_DATA(fixture_name) struct _th_fixture_data_##fixture_name
#define FIXTURE_VARIANT(fixture_name) struct _th_fixture_variant_##fixture_name

#define FIXTURE(fixture_name)						\
	FIXTURE_VARIANT(fixture_name);					\
	FIXTURE_DATA(fixture_name);					\
	static struct __fixture_metadata _##fixture_name##_fixture_object = { \
		.name = #fixture_name,					\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	_th_register_fixture_##fixture_name(void)			\
	{								\
		__th_register_fixture(&_##fixture_name##_fixture_object); \
	}								\
	FIXTURE_DATA(fixture_name)

#define __TH_FIXTURE_HOOK(fixture_name, kind)				\
	static void fixture_name##_##kind(				\
		struct __test_metadata *_metadata,			\
		FIXTURE_DATA(fixture_name) *self,			\
		const FIXTURE_VARIANT(fixture_name) *variant);		\
	static void _th_##kind##_wrap_##fixture_name(			\
		struct __test_metadata *_metadata, void *self,		\
		const void *variant)					\
	{								\
		fixture_name##_##kind(_metadata, self, variant);	\
	}								\
	static void __attribute__((constructor))			\
	_th_register_##kind##_##fixture_name(void)			\
	{								\
		_##fixture_name##_fixture_object.kind =			\
			_th_##kind##_wrap_##fixture_name;		\
	}								\
	static void fixture_name##_##kind(				\
		struct __test_metadata __TH_UNUSED *_metadata,		\
		FIXTURE_DATA(fixture_name) __TH_UNUSED *self,		\
		const FIXTURE_VARIANT(fixture_name) __TH_UNUSED *variant)

#define FIXTURE_SETUP(fixture_name) __TH_FIXTURE_HOOK(fixture_name, setup)
#define FIXTURE_TEARDOWN(fixture_name) __TH_FIXTURE_HOOK(fixture_name, teardown)

#define FIXTURE_VARIANT_ADD(fixture_name, variant_name)			\
	static const FIXTURE_VARIANT(fixture_name)			\
		_##fixture_name##_##variant_name##_variant;		\
	static struct __fixture_variant_metadata			\
		_##fixture_name##_##variant_name##_vobject = {		\
		.name = #variant_name,					\
		.data = &_##fixture_name##_##variant_name##_variant,	\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	_th_register_variant_##fixture_name##_##variant_name(void)	\
	{								\
		__th_register_variant(&_##fixture_name##_fixture_object, \
			&_##fixture_name##_##variant_name##_vobject);	\
	}								\
	static const FIXTURE_VARIANT(fixture_name)			\
		_##fixture_name##_##variant_name##_variant =

#define __TH_TEST(test_name, fixture_obj, tmo, sig)			\
	static void _th_test_##test_name(struct __test_metadata *_metadata); \
	static void _th_wrap_##test_name(struct __test_metadata *_metadata, \
		void __TH_UNUSED *self, const void __TH_UNUSED *variant) \
	{								\
		_th_test_##test_name(_metadata);			\
	}								\
	static struct __test_metadata _##test_name##_object = {	\
		.name = #test_name,					\
		.fn = _th_wrap_##test_name,				\
		.fixture = &fixture_obj,				\
		.timeout = tmo,						\
		.termsig = sig,						\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	_th_register_##test_name(void)					\
	{								\
		__th_register_test(&_##test_name##_object);		\
	}								\
	static void _th_test_##test_name(				\
		struct __test_metadata __TH_UNUSED *_metadata)

#define TEST(test_name) \
	__TH_TEST(test_name, _global_fixture_object, TH_DEFAULT_TIMEOUT, 0)
#define TEST_TIMEOUT(test_name, secs) \
	__TH_TEST(test_name, _global_fixture_object, secs, 0)
#define TEST_SIGNAL(test_name, sig) \
	__TH_TEST(test_name, _global_fixture_object, TH_DEFAULT_TIMEOUT, sig)

#define TEST_F_TIMEOUT(fixture_name, test_name, tmo)			\
	static void fixture_name##_##test_name(				\
		struct __test_metadata *_metadata,			\
		FIXTURE_DATA(fixture_name) *self,			\
		const FIXTURE_VARIANT(fixture_name) *variant);		\
	static void _th_wrap_##fixture_name##_##test_name(		\
		struct __test_metadata *_metadata, void *self,		\
		const void *variant)					\
	{								\
		fixture_name##_##test_name(_metadata, self, variant);	\
	}								\
	static struct __test_metadata					\
		_##fixture_name##_##test_name##_object = {		\
		.name = #test_name,					\
		.fn = _th_wrap_##fixture_name##_##test_name,		\
		.fixture = &_##fixture_name##_fixture_object,		\
		.timeout = tmo,						\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	_th_register_##fixture_name##_##test_name(void)		\
	{								\
		/* the fixture struct is complete by now */		\
		_##fixture_name##_fixture_object.data_size =		\
			sizeof(FIXTURE_DATA(fixture_name));		\
		__th_register_test(&_##fixture_name##_##test_name##_object); \
	}								\
	static void fixture_name##_##test_name(				\
		struct __test_metadata __TH_UNUSED *_metadata,		\
		FIXTURE_DATA(fixture_name) __TH_UNUSED *self,		\
		const FIXTURE_VARIANT(fixture_name) __TH_UNUSED *variant)

#define TEST_F(fixture_name, test_name) \
	TEST_F_TIMEOUT(fixture_name, test_name, TH_DEFAULT_TIMEOUT)

/* ------------------------------------------------------------------ */
/* Logging, skipping, failing                                          */

#define TH_LOG(fmt, ...)						\
	do {								\
		if (TH_LOG_ENABLED)					\
			__th_log(__FILE__, __LINE__, _metadata->name,	\
				 fmt, ##__VA_ARGS__);			\
	} while (0)

/* One "# file:line:test:" line; continuation lines also start with "# ". */
static inline void __attribute__((format(printf, 4, 5)))
__th_log(const char *file, int line, const char *test, const char *fmt, ...)
{
	char *msg = NULL, *p, *nl;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fprintf(stderr, "# %s:%d:%s:", file, line, test);
	for (p = msg; p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (p != msg) {
			if (!nl && !*p)
				break;
			fputs("# ", stderr);
		}
		fprintf(stderr, "%.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
	if (!msg)
		fputs("(out of memory)\n", stderr);
	free(msg);
}

#define SKIP(statement, fmt, ...)					\
	do {								\
		__th_skip(_metadata, fmt, ##__VA_ARGS__);		\
		statement;						\
	} while (0)

static inline void __attribute__((format(printf, 2, 3)))
__th_skip(struct __test_metadata *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->results)
		return;
	va_start(ap, fmt);
	vsnprintf(t->results->reason, sizeof(t->results->reason), fmt, ap);
	va_end(ap);
	if (!t->results->failed) {
		t->results->skipped = 1;
		fprintf(stderr, "#      SKIP      %s\n", t->results->reason);
	}
}

/* Mark the test failed; for ASSERTs leave the test (or the teardown). */
static inline int __th_bail(struct __test_metadata *t, int is_assert)
{
	if (t->results) {
		t->results->failed = 1;
		t->results->skipped = 0;
	}
	if (is_assert)
		longjmp(t->env, 1);
	return 0;
}

enum { __TH_EQ, __TH_NE, __TH_LT, __TH_LE, __TH_GT, __TH_GE };

#define __th_is_signed(x) (((__typeof__(x))-1) < ((__typeof__(x))1))

/* Compare two integers by value whatever their signedness. */
static inline int __th_cmp_values(unsigned long long a, int as,
				  unsigned long long b, int bs)
{
	int an = as && (long long)a < 0, bn = bs && (long long)b < 0;

	if (an != bn)
		return an ? -1 : 1;
	if (an)
		return (long long)a < (long long)b ? -1 :
		       (long long)a > (long long)b;
	return a < b ? -1 : a > b;
}

static inline int __th_check(struct __test_metadata *t, const char *file,
			     int line, const char *es, const char *ss, int op,
			     unsigned long long e, int esig,
			     unsigned long long s, int ssig)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
	int c = __th_cmp_values(e, esig, s, ssig);
	int ok;
	char eb[32], sb[32];

	switch (op) {
	case __TH_EQ: ok = c == 0; break;
	case __TH_NE: ok = c != 0; break;
	case __TH_LT: ok = c < 0; break;
	case __TH_LE: ok = c <= 0; break;
	case __TH_GT: ok = c > 0; break;
	default:      ok = c >= 0; break;
	}
	if (ok)
		return 0;
	if (esig)
		snprintf(eb, sizeof(eb), "%lld", (long long)e);
	else
		snprintf(eb, sizeof(eb), "%llu", e);
	if (ssig)
		snprintf(sb, sizeof(sb), "%lld", (long long)s);
	else
		snprintf(sb, sizeof(sb), "%llu", s);
	fprintf(stderr, "# %s:%d:%s:Expected %s (%s) %s %s (%s)\n",
		file, line, t->name, es, eb, ops[op], ss, sb);
	return 1;
}

static inline int __th_check_str(struct __test_metadata *t, const char *file,
				 int line, const char *es, const char *ss,
				 const char *e, const char *s, int want_eq)
{
	int eq = (e && s) ? !strcmp(e, s) : e == s;

	if (eq == want_eq)
		return 0;
	fprintf(stderr, "# %s:%d:%s:Expected %s \"%s\" %s %s \"%s\"\n",
		file, line, t->name, es, e ? e : "(null)",
		want_eq ? "==" : "!=", ss, s ? s : "(null)");
	return 1;
}

static inline int __th_check_bool(struct __test_metadata *t, const char *file,
				  int line, const char *xs, int val, int want)
{
	if (!!val == want)
		return 0;
	fprintf(stderr, "# %s:%d:%s:Expected %s to be %s\n",
		file, line, t->name, xs, want ? "true" : "false");
	return 1;
}

#define __TH_EXPECT(exp, seen, op, is_assert)				\
	for (int _th_trig = ({						\
		__typeof__(exp) _th_e = (exp);				\
		__typeof__(seen) _th_s = (seen);			\
		__th_check(_metadata, __FILE__, __LINE__, #exp, #seen, op, \
			   (unsigned long long)_th_e, __th_is_signed(_th_e), \
			   (unsigned long long)_th_s, __th_is_signed(_th_s)); \
	     }); _th_trig; _th_trig = __th_bail(_metadata, is_assert))

#define __TH_EXPECT_STR(exp, seen, want_eq, is_assert)			\
	for (int _th_trig = __th_check_str(_metadata, __FILE__, __LINE__, \
			#exp, #seen, (exp), (seen), want_eq);		\
	     _th_trig; _th_trig = __th_bail(_metadata, is_assert))

#define __TH_EXPECT_BOOL(x, want, is_assert)				\
	for (int _th_trig = __th_check_bool(_metadata, __FILE__, __LINE__, \
			#x, !!(x), want);				\
	     _th_trig; _th_trig = __th_bail(_metadata, is_assert))

#define ASSERT_EQ(expected, seen) __TH_EXPECT(expected, seen, __TH_EQ, 1)
#define ASSERT_NE(expected, seen) __TH_EXPECT(expected, seen, __TH_NE, 1)
#define ASSERT_LT(expected, seen) __TH_EXPECT(expected, seen, __TH_LT, 1)
#define ASSERT_LE(expected, seen) __TH_EXPECT(expected, seen, __TH_LE, 1)
#define ASSERT_GT(expected, seen) __TH_EXPECT(expected, seen, __TH_GT, 1)
#define ASSERT_GE(expected, seen) __TH_EXPECT(expected, seen, __TH_GE, 1)
#define ASSERT_NULL(seen) __TH_EXPECT(NULL, seen, __TH_EQ, 1)
#define ASSERT_TRUE(seen) __TH_EXPECT_BOOL(seen, 1, 1)
#define ASSERT_FALSE(seen) __TH_EXPECT_BOOL(seen, 0, 1)
#define ASSERT_STREQ(expected, seen) __TH_EXPECT_STR(expected, seen, 1, 1)
#define ASSERT_STRNE(expected, seen) __TH_EXPECT_STR(expected, seen, 0, 1)

#define EXPECT_EQ(expected, seen) __TH_EXPECT(expected, seen, __TH_EQ, 0)
#define EXPECT_NE(expected, seen) __TH_EXPECT(expected, seen, __TH_NE, 0)
#define EXPECT_LT(expected, seen) __TH_EXPECT(expected, seen, __TH_LT, 0)
#define EXPECT_LE(expected, seen) __TH_EXPECT(expected, seen, __TH_LE, 0)
#define EXPECT_GT(expected, seen) __TH_EXPECT(expected, seen, __TH_GT, 0)
#define EXPECT_GE(expected, seen) __TH_EXPECT(expected, seen, __TH_GE, 0)
#define EXPECT_NULL(seen) __TH_EXPECT(NULL, seen, __TH_EQ, 0)
#define EXPECT_TRUE(seen) __TH_EXPECT_BOOL(seen, 1, 0)
#define EXPECT_FALSE(seen) __TH_EXPECT_BOOL(seen, 0, 0)
#define EXPECT_STREQ(expected, seen) __TH_EXPECT_STR(expected, seen, 1, 0)
#define EXPECT_STRNE(expected, seen) __TH_EXPECT_STR(expected, seen, 0, 0)

/* ------------------------------------------------------------------ */
/* Running                                                             */

struct __th_run {
	const char *binary;
	int argc;
	char **argv;
	sigset_t orig_mask;
	int mult;
	int stop_sig;			/* SIGTERM/SIGINT seen: abort run */
	unsigned int pass, fail, skip;
};

static inline void __th_full_name(char *buf, size_t len,
				  const struct __fixture_metadata *f,
				  const struct __fixture_variant_metadata *v,
				  const struct __test_metadata *t)
{
	snprintf(buf, len, "%s%s%s.%s", f->name, v->name[0] ? "." : "",
		 v->name, t->name);
}

static inline bool __th_enabled(struct __th_run *r,
				const struct __fixture_metadata *f,
				const struct __fixture_variant_metadata *v,
				const struct __test_metadata *t)
{
	const char *filter = getenv("TEST_FILTER");
	char name[512], full[768];
	bool has_positive = false, decided = false, result = true;
	int opt;

	__th_full_name(name, sizeof(name), f, v, t);
	optind = 1;
	opterr = 0;
	while (!decided &&
	       (opt = getopt(r->argc, r->argv, "+F:f:V:v:T:t:r:lh")) != -1) {
		const char *cmp = NULL;

		switch (opt) {
		case 't': case 'T': cmp = t->name; break;
		case 'f': case 'F': cmp = f->name; break;
		case 'v': case 'V': cmp = v->name; break;
		case 'r':
			has_positive = true;
			if (!strcmp(optarg, name)) {
				decided = true;
				result = true;
			}
			continue;
		default:
			continue;
		}
		if (opt == 't' || opt == 'f' || opt == 'v')
			has_positive = true;
		if (!strcmp(cmp, optarg)) {
			decided = true;
			result = opt == 't' || opt == 'f' || opt == 'v';
		}
	}
	if (!decided)
		result = !has_positive;
	if (!result)
		return false;

	if (filter && *filter) {
		const char *p = filter;

		snprintf(full, sizeof(full), "%s.%s", r->binary, name);
		while (*p) {
			size_t n = strcspn(p, ",");
			char pat[256];

			if (n && n < sizeof(pat)) {
				memcpy(pat, p, n);
				pat[n] = 0;
				if (strstr(full, pat))
					return true;
			}
			p += n;
			if (*p == ',')
				p++;
		}
		return false;
	}
	return true;
}

static inline long long __th_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for child with a timeout (ms).  Returns 0 when it exited (*status
 * set), 1 on timeout, 2 when SIGTERM/SIGINT/SIGHUP arrived (child still
 * running).  The caller has SIGCHLD and the stop signals blocked.
 */
static inline int __th_wait(struct __th_run *r, pid_t child, long long tmo_ms,
			    int *status)
{
	long long deadline = __th_now_ms() + tmo_ms;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		pid_t w = waitpid(child, status, WNOHANG);
		long long left;
		struct timespec ts;
		int sig;

		if (w == child)
			return 0;
		if (w < 0 && errno != EINTR) {
			*status = 0;
			return 0;
		}
		left = deadline - __th_now_ms();
		if (left <= 0)
			return 1;
		if (left > 1000)
			left = 1000;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			r->stop_sig = sig;
			return 2;
		}
	}
}

/*
 * SIGKILL the child's process group and reap the child.  A child stuck in
 * the kernel (uninterruptible sleep: e.g. killed while a FUSE request it
 * sent is never answered) does not die: after a grace period (5 s) it is
 * abandoned, so that the rest of the run goes on, and 1 is returned.
 */
static inline int __th_kill_wait(struct __th_run *r, pid_t child, int *status,
				 const char *name)
{
	long long end = __th_now_ms() + 5000LL * r->mult;
	char path[64], state[256] = "", wchan[128] = "";
	FILE *f;

	kill(-child, SIGKILL);
	kill(child, SIGKILL);
	for (;;) {
		pid_t w = waitpid(child, status, WNOHANG);

		if (w == child || (w < 0 && errno != EINTR))
			return 0;
		if (__th_now_ms() >= end)
			break;
		usleep(20000);
	}
	*status = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	if ((f = fopen(path, "re"))) {
		if (!fgets(state, sizeof(state), f))
			state[0] = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)child);
	if ((f = fopen(path, "re"))) {
		if (!fgets(wchan, sizeof(wchan), f))
			wchan[0] = 0;
		fclose(f);
	}
	/* the state letter follows "pid (comm) " */
	fprintf(stderr, "# %s: process %d did not die of SIGKILL (state %c, in %s): "
		"stuck in the kernel, abandoned\n", name, (int)child,
		strrchr(state, ')') ? strrchr(state, ')')[2] : '?',
		wchan[0] ? wchan : "?");
	return 1;
}

/* One line in the kernel log per test start and end when TEST_KMSG is set
 * (the VM's runner sets it), so that a kernel warning on the console can
 * be told apart by the test that was running. */
static inline void __th_kmsg(const char *what, const char *name)
{
	char line[640];
	int fd, n;

	if (!getenv("TEST_KMSG"))
		return;
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "<5>ramfuse-test: %s %s: %s\n", what,
		     program_invocation_short_name, name);
	if (n > 0 && write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		n = 0;
	close(fd);
}

static inline void __th_child_prepare(struct __th_run *r)
{
	setpgid(0, 0);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &r->orig_mask, NULL);
}

/* In the test child: setup, body, teardown.  Never returns. */
static inline void __th_child(struct __test_metadata *t,
			      struct __fixture_metadata *f,
			      const struct __fixture_variant_metadata *v,
			      void *self)
{
	struct __th_shared *res = t->results;

	t->in_teardown = false;
	if (setjmp(t->env) == 0) {
		res->setup_started = 1;
		if (f->setup)
			f->setup(t, self, v->data);
		if (!res->failed && !res->skipped)
			t->fn(t, self, v->data);
	}
	if (!t->in_teardown) {
		t->in_teardown = true;
		if (setjmp(t->env) == 0 && f->teardown)
			f->teardown(t, self, v->data);
		res->teardown_done = 1;
	}
	fflush(stdout);
	fflush(stderr);
	_exit(res->failed ? KSFT_FAIL : res->skipped ? KSFT_SKIP : KSFT_PASS);
}

/* The child died before its teardown finished: run it again. */
static inline void __th_recover_teardown(struct __th_run *r,
					 struct __test_metadata *t,
					 struct __fixture_metadata *f,
					 const struct __fixture_variant_metadata *v,
					 void *self, const char *name)
{
	struct __th_shared *res = t->results;
	int status;
	pid_t pid;

	if (!f->teardown || !res->setup_started || res->teardown_done)
		return;
	fprintf(stderr, "# %s: running teardown in a fresh process\n", name);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		__th_child_prepare(r);
		t->in_teardown = true;
		if (setjmp(t->env) == 0)
			f->teardown(t, self, v->data);
		res->teardown_done = 1;
		fflush(stderr);
		_exit(0);
	}
	setpgid(pid, pid);
	if (__th_wait(r, pid, 10000LL * r->mult, &status) != 0) {
		fprintf(stderr, "# %s: teardown hung, killed\n", name);
		__th_kill_wait(r, pid, &status, name);
	}
}

static inline void __th_run_one(struct __th_run *r, unsigned int num,
				struct __fixture_metadata *f,
				const struct __fixture_variant_metadata *v,
				struct __test_metadata *t,
				struct __th_shared *res)
{
	char name[512];
	void *self = NULL;
	size_t self_len = f->data_size ? f->data_size : 1;
	int status = 0, w, tmo = t->timeout > 0 ? t->timeout : TH_DEFAULT_TIMEOUT;
	const char *directive = NULL;
	char diag[TH_REASON_MAX + 64];
	bool passed, skipped = false;
	pid_t child;

	__th_full_name(name, sizeof(name), f, v, t);
	memset(res, 0, sizeof(*res));
	diag[0] = 0;
	printf("#  RUN           %s ...\n", name);
	fflush(stdout);
	fflush(stderr);
	__th_kmsg("start", name);

	self = mmap(NULL, self_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (self == MAP_FAILED) {
		printf("# %s: cannot map fixture data: %s\n", name,
		       strerror(errno));
		printf("#          FAIL  %s\n", name);
		printf("not ok %u %s\n", num, name);
		r->fail++;
		return;
	}
	t->results = res;
	child = fork();
	if (child < 0) {
		printf("# %s: fork: %s\n", name, strerror(errno));
		passed = false;
		goto report;
	}
	if (child == 0) {
		__th_child_prepare(r);
		__th_child(t, f, v, self);
	}
	setpgid(child, child);
	w = __th_wait(r, child, (long long)tmo * 1000 * r->mult, &status);
	if (w != 0) {
		__th_kill_wait(r, child, &status, name);
		if (w == 1) {
			fprintf(stderr, "# %s: Test terminated by timeout after %d s\n",
				name, tmo * r->mult);
			directive = "TIMEOUT";
		} else {
			fprintf(stderr, "# %s: Test aborted by signal %d to the harness\n",
				name, r->stop_sig);
			directive = "ABORTED";
		}
		passed = false;
		__th_recover_teardown(r, t, f, v, self, name);
		goto report;
	}
	/* stragglers the test left in its process group go too */
	kill(-child, SIGKILL);
	if (t->termsig) {
		passed = WIFSIGNALED(status) && WTERMSIG(status) == t->termsig &&
			 !res->failed;
		if (!passed)
			fprintf(stderr, "# %s: Test %s, expected signal %d\n",
				name, WIFSIGNALED(status) ?
				"terminated by another signal" : "did not die",
				t->termsig);
		goto report;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "# %s: Test terminated unexpectedly by signal %d\n",
			name, WTERMSIG(status));
		passed = false;
		__th_recover_teardown(r, t, f, v, self, name);
		goto report;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP &&
	    res->skipped && !res->failed) {
		passed = true;
		skipped = true;
		goto report;
	}
	passed = WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS &&
		 !res->failed;
	if (!passed && WIFEXITED(status) && !res->failed)
		fprintf(stderr, "# %s: Test exited with status %d\n", name,
			WEXITSTATUS(status));
	if (!res->teardown_done)
		__th_recover_teardown(r, t, f, v, self, name);

report:
	fflush(stderr);
	printf("#          %4s  %s\n", passed ? "OK" : "FAIL", name);
	if (skipped) {
		printf("ok %u %s # SKIP %s\n", num, name,
		       res->reason[0] ? res->reason : "unknown");
		r->skip++;
	} else if (passed) {
		printf("ok %u %s\n", num, name);
		r->pass++;
	} else {
		if (directive)
			snprintf(diag, sizeof(diag), " # %s", directive);
		printf("not ok %u %s%s\n", num, name, diag);
		r->fail++;
	}
	fflush(stdout);
	__th_kmsg(skipped ? "skip" : passed ? "pass" : "fail", name);
	t->results = NULL;
	munmap(self, self_len);
}

static inline void __th_usage(const char *argv0)
{
	fprintf(stderr,
		"Usage: %s [-h|-l] [-t|-T|-v|-V|-f|-F|-r name]...\n"
		"\t-h       print help\n"
		"\t-l       list all tests\n"
		"\t-t name  include test        -T name  exclude test\n"
		"\t-v name  include variant     -V name  exclude variant\n"
		"\t-f name  include fixture     -F name  exclude fixture\n"
		"\t-r name  run fixture[.variant].test\n"
		"Filters stop at the first match.  Environment: TEST_FILTER=a,b\n"
		"(substrings of binary.fixture[.variant].test),\n"
		"TEST_TIMEOUT_MULT=N (multiply timeouts).\n", argv0);
}

static inline int test_harness_run(int argc, char **argv)
{
	static const struct __fixture_variant_metadata no_variant = { .name = "" };
	struct __th_run r;
	struct __fixture_metadata *f;
	const struct __fixture_variant_metadata *v;
	struct __test_metadata *t;
	struct __th_shared *res;
	unsigned int count = 0, cases = 0, num = 0;
	const char *mult = getenv("TEST_TIMEOUT_MULT");
	sigset_t block;
	bool list = false;
	int opt;

	memset(&r, 0, sizeof(r));
	r.argc = argc;
	r.argv = argv;
	r.binary = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	r.binary = r.binary ? r.binary + 1 : (argc > 0 && argv[0] ? argv[0] : "test");
	r.mult = mult && atoi(mult) > 0 ? atoi(mult) : 1;

	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, "+F:f:V:v:T:t:r:lh")) != -1) {
		if (opt == 'l') {
			list = true;
		} else if (opt == 'h' || opt == '?' || opt == ':') {
			__th_usage(argv[0]);
			return opt == 'h' ? KSFT_PASS : KSFT_FAIL;
		}
	}
	if (list) {
		char name[512];

		for (f = __th_registry.fixtures; f; f = f->next)
			for (v = f->variants ? f->variants : &no_variant; v;
			     v = v->next)
				for (t = f->tests; t; t = t->next) {
					__th_full_name(name, sizeof(name), f, v, t);
					printf("%s\n", name);
				}
		return KSFT_PASS;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (f = __th_registry.fixtures; f; f = f->next)
		for (v = f->variants ? f->variants : &no_variant; v; v = v->next) {
			unsigned int before = count;

			for (t = f->tests; t; t = t->next)
				if (__th_enabled(&r, f, v, t))
					count++;
			if (count != before)
				cases++;
		}

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("mmap");
		return KSFT_FAIL;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &r.orig_mask);

	printf("TAP version 13\n");
	printf("1..%u\n", count);
	printf("# Starting %u tests from %u test cases.\n", count, cases);
	for (f = __th_registry.fixtures; f && !r.stop_sig; f = f->next)
		for (v = f->variants ? f->variants : &no_variant;
		     v && !r.stop_sig; v = v->next)
			for (t = f->tests; t && !r.stop_sig; t = t->next) {
				if (!__th_enabled(&r, f, v, t))
					continue;
				__th_run_one(&r, ++num, f, v, t, res);
			}
	munmap(res, sizeof(*res));
	if (r.stop_sig)
		printf("# Bail out! harness stopped by signal %d after %u of %u tests\n",
		       r.stop_sig, num, count);
	printf("# %s: %u / %u tests passed.\n",
	       r.fail || num != count ? "FAILED" : "PASSED",
	       r.pass + r.skip, count);
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	       r.pass, r.fail, r.skip);
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &r.orig_mask, NULL);
	return r.fail || num != count ? KSFT_FAIL : KSFT_PASS;
}

#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		return test_harness_run(argc, argv);			\
	}

#endif /* RAMFUSE_TEST_HARNESS_H */
