// SPDX-License-Identifier: MIT
/*
 * Self-tests of harness.h and run-tests.  Needs neither root nor ramfuse,
 * except inner_stuck (a test stuck in the kernel, through a ramfuse that
 * never answers; it skips without them).
 *
 * The binary has two personalities.  Normally it runs the "outer" tests
 * (fixtures global and outer), which all pass.  With HARNESS_INNER=1 it runs
 * the "inner" tests instead (fixtures inner and innerv), which deliberately
 * pass, fail, skip, hang and crash; the outer tests run that mode as a
 * subprocess (directly and through run-tests) and check the TAP it prints.
 * HARNESS_INNER=all adds fixture innerx (output that XML must escape),
 * HARNESS_INNER=skipall skips the binary as a whole (exit 4),
 * HARNESS_INNER=stuck runs fixture innerstuck only.
 */
#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "fuse_util.h"
#include "kpaths.h"

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

/* markup, quotes, a control character, an escape sequence and bytes that
 * are no UTF-8, in a failure's log: the JUnit XML must still be valid */
FIXTURE(innerx) {
	int unused;
};

TEST_F(innerx, xml_chars)
{
	TH_LOG("markup <a href=\"x\">&amp;</a> 'q' ctl\x01 esc\x1b[0m bad\xff\xc3 ok \xc3\xa9");
	ASSERT_TRUE(0);
}

/* ------------------------------------------------------------------ */
/* helpers for the outer tests                                         */

/* HARNESS_INNER=stuck: a test that ends up in uninterruptible sleep (a
 * STATFS ramfuse drops, then the harness's SIGKILL at the timeout: the
 * kernel waits for the answer), then one that passes.  The teardown ends
 * the stuck one by aborting the connection through fusectl. */
FIXTURE(innerstuck) {
	struct ramfuse rf;
	char conn[200];
	int fusectl_ours;
};

FIXTURE_SETUP(innerstuck)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(innerstuck)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/abort", self->conn);
	if (self->conn[0])
		write_str(p, "1");
	if (self->fusectl_ours) { /* conn_dir's own mount, in rf.base */
		char ctl[RF_PATH];

		fusectl_path(&self->rf, ctl, sizeof(ctl));
		umount2(ctl, MNT_DETACH);
	}
	rf_cleanup(&self->rf);
}

TEST_F_TIMEOUT(innerstuck, stuck, 2)
{
	char why[256];
	struct statfs sf;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "threads=1,fault=STATFS:drop"))
		TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, conn_dir(&self->rf, &self->fusectl_ours, self->conn,
			      sizeof(self->conn), why, sizeof(why))) TH_LOG("%s", why);
	mark("stuck-started", _metadata->name);
	statfs(self->rf.mnt, &sf);
	mark("NOT REACHED", _metadata->name);
}

TEST_F(innerstuck, after)
{
	mark("after-ran", _metadata->name);
}

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
					     "notexec_test", "other", "junit.xml",
					     "junit2.xml", "tap.txt" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", t->dir, names[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

/*
 * Run prog (argv) with env additions "K=V" (NULL-terminated), stdout and
 * stderr to out, as user uid unless it is -1.  Returns the wait status,
 * or -1.
 */
static int run_capture_as(const char *prog, char *const argv[],
			  const char *const env[], const char *out, uid_t uid)
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
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(125);
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

