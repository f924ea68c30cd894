// SPDX-License-Identifier: MIT
/*
 * junit.c - read run-tests' output and write JUnit XML (see junit.h).
 *
 * The stream, as run-tests prints it:
 *	# selftests: ramfuse: NAME          a binary starts (a <testsuite>)
 *	# #  RUN           F.V.T ...        nested: a test starts
 *	# # file:line:T:message             nested: its TH_LOG lines
 *	# ok N F.V.T [# SKIP reason]        nested: its result (a <testcase>)
 *	# NAME: P passed, F failed, S skipped in T s
 *	ok K NAME | not ok K NAME # how     the binary's result
 *	# elapsed S s
 * Anything else is ignored, so a console log with kernel messages works.
 */
#include "junit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum tc_status { TC_PASS, TC_FAIL, TC_SKIP };

struct buf {
	char *s;
	size_t len, cap;
};

struct testcase {
	char *name;
	enum tc_status status;
	char *message;		/* the result line, or the skip reason */
	char *log;		/* what the test printed (TH_LOG lines, ...) */
};

struct suite {
	char *name;
	double time;		/* seconds, < 0: unknown */
	struct testcase *tc;
	size_t ntc, cap;
	bool ended;
};

struct junit {
	struct suite *suites;
	size_t nsuites, cap;
	struct suite *cur;	/* the binary whose output is being read */
	char *test;		/* the test between RUN and its result */
	struct buf log;		/* its output so far */
	struct buf other;	/* the binary's output outside any test */
	char *skip_reason;	/* "1..0 # SKIP reason" of the current binary */
	bool planned;		/* the current binary printed a plan "1..N" */
	double elapsed;
	struct buf line;	/* the line being assembled by junit_feed */
	bool oom;
};

