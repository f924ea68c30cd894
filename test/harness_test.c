// SPDX-License-Identifier: MIT
/*
 * Self-tests of harness.h and run-tests.  Needs neither root nor ramfuse.
 *
 * The binary has two personalities.  Normally it runs the "outer" tests
 * (fixtures global and outer), which all pass.  With HARNESS_INNER=1 it runs
 * the "inner" tests instead (fixtures inner and innerv), which deliberately
 * pass, fail, skip, hang and crash; the outer tests run that mode as a
 * subprocess (directly and through run-tests) and check the TAP it prints.
 */
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* inner tests: expected results are encoded in the outer checks       */

static void mark(const char *what, const char *name)
{
	const char *path = getenv("HARNESS_MARK");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s %s\n", what, name);
	fclose(f);
}

FIXTURE(inner) {
	int value;
};

FIXTURE_SETUP(inner)
{
	self->value = 42;
}

FIXTURE_TEARDOWN(inner)
{
	mark("teardown", _metadata->name);
}

TEST_F(inner, pass_test)
{
	ASSERT_EQ(42, self->value);
	EXPECT_NE(0, self->value);
	ASSERT_STREQ("abc", "abc");
	ASSERT_TRUE(1);
	ASSERT_FALSE(0);
}

TEST_F(inner, fail_assert)
{
	int one = 1, two = 2;

	ASSERT_EQ(one, two) TH_LOG("assert-statement-ran");
	TH_LOG("NOT REACHED");
}

TEST_F(inner, fail_expect)
{
	EXPECT_EQ(-5, (long)self->value);
	TH_LOG("after-expect");
}

TEST_F(inner, skipped)
{
	SKIP(return, "because %s", "reasons");
	TH_LOG("NOT REACHED");
}

TEST_F_TIMEOUT(inner, hang, 1)
{
	mark("hang-started", _metadata->name);
	pause();
}

TEST_F(inner, crash)
{
	raise(SIGSEGV);
}

TEST_F(inner, fail_str)
{
	ASSERT_STREQ("abc", "abd");
}

TEST_F(inner, exit_nonzero)
{
	exit(3);
}

TEST_F_TIMEOUT(inner, hang_long, 100)
{
	if (!getenv("HARNESS_LONG"))
		SKIP(return, "HARNESS_LONG not set");
	mark("hang-started", _metadata->name);
	pause();
}

FIXTURE(innerv) {
	int setup_ran;
};

FIXTURE_VARIANT(innerv) {
	int x;
	int skip_in_setup;
};

FIXTURE_VARIANT_ADD(innerv, a) { .x = 1 };
FIXTURE_VARIANT_ADD(innerv, b) { .x = 2 };
FIXTURE_VARIANT_ADD(innerv, c) { .x = 1, .skip_in_setup = 1 };

FIXTURE_SETUP(innerv)
{
	if (variant->skip_in_setup)
		SKIP(return, "skipped in setup");
	self->setup_ran = 1;
}

FIXTURE_TEARDOWN(innerv)
{
	mark("teardown-v", _metadata->name);
}

TEST_F(innerv, v)
{
	ASSERT_EQ(1, self->setup_ran);
	ASSERT_EQ(1, variant->x);
}

/* ------------------------------------------------------------------ */
/* helpers for the outer tests                                         */

#define INNER_TOTAL 12
#define INNER_PASS 2
#define INNER_FAIL 7
#define INNER_SKIP 3

static char *slurp(const char *path)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf) {
		n = read(fd, buf, (size_t)st.st_size);
		buf[n > 0 ? n : 0] = 0;
	}
	close(fd);
	return buf;
}

struct tmpdir {
	char dir[64];
	char out[96];
	char mark[96];
};

static int tmpdir_make(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/harness-test.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->out, sizeof(t->out), "%s/out", t->dir);
	snprintf(t->mark, sizeof(t->mark), "%s/mark", t->dir);
	return 0;
}

