/* Faults: parsing -o fault=SPEC, matching a request against the specs, and
 * applying what matched: before serving (delay, error, drop) and when
 * replying (twice, badunique, short). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The kernel takes a reply's error only in -511..-1 (fs/fuse/dev.c refuses
 * -512 and below, the restart codes): a larger one would leave the caller
 * waiting until the connection ends. */
#define FAULT_ERRNO_MAX 511

static int parse_errno(const char *s, uint32_t *out)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(s, errnos[i].name)) {
			*out = (uint32_t)errnos[i].value;
			return 0;
		}
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *s == '-' || *end || v == 0 || v > FAULT_ERRNO_MAX)
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
			if (parse_errno(val, &f->value)) {
				snprintf(err, errlen, "fault=%s: error= takes an errno name "
					 "or a number 1..%d", spec, FAULT_ERRNO_MAX);
				return -EINVAL;
			}
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

struct aside {
	struct aside *next;
	size_t len;
	char buf[];
};

/* Removes the queued request UNIQUE; true if it was there. */
static bool aside_remove(struct worker *w, uint64_t unique)
{
	for (struct aside **pp = &w->aside, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		struct aside *a = *pp;
		if (((const struct fuse_in_header *)(const void *)a->buf)->unique != unique)
			continue;
		*pp = a->next;
		if (w->aside_tail == a)
			w->aside_tail = prev;
		free(a);
		return true;
	}
	return false;
}

size_t fault_aside_next(struct worker *w)
{
	struct aside *a = w->aside;
	if (!a)
		return 0;
	w->aside = a->next;
	if (!w->aside)
		w->aside_tail = NULL;
	size_t len = a->len;
	memcpy(w->in, a->buf, len);
	free(a);
	return len;
}

void fault_aside_free(struct worker *w)
{
	while (w->aside) {
		struct aside *a = w->aside;
		w->aside = a->next;
		free(a);
	}
	w->aside_tail = NULL;
	free(w->spare);
	w->spare = NULL;
}

/* A lone worker in a delay reads the next message from the kernel, which
 * hands out INTERRUPTs before other requests.  1: an INTERRUPT for the
 * delayed request; 0: something else (an INTERRUPT of a request read
 * before is answered EINTR here, any other request queued for later);
 * negative: stop reading (the connection ended, no memory). */
static int read_aside(struct worker *w)
{
	struct session *s = w->s;
	if (!w->spare && !(w->spare = malloc(s->in_size)))
		return -ENOMEM;
	ssize_t n = read(w->fd, w->spare, s->in_size);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN || errno == ENOENT ? 0 : -errno;
	const struct fuse_in_header *h = (const void *)w->spare;
	if ((size_t)n < sizeof(*h) || h->len != (size_t)n)
		return 0; /* the worker's loop would drop it too */
	if (h->opcode == FUSE_INTERRUPT &&
	    (size_t)n >= sizeof(*h) + sizeof(struct fuse_interrupt_in)) {
		uint64_t target = ((const struct fuse_interrupt_in *)(const void *)(h + 1))->unique;
		counter_inc(&w->requests);
		counter_inc(&w->ops[FUSE_INTERRUPT]);
		debug("fd %d unique %llu INTERRUPT of %llu during a delay", w->fd,
		      (unsigned long long)h->unique, (unsigned long long)target);
		if (target == __atomic_load_n(&w->busy_unique, __ATOMIC_ACQUIRE)) {
			counter_inc(&w->interrupts);
			return 1;
		}
		if (aside_remove(w, target)) {
			counter_inc(&w->interrupts);
			struct iovec iov[1];
			dev_send(w->fd, target, -EINTR, iov, 1);
		}
		return 0; /* else already answered: the kernel forgets it */
	}
	struct aside *a = malloc(sizeof(*a) + (size_t)n);
	if (!a)
		return -ENOMEM; /* it is lost, like any request of a dying daemon */
	*a = (struct aside){ .len = (size_t)n };
	memcpy(a->buf, w->spare, (size_t)n);
	debug("fd %d unique %llu %s read during a delay: served after it", w->fd,
	      (unsigned long long)h->unique,
	      opcode_name(h->opcode) ? opcode_name(h->opcode) : "UNKNOWN");
	if (w->aside_tail)
		w->aside_tail->next = a;
	else
		w->aside = a;
	w->aside_tail = a;
	return 0;
}

/* Sleep before serving.  A FUSE_INTERRUPT for the request answers EINTR,
 * nothing done: returns -EINTR.  With other workers, one of them reads the
 * INTERRUPT and signals us; a lone worker reads it itself (read_aside).  The
 * connection's end (POLLERR on our fd after an abort) or the session's stop
 * ends the sleep early: nobody waits any more, the request is served at once. */
static int delay_request(struct worker *w, unsigned ms)
{
	bool alone = __atomic_load_n(&w->s->nworkers, __ATOMIC_RELAXED) == 1;
	long long end = monotonic_ms() + ms, left;
	while ((left = end - monotonic_ms()) > 0) {
		struct pollfd p = { .fd = w->fd, .events = alone ? POLLIN : 0 };
		int n = poll(&p, 1, (int)left);
		if (n > 0 && alone && p.revents == POLLIN) {
			int r = read_aside(w);
			if (r > 0)
				return -EINTR;
			if (r < 0)
				alone = false;
			continue;
		}
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
	debug("fd %d unique %llu: fault %d", w->fd, (unsigned long long)h->unique,
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
		res = dev_send(w->fd, unique ^ (1ULL << 62), err, iov, iovcnt);
		debug("fd %d unique %llu: reply to a wrong unique: %s", w->fd,
		      (unsigned long long)unique, strerror(-res));
		if (res < 0)
			counter_inc(&w->failed_replies);
		return dev_send(w->fd, unique, err, iov, iovcnt);
	case FAULT_TWICE:
		res = dev_send(w->fd, unique, err, iov, iovcnt);
		int again = dev_send(w->fd, unique, err, iov, iovcnt);
		debug("fd %d unique %llu: second reply: %s", w->fd,
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
		return dev_send(w->fd, unique, err, iov, iovcnt);
	default:
		return dev_send(w->fd, unique, err, iov, iovcnt);
	}
}