static void buf_add(struct junit *j, struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			j->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static char *buf_take(struct buf *b)
{
	char *s = b->s ? b->s : strdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

static char *dup_or_flag(struct junit *j, const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		j->oom = true;
	return d;
}

static void add_case(struct junit *j, const char *name, enum tc_status st,
		     const char *message, char *log)
{
	struct suite *s = j->cur;
	struct testcase *tc;

	if (s->ntc == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct testcase *p = realloc(s->tc, cap * sizeof(*p));

		if (!p) {
			j->oom = true;
			free(log);
			return;
		}
		s->tc = p;
		s->cap = cap;
	}
	tc = &s->tc[s->ntc++];
	tc->name = dup_or_flag(j, name);
	tc->status = st;
	tc->message = dup_or_flag(j, message);
	tc->log = log;
}

/* The binary's result line "ok K NAME[ # how]" (or its absence, how=NULL
 * and failed): a failure that no test of it shows becomes a test case
 * named after the binary, and so does the result of a binary that
 * reported no tests of its own (no plan: not a kselftest binary). */
static void end_suite(struct junit *j, bool failed, const char *line,
		      const char *how)
{
	struct suite *s = j->cur;
	bool shown = false;

	if (!s)
		return;
	if (j->test) {	/* a test started and never reported */
		buf_add(j, &j->log, "", 0);
		add_case(j, j->test, TC_FAIL,
			 "no result: the binary ended during this test",
			 buf_take(&j->log));
		free(j->test);
		j->test = NULL;
		shown = true;
	}
	for (size_t i = 0; i < s->ntc; i++)
		shown |= s->tc[i].status == TC_FAIL;
	if (failed && !shown) {
		buf_add(j, &j->other, "", 0);
		add_case(j, s->name, TC_FAIL, line, buf_take(&j->other));
	} else if (!failed && s->ntc == 0 && (j->skip_reason ||
		   (how && !strncasecmp(how, "SKIP", 4)))) {
		const char *why = j->skip_reason;

		if (!why) {
			why = how + 4;
			while (*why == ' ' || *why == ':')
				why++;
		}
		add_case(j, s->name, TC_SKIP, why, NULL);
	} else if (!failed && s->ntc == 0 && !j->planned) {
		add_case(j, s->name, TC_PASS, "", buf_take(&j->other));
	}
	free(j->other.s);
	j->other = (struct buf){ 0 };
	free(j->skip_reason);
	j->skip_reason = NULL;
	j->planned = false;
	s->ended = true;
	j->cur = NULL;
}

static void start_suite(struct junit *j, const char *name)
{
	struct suite *s;

	if (j->cur)
		end_suite(j, true, "no result: the output ended before the binary's result line", NULL);
	if (j->nsuites == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		struct suite *p = realloc(j->suites, cap * sizeof(*p));

		if (!p) {
			j->oom = true;
			return;
		}
		j->suites = p;
		j->cap = cap;
	}
	s = &j->suites[j->nsuites++];
	memset(s, 0, sizeof(*s));
	s->name = dup_or_flag(j, name);
	s->time = -1;
	j->cur = s;
}

/* "ok N NAME[ # directive]" or "not ok N NAME[ # directive]": fills name
 * (up to the directive) and returns the directive (or NULL), or returns
 * NULL with *ok = -1 when line is no result line. */
static const char *result_line(const char *line, int *ok, char *name, size_t len)
{
	const char *p, *hash, *end;
	size_t n;

	*ok = -1;
	if (!strncmp(line, "ok ", 3))
		p = line + 3;
	else if (!strncmp(line, "not ok ", 7))
		p = line + 7;
	else
		return NULL;
	if (*p < '0' || *p > '9')
		return NULL;
	*ok = line[0] == 'o';
	p += strspn(p, "0123456789");
	p += strspn(p, " ");
	hash = strstr(p, " # ");
	end = hash ? hash : p + strlen(p);
	n = (size_t)(end - p) < len ? (size_t)(end - p) : len - 1;
	memcpy(name, p, n);
	name[n] = 0;
	if (!hash)
		return NULL;
	hash += 3;
	return hash + strspn(hash, " ");
}

static void nested_line(struct junit *j, const char *l)
{
	char name[512];
	const char *dir;
	int ok;

	if (!strncmp(l, "#  RUN ", 7)) {
		const char *t = l + 7 + strspn(l + 7, " ");
		size_t n = strlen(t);

		if (n > 4 && !strcmp(t + n - 4, " ..."))
			n -= 4;
		free(j->test);
		j->test = strndup(t, n);
		if (!j->test)
			j->oom = true;
		free(j->log.s);
		j->log = (struct buf){ 0 };
		return;
	}
	dir = result_line(l, &ok, name, sizeof(name));
	if (ok >= 0) {
		bool skip = ok && dir && !strncasecmp(dir, "SKIP", 4);
		const char *why = skip ? dir + 4 + strspn(dir + 4, " ") : l;

		buf_add(j, &j->log, "", 0);
		add_case(j, name, skip ? TC_SKIP : ok ? TC_PASS : TC_FAIL,
			 skip ? why : ok ? "" : l, buf_take(&j->log));
		free(j->test);
		j->test = NULL;
		return;
	}
	if (!strncmp(l, "1..", 3))
		j->planned = true;
	if (!strncmp(l, "1..0 # SKIP", 11)) {
		free(j->skip_reason);
		j->skip_reason = dup_or_flag(j, l + 11 + strspn(l + 11, " "));
		return;
	}
	/* the harness's own bookkeeping lines carry nothing of the test's */
	if (!strncmp(l, "TAP version ", 12) || !strncmp(l, "1..", 3) ||
	    !strncmp(l, "# Starting ", 11) || !strncmp(l, "# Totals: ", 10) ||
	    !strncmp(l, "# PASSED: ", 10) || !strncmp(l, "# FAILED: ", 10) ||
	    !strncmp(l, "#            OK  ", 17) ||
	    !strncmp(l, "#          FAIL  ", 17) || !strncmp(l, "#      SKIP ", 12))
		return;
	if (j->test) {
		buf_add(j, &j->log, l, strlen(l));
		buf_add(j, &j->log, "\n", 1);
	} else {
		buf_add(j, &j->other, l, strlen(l));
		buf_add(j, &j->other, "\n", 1);
	}
}

static void one_line(struct junit *j, char *l)
{
	char name[512];
	const char *how;
	double t;
	int ok;

	l[strcspn(l, "\r")] = 0;
	if (!strncmp(l, "# selftests: ", 13)) {
		const char *n = l + 13, *colon = strstr(n, ": ");

		start_suite(j, colon ? colon + 2 : n);
		return;
	}
	if (sscanf(l, "# elapsed %lf s", &t) == 1) {
		j->elapsed = t;
		return;
	}
	how = result_line(l, &ok, name, sizeof(name));
	if (ok >= 0) {
		/* kselftest's runner says "ok K selftests: DIR: NAME" */
		size_t n = strlen(name), m = j->cur ? strlen(j->cur->name) : 0;

		if (j->cur && n >= m && !strcmp(name + n - m, j->cur->name) &&
		    (n == m || (n >= m + 2 && !strncmp(name + n - m - 2, ": ", 2))))
			end_suite(j, !ok, l, how);
		return;
	}
	if (!j->cur || strncmp(l, "# ", 2))
		return;
	{	/* "# NAME: P passed, F failed, S skipped in T s" */
		size_t n = strlen(j->cur->name);
		unsigned long a, b, c;

		if (!strncmp(l + 2, j->cur->name, n) && l[2 + n] == ':' &&
		    sscanf(l + 2 + n, ": %lu passed, %lu failed, %lu skipped in %lf s",
			   &a, &b, &c, &t) == 4) {
			j->cur->time = t;
			return;
		}
	}
	nested_line(j, l + 2);
}

struct junit *junit_new(void)
{
	struct junit *j = calloc(1, sizeof(*j));

	if (j)
		j->elapsed = -1;
	return j;
}

void junit_feed(struct junit *j, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			buf_add(j, &j->line, &data[i], 1);
			continue;
		}
		buf_add(j, &j->line, "", 0);
		if (j->line.s)
			one_line(j, j->line.s);
		j->line.len = 0;
	}
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned int c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

/* Text or attribute value: markup characters as entities; bytes XML 1.0
 * cannot hold (control characters, invalid UTF-8) as "\xNN". */
static void xml_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = utf8_len(p);

		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\n': case '\t': fputc(*p, f); break;
		default:
			if (*p < 0x20 || *p == 0x7f || !n) {
				fprintf(f, "\\x%02x", *p);
				n = 1;
			} else {
				fwrite(p, 1, n, f);
			}
			p += n;
			continue;
		}
		p++;
	}
}