static void tmpdir_remove(struct tmpdir *t)
{
	char p[128];
	static const char *const names[] = { "out", "mark", "a_test", "b_test",
					     "notexec_test", "other" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", t->dir, names[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

/*
 * Run prog (argv) with env additions "K=V" (NULL-terminated), stdout and
 * stderr to out.  Returns the wait status, or -1.
 */
static int run_capture(const char *prog, char *const argv[],
		       const char *const env[], const char *out)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		unsetenv("TEST_FILTER");
		unsetenv("RUN_TESTS_JOBS");
		/* inner.crash raises SIGSEGV on purpose: under make check
		 * SANITIZE=1 that is no finding, so ASan must not report it */
		if (getenv("ASAN_OPTIONS"))
			setenv("ASAN_OPTIONS", "handle_segv=0:detect_leaks=0", 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execv(prog, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* Captured output, each line behind "#  | ": a raw "ok"/"not ok" line
 * in our own output would count as one of our results. */
static void log_text(const char *text)
{
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");

		fprintf(stderr, "#  | %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

static int count_lines(const char *text, const char *prefix)
{
	size_t pl = strlen(prefix);
	int n = 0;

	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, pl))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* outer tests                                                         */

TEST(assert_values)
{
	unsigned int u = 1;
	int neg = -1;
	size_t big = (size_t)-1;
	const char *s = "x";
	void *nul = NULL;

	/* mixed signedness compares mathematical values */
	ASSERT_LT(neg, u);
	ASSERT_GT(big, neg);
	ASSERT_NE(big, neg);
	ASSERT_EQ(-1, (long long)neg);
	ASSERT_LE(1, u);
	ASSERT_GE(u, 1);
	ASSERT_NULL(nul);
	ASSERT_NE(NULL, s);
	ASSERT_STRNE("a", s);
	ASSERT_TRUE(s != NULL);
	EXPECT_FALSE(neg > 0);
	EXPECT_EQ(0, 0) TH_LOG("not printed");
}

TEST_SIGNAL(signal_expected, SIGABRT)
{
	abort();
}

FIXTURE(outer) {
	int setup_value;
};

FIXTURE_VARIANT(outer) {
	int n;
	const char *label;
};

FIXTURE_VARIANT_ADD(outer, one) { .n = 1, .label = "one" };
FIXTURE_VARIANT_ADD(outer, two) { .n = 2, .label = "two" };

FIXTURE_SETUP(outer)
{
	self->setup_value = variant->n * 10;
}

FIXTURE_TEARDOWN(outer)
{
}

TEST_F(outer, variant_data)
{
	ASSERT_EQ(variant->n * 10, self->setup_value);
	ASSERT_TRUE(!strcmp(variant->label, "one") || !strcmp(variant->label, "two"));
}

static int run_inner(struct tmpdir *td, char *const extra_argv[],
		     const char *const extra_env[], char **text)
{
	char self_path[PATH_MAX];
	char mark_env[128];
	char *argv[16];
	const char *env[16];
	size_t a = 0, e = 0;
	ssize_t l = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	int status;

	if (l <= 0)
		return -1;
	self_path[l] = 0;
	argv[a++] = "harness_test";
	for (size_t i = 0; extra_argv && extra_argv[i] && a < 15; i++)
		argv[a++] = extra_argv[i];
	argv[a] = NULL;
	snprintf(mark_env, sizeof(mark_env), "HARNESS_MARK=%s", td->mark);
	env[e++] = "HARNESS_INNER=1";
	env[e++] = mark_env;
	for (size_t i = 0; extra_env && extra_env[i] && e < 15; i++)
		env[e++] = extra_env[i];
	env[e] = NULL;
	status = run_capture(self_path, argv, env, td->out);
	*text = slurp(td->out);
	return status;
}

static void inner_tap_checks(struct __test_metadata *_metadata, int status,
			     char *out, char *marks);

TEST_TIMEOUT(inner_tap, 60)
{
	struct tmpdir td;
	char *out, *marks;
	int status;

	ASSERT_EQ(0, tmpdir_make(&td));
	status = run_inner(&td, NULL, NULL, &out);
	marks = slurp(td.mark);
	tmpdir_remove(&td);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, marks);
	inner_tap_checks(_metadata, status, out, marks);
	if (_metadata->results->failed)
		TH_LOG("inner output:\n%s\nmarks:\n%s", out, marks);
	free(out);
	free(marks);
}

static void inner_tap_checks(struct __test_metadata *_metadata, int status,
			     char *out, char *marks)
{
	char want[128];

	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_EQ(0, strncmp(out, "TAP version 13\n1..12\n", 21));
	EXPECT_NE(NULL, strstr(out, "# Starting 12 tests from 4 test cases.\n"));
	EXPECT_NE(NULL, strstr(out, "#  RUN           inner.pass_test ...\n"));
	EXPECT_NE(NULL, strstr(out, "#            OK  inner.pass_test\nok 1 inner.pass_test\n"));
	EXPECT_NE(NULL, strstr(out, "harness_test.c:"));
	EXPECT_NE(NULL, strstr(out, ":fail_assert:Expected one (1) == two (2)\n"));
	EXPECT_NE(NULL, strstr(out, "assert-statement-ran"));
	EXPECT_EQ(NULL, strstr(out, "NOT REACHED"));
	EXPECT_NE(NULL, strstr(out, "#          FAIL  inner.fail_assert\nnot ok 2 inner.fail_assert\n"));
	EXPECT_NE(NULL, strstr(out, ":fail_expect:Expected -5 (-5) == (long)self->value (42)\n"));
	EXPECT_NE(NULL, strstr(out, "after-expect"));
	EXPECT_NE(NULL, strstr(out, "not ok 3 inner.fail_expect\n"));
	EXPECT_NE(NULL, strstr(out, "#      SKIP      because reasons\n"));
	EXPECT_NE(NULL, strstr(out, "ok 4 inner.skipped # SKIP because reasons\n"));
	EXPECT_NE(NULL, strstr(out, "# inner.hang: Test terminated by timeout"));
	EXPECT_NE(NULL, strstr(out, "not ok 5 inner.hang # TIMEOUT\n"));
	EXPECT_NE(NULL, strstr(out, "# inner.crash: Test terminated unexpectedly by signal 11\n"));
	EXPECT_NE(NULL, strstr(out, "not ok 6 inner.crash\n"));
	EXPECT_NE(NULL, strstr(out, "Expected \"abc\" \"abc\" == \"abd\" \"abd\"\n"));
	EXPECT_NE(NULL, strstr(out, "not ok 7 inner.fail_str\n"));
	EXPECT_NE(NULL, strstr(out, "# inner.exit_nonzero: Test exited with status 3\n"));
	EXPECT_NE(NULL, strstr(out, "not ok 8 inner.exit_nonzero\n"));
	EXPECT_NE(NULL, strstr(out, "ok 9 inner.hang_long # SKIP HARNESS_LONG not set\n"));
	EXPECT_NE(NULL, strstr(out, "ok 10 innerv.a.v\n"));
	EXPECT_NE(NULL, strstr(out, "not ok 11 innerv.b.v\n"));
	EXPECT_NE(NULL, strstr(out, "ok 12 innerv.c.v # SKIP skipped in setup\n"));
	snprintf(want, sizeof(want), "# FAILED: %d / %d tests passed.\n",
		 INNER_PASS + INNER_SKIP, INNER_TOTAL);
	EXPECT_NE(NULL, strstr(out, want));
	snprintf(want, sizeof(want),
		 "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
		 INNER_PASS, INNER_FAIL, INNER_SKIP);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_EQ(INNER_TOTAL, count_lines(out, "ok ") + count_lines(out, "not ok "));

	/* teardown ran for every inner test, including after an ASSERT, a
	 * timeout (in a fresh process) and a crash */
	EXPECT_NE(NULL, strstr(marks, "teardown pass_test\n"));
	EXPECT_NE(NULL, strstr(marks, "teardown fail_assert\n"));
	EXPECT_NE(NULL, strstr(marks, "teardown skipped\n"));
	EXPECT_NE(NULL, strstr(marks, "hang-started hang\n"));
	EXPECT_NE(NULL, strstr(marks, "teardown hang\n"));
	EXPECT_NE(NULL, strstr(marks, "teardown crash\n"));
	EXPECT_NE(NULL, strstr(marks, "teardown exit_nonzero\n"));
	EXPECT_EQ(3, count_lines(marks, "teardown-v v"));
}

TEST(inner_filters)
{
	struct tmpdir td;
	char *out;
	int status;
	char *args_t[] = { "-t", "pass_test", NULL };
	char *args_r[] = { "-r", "innerv.a.v", NULL };
	char *args_fv[] = { "-V", "b", "-f", "innerv", NULL };
	const char *env_f[] = { "TEST_FILTER=zzz,harness_test.inner.pass_,innerv.c", NULL };

	ASSERT_EQ(0, tmpdir_make(&td));

	status = run_inner(&td, args_t, NULL, &out);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) log_text(out);
	EXPECT_EQ(0, strncmp(out, "TAP version 13\n1..1\n", 20)) log_text(out);
	EXPECT_NE(NULL, strstr(out, "ok 1 inner.pass_test\n"));
	free(out);

	status = run_inner(&td, args_r, NULL, &out);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) log_text(out);
	EXPECT_NE(NULL, strstr(out, "1..1\n"));
	EXPECT_NE(NULL, strstr(out, "ok 1 innerv.a.v\n"));
	free(out);

	status = run_inner(&td, args_fv, NULL, &out);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) log_text(out);
	EXPECT_NE(NULL, strstr(out, "1..2\n")) log_text(out);
	EXPECT_NE(NULL, strstr(out, "ok 1 innerv.a.v\n"));
	EXPECT_NE(NULL, strstr(out, "ok 2 innerv.c.v # SKIP"));
	free(out);

	status = run_inner(&td, NULL, env_f, &out);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) log_text(out);
	EXPECT_NE(NULL, strstr(out, "1..2\n")) log_text(out);
	EXPECT_NE(NULL, strstr(out, "ok 1 inner.pass_test\n"));
	EXPECT_NE(NULL, strstr(out, "ok 2 innerv.c.v # SKIP"));
	EXPECT_NE(NULL, strstr(out, "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0\n"));
	free(out);

	tmpdir_remove(&td);
}

