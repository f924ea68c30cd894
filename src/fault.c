/* Faults: parsing -o fault=SPEC, matching a request against the specs, and
 * applying what matched: before serving (delay, error, drop) and when
 * replying (twice, badunique, short). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "fault.h"
#include "log.h"
#include "opname.h"
#include "session.h"

static const struct { const char *name; int value; } errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EINTR", EINTR }, { "EIO", EIO },
	{ "ENXIO", ENXIO }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES }, { "EBUSY", EBUSY }, { "EEXIST", EEXIST },
	{ "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR }, { "EINVAL", EINVAL },
	{ "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "ENOSYS", ENOSYS },
	{ "ENOTEMPTY", ENOTEMPTY }, { "ENODATA", ENODATA }, { "ESTALE", ESTALE },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTTY", ENOTTY }, { "EPROTO", EPROTO },
};

static int parse_errno(const char *s, uint32_t *out)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(s, errnos[i].name)) {
			*out = (uint32_t)errnos[i].value;
			return 0;
		}
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v == 0 || v > 4095)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *s == '-' || *end || errno || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opcode(const char *s, uint32_t *out)
{
	if (!strcmp(s, "CLONE")) {
		*out = FAULT_OP_CLONE;
		return 0;
	}
	for (uint32_t op = 0; op < FUSE_OPCODE_MAX; op++)
		if (opcode_name(op) && !strcmp(s, opcode_name(op))) {
			*out = op;
			return 0;
		}
	return -EINVAL;
}

/* SPEC is OPCODE:ACTION[:node=N][:name=S][:count=N], e.g.
 * LOOKUP:delay=200, GETATTR:error=EIO:node=1, READ:drop:count=1. */
int fault_parse(struct fault *f, const char *spec, char *err, size_t errlen)
{
	char buf[256];
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "fault spec too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	*f = (struct fault){ .left = -1 };
	char *save = NULL, *word = strtok_r(buf, ":", &save);
	if (!word || parse_opcode(word, &f->opcode) < 0) {
		snprintf(err, errlen, "fault=%s: unknown opcode '%s'", spec, word ? word : "");
		return -EINVAL;
	}
	bool have_action = false;
	while ((word = strtok_r(NULL, ":", &save))) {
		char *val = strchr(word, '=');
		if (val)
			*val++ = 0;
		uint64_t n = 0;
		int bad = 0;
		if (!strcmp(word, "delay") && val) {
			bad = parse_num(val, 3600000, &n);
			f->action = FAULT_DELAY;
			f->value = (uint32_t)n;
			have_action = true;
		} else if (!strcmp(word, "error") && val) {
			bad = parse_errno(val, &f->value);
			f->action = FAULT_ERROR;
			have_action = true;
		} else if (!val && (!strcmp(word, "drop") || !strcmp(word, "twice") ||
				    !strcmp(word, "badunique") || !strcmp(word, "short"))) {
			f->action = word[0] == 'd' ? FAULT_DROP : word[0] == 't' ? FAULT_TWICE
				  : word[0] == 'b' ? FAULT_BADUNIQUE : FAULT_SHORT;
			have_action = true;
		} else if (!strcmp(word, "node") && val) {
			bad = parse_num(val, UINT64_MAX, &f->nodeid);
		} else if (!strcmp(word, "name") && val) {
			if (strlen(val) >= sizeof(f->name) || !*val)
				bad = -EINVAL;
			else
				strcpy(f->name, val);
		} else if (!strcmp(word, "count") && val) {
			bad = parse_num(val, INT64_MAX, &n);
			f->left = (int64_t)n;
		} else {
			snprintf(err, errlen, "fault=%s: unknown word '%s'", spec, word);
			return -EINVAL;
		}
		if (bad) {
			snprintf(err, errlen, "fault=%s: bad value for '%s'", spec, word);
			return -EINVAL;
		}
	}
	if (!have_action) {
		snprintf(err, errlen, "fault=%s: no action (delay=, error=, drop, twice, "
			 "badunique, short)", spec);
		return -EINVAL;
	}
	if (f->opcode == FAULT_OP_CLONE && f->action != FAULT_ERROR) {
		snprintf(err, errlen, "fault=%s: CLONE takes only error=", spec);
		return -EINVAL;
	}
	return 0;
}