static void write_suite(FILE *f, const struct suite *s)
{
	size_t fails = 0, skips = 0;

	for (size_t i = 0; i < s->ntc; i++) {
		fails += s->tc[i].status == TC_FAIL;
		skips += s->tc[i].status == TC_SKIP;
	}
	fputs("  <testsuite name=\"", f);
	xml_text(f, s->name);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\"",
		s->ntc, fails, skips);
	if (s->time >= 0)
		fprintf(f, " time=\"%.1f\"", s->time);
	fputs(">\n", f);
	for (size_t i = 0; i < s->ntc; i++) {
		const struct testcase *t = &s->tc[i];
		bool log = t->log && *t->log;

		fputs("    <testcase classname=\"", f);
		xml_text(f, s->name);
		fputs("\" name=\"", f);
		xml_text(f, t->name);
		fputs("\"", f);
		if (t->status == TC_PASS && !log) {
			fputs("/>\n", f);
			continue;
		}
		fputs(">\n", f);
		if (t->status == TC_FAIL) {
			fputs("      <failure message=\"", f);
			xml_text(f, t->message);
			fputs("\">", f);
			xml_text(f, t->log);
			fputs("</failure>\n", f);
		} else if (t->status == TC_SKIP) {
			fputs("      <skipped message=\"", f);
			xml_text(f, t->message);
			fputs("\"/>\n", f);
		}
		if (log && t->status != TC_FAIL) {
			fputs("      <system-out>", f);
			xml_text(f, t->log);
			fputs("</system-out>\n", f);
		}
		fputs("    </testcase>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

int junit_write(struct junit *j, const char *path)
{
	size_t tests = 0, fails = 0, skips = 0;
	char tmp[4096];
	FILE *f;
	int err = 0;

	if (j->line.len) {	/* a last line without its newline */
		buf_add(j, &j->line, "", 0);
		one_line(j, j->line.s);
		j->line.len = 0;
	}
	if (j->cur)
		end_suite(j, true, "no result: the output ended before the binary's result line", NULL);
	if (j->oom)
		return -ENOMEM;
	for (size_t i = 0; i < j->nsuites; i++)
		for (size_t k = 0; k < j->suites[i].ntc; k++) {
			tests++;
			fails += j->suites[i].tc[k].status == TC_FAIL;
			skips += j->suites[i].tc[k].status == TC_SKIP;
		}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"ramfuse\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"0\" skipped=\"%zu\"", tests, fails, skips);
	if (j->elapsed >= 0)
		fprintf(f, " time=\"%.1f\"", j->elapsed);
	fputs(">\n", f);
	for (size_t i = 0; i < j->nsuites; i++)
		if (j->suites[i].ntc)	/* a binary the filter left empty */
			write_suite(f, &j->suites[i]);
	fputs("</testsuites>\n", f);
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

void junit_free(struct junit *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nsuites; i++) {
		struct suite *s = &j->suites[i];

		for (size_t k = 0; k < s->ntc; k++) {
			free(s->tc[k].name);
			free(s->tc[k].message);
			free(s->tc[k].log);
		}
		free(s->tc);
		free(s->name);
	}
	free(j->suites);
	free(j->test);
	free(j->log.s);
	free(j->other.s);
	free(j->skip_reason);
	free(j->line.s);
	free(j);
}