/* Returns 0 and fills runner/self paths, or -1 when run-tests is absent. */
static int runner_paths(char *runner, size_t rl, char *self_path, size_t sl)
{
	ssize_t l = readlink("/proc/self/exe", self_path, sl - 1);
	char *slash;

	if (l <= 0)
		return -1;
	self_path[l] = 0;
	snprintf(runner, rl, "%s", self_path);
	slash = strrchr(runner, '/');
	if (!slash)
		return -1;
	snprintf(slash + 1, rl - (size_t)(slash + 1 - runner), "run-tests");
	return access(runner, X_OK);
}

static void runner_dir(struct __test_metadata *_metadata, struct tmpdir *td,
		       const char *self_path)
{
	char p[160];
	int fd;

	snprintf(p, sizeof(p), "%s/a_test", td->dir);
	ASSERT_EQ(0, symlink(self_path, p));
	snprintf(p, sizeof(p), "%s/b_test", td->dir);
	ASSERT_EQ(0, symlink(self_path, p));
	/* neither of these may be run */
	snprintf(p, sizeof(p), "%s/notexec_test", td->dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(p, sizeof(p), "%s/other", td->dir);
	ASSERT_EQ(0, symlink(self_path, p));
}

/* A directory with a_test and b_test (this binary, inner mode) for
 * run-tests to run; the runner's output goes to out_path. */
FIXTURE(runner) {
	char runner[PATH_MAX], self_path[PATH_MAX];
	char mark_env[128], out_path[160];
	struct tmpdir td;
};

FIXTURE_SETUP(runner)
{
	if (runner_paths(self->runner, sizeof(self->runner), self->self_path,
			 sizeof(self->self_path)))
		SKIP(return, "no run-tests next to this binary");
	ASSERT_EQ(0, tmpdir_make(&self->td));
	runner_dir(_metadata, &self->td, self->self_path);
	snprintf(self->mark_env, sizeof(self->mark_env), "HARNESS_MARK=%s", self->td.mark);
	snprintf(self->out_path, sizeof(self->out_path), "%s/out", self->td.dir);
}

FIXTURE_TEARDOWN(runner)
{
	if (self->td.dir[0])
		tmpdir_remove(&self->td);
}

static const char *last_line(char *text)
{
	size_t n = strlen(text);

	while (n && text[n - 1] == '\n')
		text[--n] = 0;
	while (n && text[n - 1] != '\n')
		n--;
	return text + n;
}

TEST_F_TIMEOUT(runner, counts, 60)
{
	char want[128], *out;
	int status;

	{
		char *argv[] = { "run-tests", self->td.dir, NULL };
		const char *env[] = { "HARNESS_INNER=1", self->mark_env, NULL };

		status = run_capture(self->runner, argv, env, self->out_path);
	}
	out = slurp(self->out_path);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_EQ(0, strncmp(out, "TAP version 13\n1..2\n", 20));
	EXPECT_NE(NULL, strstr(out, "\n# ok 1 inner.pass_test\n"));
	EXPECT_NE(NULL, strstr(out, "\nnot ok 1 a_test # exit=1\n"));
	EXPECT_NE(NULL, strstr(out, "\nnot ok 2 b_test # exit=1\n"));
	EXPECT_EQ(NULL, strstr(out, "notexec_test"));
	EXPECT_NE(NULL, strstr(out, "\n# elapsed "));
	snprintf(want, sizeof(want), "%d passed, %d failed, %d skipped",
		 2 * INNER_PASS, 2 * INNER_FAIL, 2 * INNER_SKIP);
	if (_metadata->results->failed)
		log_text(out);
	EXPECT_STREQ(want, last_line(out));
	free(out);

	/* -t passes a filter; a clean run exits 0 */
	{
		char *argv[] = { "run-tests", "-t", "inner.pass_test", self->td.dir, NULL };
		const char *env[] = { "HARNESS_INNER=1", self->mark_env, NULL };

		status = run_capture(self->runner, argv, env, self->out_path);
	}
	out = slurp(self->out_path);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) log_text(out);
	EXPECT_NE(NULL, strstr(out, "\nok 1 a_test\n"));
	EXPECT_STREQ("2 passed, 0 failed, 0 skipped", last_line(out));
	free(out);
}