struct fault *fault_match(struct fault *faults, unsigned n, uint32_t opcode,
			  uint64_t nodeid, const char *name)
{
	for (unsigned i = 0; i < n; i++) {
		struct fault *f = &faults[i];
		if (f->opcode != opcode || (f->nodeid && f->nodeid != nodeid) ||
		    (f->name[0] && (!name || strcmp(f->name, name))))
			continue;
		if (f->left >= 0) { /* take one use, if any is left */
			int64_t left = __atomic_load_n(&f->left, __ATOMIC_RELAXED);
			do {
				if (left <= 0)
					break;
			} while (!__atomic_compare_exchange_n(&f->left, &left, left - 1, 0,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
			if (left <= 0)
				continue;
		}
		__atomic_add_fetch(&f->hits, 1, __ATOMIC_RELAXED);
		return f;
	}
	return NULL;
}

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep before serving.  A FUSE_INTERRUPT for the request (it signals us)
 * answers EINTR, nothing done: returns -EINTR.  The connection's end (POLLERR
 * on our fd after an abort) or the session's stop ends the sleep early:
 * nobody waits any more, the request is served at once. */
static int delay_request(struct worker *w, unsigned ms)
{
	long long end = monotonic_ms() + ms, left;
	while ((left = end - monotonic_ms()) > 0) {
		struct pollfd p = { .fd = w->fd, .events = 0 };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			break;
		if (n < 0 && errno == EINTR) {
			if (__atomic_load_n(&w->interrupted, __ATOMIC_ACQUIRE))
				return -EINTR;
			if (__atomic_load_n(&w->s->stopping, __ATOMIC_ACQUIRE))
				break;
		}
	}
	return 0;
}

int fault_apply(struct worker *w, const struct fuse_in_header *h, const char *name,
		enum fault_action *later)
{
	struct session *s = w->s;
	struct fault *f = fault_match(s->cfg.faults, s->cfg.nfaults, h->opcode,
				      h->nodeid, name);
	if (!f)
		return 0;
	debug("%s unique %llu: fault %d", w->tag, (unsigned long long)h->unique,
	      (int)f->action);
	switch (f->action) {
	case FAULT_DELAY:
		return delay_request(w, f->value);
	case FAULT_ERROR:
		return -(int)f->value;
	case FAULT_DROP:
		return 1;
	default:
		*later = f->action;
		return 0;
	}
}

int fault_send(struct worker *w, uint64_t unique, enum fault_action a, int err,
	       struct iovec *iov, int iovcnt)
{
	int res;
	switch (a) {
	case FAULT_BADUNIQUE:
		res = worker_send(w, unique ^ (1ULL << 62), err, iov, iovcnt);
		debug("%s unique %llu: reply to a wrong unique: %s", w->tag,
		      (unsigned long long)unique, strerror(-res));
		if (res < 0)
			counter_inc(&w->failed_replies);
		return worker_send(w, unique, err, iov, iovcnt);
	case FAULT_TWICE:
		res = worker_send(w, unique, err, iov, iovcnt);
		int again = worker_send(w, unique, err, iov, iovcnt);
		debug("%s unique %llu: second reply: %s", w->tag,
		      (unsigned long long)unique, strerror(-again));
		if (again < 0)
			counter_inc(&w->failed_replies);
		return res;
	case FAULT_SHORT:
		for (int i = iovcnt - 1; i > 0; i--)
			if (iov[i].iov_len) {
				iov[i].iov_len--;
				break;
			}
		return worker_send(w, unique, err, iov, iovcnt);
	default:
		return worker_send(w, unique, err, iov, iovcnt);
	}
}