static int run_capture(const char *prog, char *const argv[],
		       const char *const env[], const char *out)
{
	return run_capture_as(prog, argv, env, out, (uid_t)-1);
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

/*
 * A test stuck in the kernel (uninterruptible sleep) at its timeout: the
 * harness SIGKILLs it, waits a grace period, abandons it naming its state,
 * reports TIMEOUT, runs the teardown in a fresh process, and goes on.
 */
TEST_TIMEOUT(inner_stuck, 60)
{
	const char *env[] = { "HARNESS_INNER=stuck", NULL };
	char why[256], *out, *marks;
	struct tmpdir td;
	long long t0;
	int status;

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, tmpdir_make(&td));
	t0 = __th_now_ms();
	status = run_inner(&td, NULL, env, &out);
	TH_LOG("the stuck run took %lld ms", __th_now_ms() - t0);
	marks = slurp(td.mark);
	tmpdir_remove(&td);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, marks);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(out, "# innerstuck.stuck: Test terminated by timeout"));
	EXPECT_NE(NULL, strstr(out, "did not die of SIGKILL (state D"));
	EXPECT_NE(NULL, strstr(out, "stuck in the kernel, abandoned"));
	EXPECT_NE(NULL, strstr(out, "not ok 1 innerstuck.stuck # TIMEOUT\n"));
	EXPECT_NE(NULL, strstr(out, "ok 2 innerstuck.after\n"));
	EXPECT_NE(NULL, strstr(marks, "stuck-started stuck\n"));
	EXPECT_NE(NULL, strstr(marks, "after-ran after\n"));
	EXPECT_EQ(NULL, strstr(marks, "NOT REACHED"));
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

/* The runner's verdict on runs that test nothing: out is its output,
 * status its wait status. */
static char *runner_run(struct __test_metadata *_metadata,
			FIXTURE_DATA(runner) *self, char *filter,
			const char *inner, uid_t uid, int *status)
{
	char inner_env[64];
	char *argv[] = { "run-tests", "-t", filter, self->td.dir, NULL };
	const char *env[] = { inner_env, self->mark_env, NULL };
	char *out;

	snprintf(inner_env, sizeof(inner_env), "HARNESS_INNER=%s", inner);
	if (!filter) {
		argv[1] = self->td.dir;
		argv[2] = NULL;
	}
	*status = run_capture_as(self->runner, argv, env, self->out_path, uid);
	out = slurp(self->out_path);
	if (!out)
		TH_LOG("no output from run-tests");
	return out;
}

static bool can_mount_here(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return geteuid() == 0 && fd >= 0;
}

/* -t FILTER that matches no test is a usage error, not an empty pass */
TEST_F_TIMEOUT(runner, filter_matches_nothing, 60)
{
	int status;
	char *out = runner_run(_metadata, self, "no_such_test", "1", -1, &status);

	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) log_text(out);
	EXPECT_NE(NULL, strstr(out, "\n# run-tests: -t no_such_test: no test matches it\n"));
	EXPECT_NE(NULL, strstr(out, "run-tests: -t no_such_test: no test matches it (names are"));
	EXPECT_STREQ("0 passed, 0 failed, 0 skipped", last_line(out));
	free(out);
}

/* every test skipped: nothing was tested (4, kselftest's skip) */
TEST_F_TIMEOUT(runner, all_skipped, 60)
{
	int status;
	char *out = runner_run(_metadata, self, "inner.skipped", "1", -1, &status);

	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4) log_text(out);
	EXPECT_NE(NULL, strstr(out, "\nok 1 a_test # SKIP all 1 tests: because reasons\n"));
	EXPECT_NE(NULL, strstr(out, "\n# run-tests: SKIP: nothing was tested: all 2 tests "
			       "skipped (2 x because reasons)\n"));
	EXPECT_STREQ("0 passed, 0 failed, 2 skipped", last_line(out));
	free(out);
}

/* a single skip (say, a kernel too old for one feature) stays a skip */
TEST_F_TIMEOUT(runner, some_skipped, 60)
{
	int status, want = can_mount_here() ? 0 : 4;
	char *out = runner_run(_metadata, self, "inner.pass_test,inner.skipped", "1",
			       -1, &status);

	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == want) log_text(out);
	EXPECT_NE(NULL, strstr(out, "\nok 1 a_test\n"));
	EXPECT_STREQ("2 passed, 0 failed, 2 skipped", last_line(out));
	free(out);
}