/* the output without what depends on time: "# elapsed" lines and the
 * " in S s" of each binary's summary */
static void strip_times(char *out)
{
	char *r = out, *w = out;

	while (*r) {
		size_t len = strcspn(r, "\n");
		const char *in = strstr(r, " skipped in ");
		size_t keep = in && in < r + len ? (size_t)(in - r) + 8 : len;

		if (strncmp(r, "# elapsed ", 10)) {
			memmove(w, r, keep);
			w += keep;
			*w++ = '\n';
		}
		r += len + (r[len] == '\n');
	}
	*w = 0;
}

/* -j 2 (and RUN_TESTS_JOBS=2) run the binaries side by side, yet print
 * exactly what a serial run prints, times aside.  a_test alone also runs
 * inner.hang (1 s), so b_test ends first and its output waits its turn. */
TEST_F_TIMEOUT(runner, parallel_same_output, 60)
{
	char *filter = "inner.pass_test,inner.fail_assert,inner.skipped,"
		       "inner.crash,innerv,a_test.inner.hang";
	char *argv_serial[] = { "run-tests", "-t", filter, self->td.dir, NULL };
	char *argv_j[] = { "run-tests", "-j", "2", "-t", filter, self->td.dir, NULL };
	char *argv_bad[] = { "run-tests", "-j", "0", self->td.dir, NULL };
	const char *env[] = { "HARNESS_INNER=1", self->mark_env, NULL, NULL };
	char *serial, *out;
	int status;

	status = run_capture(self->runner, argv_serial, env, self->out_path);
	serial = slurp(self->out_path);
	ASSERT_NE(NULL, serial);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	strip_times(serial);
	EXPECT_NE(NULL, strstr(serial, "\nnot ok 2 b_test # exit=1\n")) log_text(serial);
	for (int how = 0; how < 2; how++) {
		env[2] = how ? "RUN_TESTS_JOBS=2" : NULL;
		status = run_capture(self->runner, how ? argv_serial : argv_j, env,
				     self->out_path);
		out = slurp(self->out_path);
		ASSERT_NE(NULL, out);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		strip_times(out);
		/* (EXPECT_STREQ would print both outputs unnested) */
		EXPECT_EQ(0, strcmp(serial, out)) {
			size_t at = 0, line = 0;

			while (serial[at] && serial[at] == out[at])
				at++;
			while (at && serial[at - 1] != '\n')
				at--;
			for (size_t i = 0; i < at; i++)
				line += serial[i] == '\n';
			TH_LOG("%s: the output differs from line %zu on:",
			       how ? "RUN_TESTS_JOBS=2" : "-j 2", line + 1);
			log_text(out + at);
		}
		free(out);
	}
	/* a bad job count is an error of its own */
	env[2] = NULL;
	status = run_capture(self->runner, argv_bad, env, self->out_path);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	free(serial);
}