/* kselftest's whole-binary skip: "1..0 # SKIP why" and exit 4 */
TEST_F_TIMEOUT(runner, binary_skipped, 60)
{
	int status;
	char *out = runner_run(_metadata, self, NULL, "skipall", -1, &status);

	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4) log_text(out);
	EXPECT_NE(NULL, strstr(out, "\nok 1 a_test # SKIP no widget here\n"));
	EXPECT_NE(NULL, strstr(out, "\n# run-tests: SKIP: nothing was tested: all 2 tests "
			       "skipped (2 x no widget here)\n"));
	EXPECT_STREQ("0 passed, 0 failed, 2 skipped", last_line(out));
	free(out);
}

/* no binaries at all: nothing was tested */
TEST_F_TIMEOUT(runner, no_binaries, 60)
{
	char *argv[] = { "run-tests", self->td.dir, NULL };
	char p[160];
	int status;
	char *out;

	snprintf(p, sizeof(p), "%s/a_test", self->td.dir);
	ASSERT_EQ(0, unlink(p));
	snprintf(p, sizeof(p), "%s/b_test", self->td.dir);
	ASSERT_EQ(0, unlink(p));
	status = run_capture(self->runner, argv, NULL, self->out_path);
	out = slurp(self->out_path);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4) log_text(out);
	EXPECT_NE(NULL, strstr(out, "# run-tests: SKIP: nothing was tested: no *_test binaries in "));
	EXPECT_STREQ("0 passed, 0 failed, 0 skipped", last_line(out));
	free(out);
}

/* Skips while the run lacks root: the suite did not run, even though
 * some tests (these, like harness_test) need no root and passed. */
TEST_F_TIMEOUT(runner, not_root, 60)
{
	int status;
	char *out;

	if (geteuid() != 0)
		SKIP(return, "needs root to run the runner as another user");
	ASSERT_EQ(0, chmod(self->td.dir, 0755));
	out = runner_run(_metadata, self, "inner.pass_test,inner.skipped", "1",
			 65534, &status);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 4) log_text(out);
	EXPECT_NE(NULL, strstr(out, "# run-tests: this run lacks not root (euid 65534)"));
	EXPECT_NE(NULL, strstr(out, "\n# run-tests: SKIP: 2 tests skipped because the run "
			       "lacks what the suite needs: not root (euid 65534)"));
	EXPECT_STREQ("2 passed, 0 failed, 2 skipped", last_line(out));
	free(out);
}

/*
 * A small XML reader, enough to hold run-tests' JUnit to the rules a CI
 * parser applies: one root element, tags that nest, quoted attributes,
 * only the five named entities and character references, no markup
 * characters in text, only the characters XML 1.0 allows, valid UTF-8.
 * Elements go to a flat list with their parent, attributes and text.
 */
#define XML_MAX 512
struct xml_el {
	char name[32];
	int parent;
	int nattr;
	char attr[8][2][256];	/* name, decoded value */
	char text[1024];	/* decoded, the first 1023 bytes */
};

struct xml {
	struct xml_el el[XML_MAX];
	int n;
	char err[160];
};

static int xml_fail(struct xml *x, const char *at, const char *what)
{
	snprintf(x->err, sizeof(x->err), "%s at \"%.30s\"", what, at);
	return -1;
}

/* One character (decoding an entity) from *p into out; -1 when malformed. */
static int xml_char(struct xml *x, const char **p, char *out, size_t *len, size_t cap)
{
	const unsigned char *s = (const unsigned char *)*p;
	static const char *const ent[][2] = {
		{ "&lt;", "<" }, { "&gt;", ">" }, { "&amp;", "&" },
		{ "&quot;", "\"" }, { "&apos;", "'" },
	};
	char one[8];
	size_t n = 1, k;

	if (*s == '&') {
		for (k = 0; k < 5; k++)
			if (!strncmp(*p, ent[k][0], strlen(ent[k][0])))
				break;
		if (k < 5) {
			snprintf(one, sizeof(one), "%s", ent[k][1]);
			*p += strlen(ent[k][0]);
		} else if (s[1] == '#') {
			char *end;
			long c = strtol(*p + 2 + (s[2] == 'x'), &end, s[2] == 'x' ? 16 : 10);

			if (*end != ';' || c < 0x20)
				return xml_fail(x, *p, "bad character reference");
			one[0] = '?', one[1] = 0;
			*p = end + 1;
		} else {
			return xml_fail(x, *p, "unknown entity");
		}
	} else if (*s == '<') {
		return xml_fail(x, *p, "'<' in text");
	} else if ((*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r') || *s == 0x7f) {
		return xml_fail(x, *p, "control character");
	} else {
		if (*s >= 0x80) {
			n = *s >= 0xf0 && *s <= 0xf4 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc2 && *s < 0xe0 ? 2 : 0;
			for (k = 1; k < n; k++)
				if ((s[k] & 0xc0) != 0x80)
					n = 0;
			if (!n)
				return xml_fail(x, *p, "invalid UTF-8");
		}
		memcpy(one, s, n);
		one[n] = 0;
		*p += n;
	}
	for (k = 0; one[k]; k++)
		if (*len + 1 < cap)
			out[(*len)++] = one[k];
	out[*len] = 0;
	return 0;
}

static int xml_parse(struct xml *x, const char *p)
{
	int stack[64], depth = 0, roots = 0;

	x->n = 0;
	x->err[0] = 0;
	if (strncmp(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38))
		return xml_fail(x, p, "no XML declaration");
	p = strstr(p, "?>") + 2;
	while (*p) {
		if (*p != '<') {
			if (!depth) {
				if (!strchr(" \t\r\n", *p))
					return xml_fail(x, p, "text outside the root");
				p++;
				continue;
			}
			size_t len = strlen(x->el[stack[depth - 1]].text);

			if (xml_char(x, &p, x->el[stack[depth - 1]].text, &len,
				     sizeof(x->el[0].text)))
				return -1;
			continue;
		}
		if (p[1] == '/') {	/* end tag */
			size_t l = strcspn(p + 2, ">");

			if (!depth || p[2 + l] != '>' ||
			    strlen(x->el[stack[depth - 1]].name) != l ||
			    strncmp(p + 2, x->el[stack[depth - 1]].name, l))
				return xml_fail(x, p, "end tag does not match");
			depth--;
			p += 3 + l;
			continue;
		}
		struct xml_el *e;
		size_t l = strcspn(p + 1, " \t\r\n/>");

		if (x->n == XML_MAX || depth == 64 || !l || l >= sizeof(e->name))
			return xml_fail(x, p, "too many, too deep or bad element");
		if (!depth && roots++)
			return xml_fail(x, p, "a second root element");
		e = &x->el[x->n];
		memset(e, 0, sizeof(*e));
		memcpy(e->name, p + 1, l);
		e->parent = depth ? stack[depth - 1] : -1;
		p += 1 + l;
		for (;;) {
			size_t al, vl = 0;

			p += strspn(p, " \t\r\n");
			if (*p == '>' || !strncmp(p, "/>", 2))
				break;
			al = strcspn(p, "= \t\r\n/>");
			if (!al || p[al] != '=' || p[al + 1] != '"' || e->nattr == 8 ||
			    al >= sizeof(e->attr[0][0]))
				return xml_fail(x, p, "bad attribute");
			memcpy(e->attr[e->nattr][0], p, al);
			p += al + 2;
			while (*p != '"') {
				if (!*p)
					return xml_fail(x, p, "unterminated attribute");
				if (xml_char(x, &p, e->attr[e->nattr][1], &vl,
					     sizeof(e->attr[0][1])))
					return -1;
			}
			p++;
			e->nattr++;
		}
		x->n++;
		if (*p == '/') {
			p += 2;
		} else {
			stack[depth++] = x->n - 1;
			p++;
		}
	}
	if (depth || !roots)
		return xml_fail(x, p, "unclosed element or no root");
	return 0;
}

static const char *xml_attr(const struct xml_el *e, const char *name)
{
	for (int i = 0; i < e->nattr; i++)
		if (!strcmp(e->attr[i][0], name))
			return e->attr[i][1];
	return NULL;
}

/* The element named name, child of parent (-2: anywhere), with attribute
 * key=val (key NULL: any); its index or -1. */
static int xml_find(const struct xml *x, int parent, const char *name,
		    const char *key, const char *val)
{
	for (int i = 0; i < x->n; i++) {
		const char *v = key ? xml_attr(&x->el[i], key) : NULL;

		if ((parent == -2 || x->el[i].parent == parent) &&
		    !strcmp(x->el[i].name, name) && (!key || (v && !strcmp(v, val))))
			return i;
	}
	return -1;
}

/* the reader itself must refuse what a CI parser refuses */
TEST(xml_reader)
{
	static const char *const bad[] = {
		"<a><b></a></b>", "<a>&bogus;</a>", "<a x=1/>", "<a>\x01</a>",
		"<a>x < y</a>", "<a>\xff</a>", "<a/><b/>", "<a>", "<a x=\"<\"/>",
	};
	static struct xml x;
	char doc[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n%s\n", bad[i]);
		EXPECT_EQ(-1, xml_parse(&x, doc)) TH_LOG("accepted: %s", bad[i]);
	}
	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<a k=\"&lt;&quot;&#x41;\"><b/>t&amp;\xc3\xa9</a>\n");
	ASSERT_EQ(0, xml_parse(&x, doc)) TH_LOG("%s", x.err);
	ASSERT_EQ(2, x.n);
	EXPECT_STREQ("<\"?", xml_attr(&x.el[0], "k"));
	EXPECT_STREQ("t&\xc3\xa9", x.el[0].text);
	EXPECT_EQ(0, x.el[1].parent);
}