TEST_F_TIMEOUT(runner, timeout, 60)
{
	char *argv[] = { "run-tests", "-t", "a_test.inner.hang_long", self->td.dir, NULL };
	const char *env[] = { "HARNESS_INNER=1", "HARNESS_LONG=1",
			      "RUN_TESTS_TIMEOUT=1", self->mark_env, NULL };
	long long t0 = __th_now_ms();
	char *out, *marks;
	int status;

	status = run_capture(self->runner, argv, env, self->out_path);
	out = slurp(self->out_path);
	marks = slurp(self->td.mark);
	ASSERT_NE(NULL, out);
	EXPECT_LT(__th_now_ms() - t0, 20000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	EXPECT_NE(NULL, strstr(out, "\nnot ok 1 a_test # TIMEOUT 1 seconds\n"));
	EXPECT_NE(NULL, strstr(out, "\n# not ok 1 inner.hang_long # ABORTED\n"));
	EXPECT_NE(NULL, strstr(out, "\nok 2 b_test\n"));
	if (_metadata->results->failed)
		log_text(out);
	EXPECT_STREQ("0 passed, 1 failed, 0 skipped", last_line(out));
	ASSERT_NE(NULL, marks);
	EXPECT_NE(NULL, strstr(marks, "teardown hang_long\n")) log_text(marks);
	free(out);
	free(marks);
}

int main(int argc, char **argv)
{
	char *args[64];
	int n = 0;
	bool inner = getenv("HARNESS_INNER") != NULL;

	for (int i = 0; i < argc && n < 56; i++)
		args[n++] = argv[i];
	if (inner) {
		args[n++] = "-F";
		args[n++] = "global";
		args[n++] = "-F";
		args[n++] = "outer";
		args[n++] = "-F";
		args[n++] = "runner";
	} else {
		args[n++] = "-F";
		args[n++] = "inner";
		args[n++] = "-F";
		args[n++] = "innerv";
	}
	args[n] = NULL;
	return test_harness_run(n, args);
}