/* --junit: JUnit XML a CI reporter reads (a testsuite per binary, a
 * testcase per test, failures with their TH_LOG lines, skips with their
 * reason); --tap: the same stream as stdout; --tap-to-junit: the same XML
 * from that stream (the VM's way). */
TEST_F_TIMEOUT(runner, junit, 60)
{
	char junit[128], junit2[128], tap[128];
	char *argv[] = { "run-tests", "--junit", junit, "--tap", tap, self->td.dir, NULL };
	char *argv2[] = { "run-tests", "--tap-to-junit", tap, "--junit", junit2, NULL };
	const char *env[] = { "HARNESS_INNER=all", self->mark_env, NULL };
	static struct xml x;
	char *out, *xml, *tapped, *xml2;
	int status, root, suite, tc, f;

	snprintf(junit, sizeof(junit), "%s/junit.xml", self->td.dir);
	snprintf(junit2, sizeof(junit2), "%s/junit2.xml", self->td.dir);
	snprintf(tap, sizeof(tap), "%s/tap.txt", self->td.dir);
	status = run_capture(self->runner, argv, env, self->out_path);
	out = slurp(self->out_path);
	xml = slurp(junit);
	tapped = slurp(tap);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) log_text(out);
	ASSERT_NE(NULL, tapped);
	EXPECT_STREQ(out, tapped);
	ASSERT_NE(NULL, xml);
	ASSERT_EQ(0, xml_parse(&x, xml)) {
		TH_LOG("invalid XML: %s", x.err);
		log_text(xml);
	}
	root = xml_find(&x, -1, "testsuites", NULL, NULL);
	ASSERT_EQ(0, root);
	EXPECT_STREQ("26", xml_attr(&x.el[root], "tests"));
	EXPECT_STREQ("16", xml_attr(&x.el[root], "failures"));
	EXPECT_STREQ("6", xml_attr(&x.el[root], "skipped"));
	suite = xml_find(&x, root, "testsuite", "name", "a_test");
	ASSERT_LE(0, suite);
	EXPECT_LE(0, xml_find(&x, root, "testsuite", "name", "b_test"));
	EXPECT_STREQ("13", xml_attr(&x.el[suite], "tests"));
	EXPECT_STREQ("8", xml_attr(&x.el[suite], "failures"));
	EXPECT_STREQ("3", xml_attr(&x.el[suite], "skipped"));

	tc = xml_find(&x, suite, "testcase", "name", "inner.pass_test");
	ASSERT_LE(0, tc);
	EXPECT_STREQ("a_test", xml_attr(&x.el[tc], "classname"));
	EXPECT_EQ(-1, xml_find(&x, tc, "failure", NULL, NULL));
	EXPECT_EQ(-1, xml_find(&x, tc, "skipped", NULL, NULL));

	tc = xml_find(&x, suite, "testcase", "name", "inner.fail_assert");
	ASSERT_LE(0, tc);
	f = xml_find(&x, tc, "failure", NULL, NULL);
	ASSERT_LE(0, f);
	EXPECT_STREQ("not ok 2 inner.fail_assert", xml_attr(&x.el[f], "message"));
	EXPECT_NE(NULL, strstr(x.el[f].text, ":fail_assert:Expected one (1) == two (2)\n"));
	EXPECT_NE(NULL, strstr(x.el[f].text, "assert-statement-ran"));

	tc = xml_find(&x, suite, "testcase", "name", "inner.hang");
	ASSERT_LE(0, tc);
	f = xml_find(&x, tc, "failure", NULL, NULL);
	ASSERT_LE(0, f);
	EXPECT_STREQ("not ok 5 inner.hang # TIMEOUT", xml_attr(&x.el[f], "message"));

	tc = xml_find(&x, suite, "testcase", "name", "inner.skipped");
	ASSERT_LE(0, tc);
	f = xml_find(&x, tc, "skipped", NULL, NULL);
	ASSERT_LE(0, f);
	EXPECT_STREQ("because reasons", xml_attr(&x.el[f], "message"));
	tc = xml_find(&x, suite, "testcase", "name", "innerv.c.v");
	ASSERT_LE(0, tc);
	EXPECT_LE(0, xml_find(&x, tc, "skipped", "message", "skipped in setup"));

	/* what XML cannot hold arrives escaped, the rest as it was */
	tc = xml_find(&x, suite, "testcase", "name", "innerx.xml_chars");
	ASSERT_LE(0, tc);
	f = xml_find(&x, tc, "failure", NULL, NULL);
	ASSERT_LE(0, f);
	EXPECT_NE(NULL, strstr(x.el[f].text, "markup <a href=\"x\">&amp;</a> 'q' ctl\\x01 "
			       "esc\\x1b[0m bad\\xff\\xc3 ok \xc3\xa9\n")) log_text(x.el[f].text);

	/* one reader: the saved stream gives the same XML */
	status = run_capture(self->runner, argv2, NULL, self->out_path);
	EXPECT_EQ(0, status);
	xml2 = slurp(junit2);
	ASSERT_NE(NULL, xml2);
	EXPECT_EQ(0, strcmp(xml, xml2)) log_text(xml2);
	free(out);
	free(xml);
	free(xml2);
	free(tapped);
}

int main(int argc, char **argv)
{
	char *args[64];
	int n = 0;
	const char *mode = getenv("HARNESS_INNER");
	bool inner = mode != NULL;

	if (mode && !strcmp(mode, "skipall")) {
		/* as kselftest.h's ksft_exit_skip() before any test */
		printf("TAP version 13\n1..0 # SKIP no widget here\n");
		return KSFT_SKIP;
	}

	for (int i = 0; i < argc && n < 56; i++)
		args[n++] = argv[i];
	if (inner && !strcmp(mode, "stuck")) {
		static const char *const others[] = { "global", "outer", "runner", "inner",
						      "innerv", "innerx" };

		for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
			args[n++] = "-F";
			args[n++] = (char *)others[i];
		}
		args[n] = NULL;
		return test_harness_run(n, args);
	}
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
	args[n++] = "-F";
	args[n++] = "innerstuck";
	if (inner && strcmp(mode, "all")) {
		args[n++] = "-F";
		args[n++] = "innerx";
	}
	if (!inner) {
		args[n++] = "-F";
		args[n++] = "innerx";
	}
	args[n] = NULL;
	return test_harness_run(n, args);
}
