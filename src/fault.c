/* Faults: parsing a SPEC, the live list of faults, matching a request
 * against it, and applying what matched: before serving (delay, error,
 * drop) and when replying (twice, badunique, short, set=). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "errname.h"
#include "fault.h"
#include "fmt.h"
#include "log.h"
#include "opname.h"
#include "scan.h"
#include "session.h"

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = scan_ull(s, &end, 0);
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

/* SPEC is OPCODE:ACTION[:node=N][:name=S][:pid=N][:after=N][:count=N], e.g.
 * LOOKUP:delay=200, GETATTR:error=EIO:node=1, READ:drop:count=1,
 * GETATTR:set=attr.size=-1:after=3. */
int fault_parse(struct fault *f, const char *spec, char *err, size_t errlen)
{
	char buf[FAULT_SPEC_MAX];
	if (strlen(spec) >= sizeof(buf)) {
		sfmt(err, errlen, "fault spec too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	*f = (struct fault){ .left = -1 };
	strcpy(f->spec, spec);
	char *save = NULL, *word = strtok_r(buf, ":", &save);
	if (!word || parse_opcode(word, &f->opcode) < 0) {
		sfmt(err, errlen, "fault=%s: unknown opcode '%s'", spec, word ? word : "");
		return -EINVAL;
	}
	while ((word = strtok_r(NULL, ":", &save))) {
		char *val = strchr(word, '=');
		if (val)
			*val++ = 0;
		uint64_t n = 0;
		int bad = 0;
		enum fault_action action = FAULT_NONE;
		if (!strcmp(word, "delay") && val) {
			bad = parse_num(val, 3600000, &n);
			action = FAULT_DELAY;
			f->value = (uint32_t)n;
		} else if (!strcmp(word, "error") && val) {
			if (errname_parse(val, &f->value)) {
				sfmt(err, errlen, "fault=%s: error= takes an errno name "
					 "or a number 1..%d", spec, ERRNAME_MAX);
				return -EINVAL;
			}
			action = FAULT_ERROR;
		} else if (!val && (!strcmp(word, "drop") || !strcmp(word, "twice") ||
				    !strcmp(word, "badunique") || !strcmp(word, "short"))) {
			action = word[0] == 'd' ? FAULT_DROP : word[0] == 't' ? FAULT_TWICE
			       : word[0] == 'b' ? FAULT_BADUNIQUE : FAULT_SHORT;
		} else if (!strcmp(word, "set") && val) {
			if (f->nedits == FAULT_EDITS) {
				sfmt(err, errlen, "fault=%s: more than %d set=", spec, FAULT_EDITS);
				return -EINVAL;
			}
			bad = field_parse(f->opcode, val, &f->edits[f->nedits++]);
			if (bad == -ENOENT) {
				sfmt(err, errlen, "fault=%s: the reply of %s has no field '%.*s' "
					 "(ramfuse --list-fields)", spec, buf,
					 (int)strcspn(val, "+-="), val);
				return -EINVAL;
			}
			action = FAULT_SET;
		} else if (!strcmp(word, "node") && val) {
			bad = parse_num(val, UINT64_MAX, &f->nodeid);
		} else if (!strcmp(word, "pid") && val) {
			bad = parse_num(val, UINT32_MAX, &n);
			f->pid = (uint32_t)n;
		} else if (!strcmp(word, "after") && val) {
			bad = parse_num(val, UINT64_MAX, &f->after);
		} else if (!strcmp(word, "name") && val) {
			if (strlen(val) >= sizeof(f->name) || !*val)
				bad = -EINVAL;
			else
				strcpy(f->name, val);
		} else if (!strcmp(word, "count") && val) {
			bad = parse_num(val, INT64_MAX, &n);
			f->left = (int64_t)n;
		} else {
			sfmt(err, errlen, "fault=%s: unknown word '%s'", spec, word);
			return -EINVAL;
		}
		if (bad) {
			sfmt(err, errlen, "fault=%s: bad value for '%s'", spec, word);
			return -EINVAL;
		}
		if (action && f->action && action != f->action) {
			sfmt(err, errlen, "fault=%s: more than one action", spec);
			return -EINVAL;
		}
		if (action)
			f->action = action;
	}
	if (!f->action) {
		sfmt(err, errlen, "fault=%s: no action (delay=, error=, drop, twice, "
			 "badunique, short, set=)", spec);
		return -EINVAL;
	}
	if (f->opcode == FAULT_OP_CLONE && f->action != FAULT_ERROR) {
		sfmt(err, errlen, "fault=%s: CLONE takes only error=", spec);
		return -EINVAL;
	}
	return 0;
}

/* ---- the list ---- */

static void put_fault(struct fault_list *l, struct fault *f)
{
	if (--f->sets)
		return;
	l->gone_hits += __atomic_load_n(&f->hits, __ATOMIC_RELAXED);
	free(f);
}

static void free_set(struct fault_list *l, struct fault_set *fs)
{
	for (unsigned i = 0; fs && i < fs->n; i++)
		put_fault(l, fs->f[i]);
	free(fs);
}

static bool held(struct fault_list *l, const struct fault_set *fs)
{
	for (unsigned i = 0; i < l->nreaders; i++)
		if (__atomic_load_n(&l->held[i], __ATOMIC_SEQ_CST) == fs)
			return true;
	return false;
}

/* Frees the retired sets no reader holds any more. */
static void reclaim(struct fault_list *l)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < l->nretired; i++)
		if (held(l, l->retired[i]))
			l->retired[kept++] = l->retired[i];
		else
			free_set(l, l->retired[i]);
	l->nretired = kept;
}

/* Publishes fs (under the lock) and retires the set it replaces. */
static int publish(struct fault_list *l, struct fault_set *fs)
{
	/* A reader holds a set for one request: wait a little for one. */
	for (int tries = 0; l->nretired == sizeof(l->retired) / sizeof(l->retired[0]); tries++) {
		if (tries == 2000) {
			free_set(l, fs);
			return -EBUSY;
		}
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		reclaim(l);
	}
	struct fault_set *old = __atomic_exchange_n(&l->cur, fs, __ATOMIC_SEQ_CST);
	if (old)
		l->retired[l->nretired++] = old;
	reclaim(l);
	return 0;
}

/* A copy of the current set, but for the fault whose id is skip. */
static struct fault_set *copy_set(struct fault_list *l, unsigned skip)
{
	struct fault_set *fs = calloc(1, sizeof(*fs));
	const struct fault_set *cur = l->cur;
	for (unsigned i = 0; fs && cur && i < cur->n; i++)
		if (cur->f[i]->id != skip) {
			fs->f[fs->n++] = cur->f[i];
			cur->f[i]->sets++;
		}
	return fs;
}

int fault_list_add(struct fault_list *l, const struct fault *f)
{
	lock(&l->lock);
	struct fault_set *fs = copy_set(l, 0);
	struct fault *nf = malloc(sizeof(*nf));
	int res = -ENOMEM;
	if (fs && nf && fs->n == FAULT_MAX)
		res = -ENOSPC;
	else if (fs && nf) {
		*nf = *f;
		nf->id = ++l->next_id;
		nf->sets = 1;
		fs->f[fs->n++] = nf;
		nf = NULL;
		res = publish(l, fs);
		fs = NULL;
		if (!res)
			res = (int)l->next_id;
	}
	free(nf);
	free_set(l, fs);
	unlock(&l->lock);
	return res;
}

int fault_list_del(struct fault_list *l, unsigned id)
{
	lock(&l->lock);
	struct fault_set *fs = copy_set(l, id);
	int res = !fs ? -ENOMEM : l->cur && fs->n < l->cur->n ? 0 : -ENOENT;
	if (!res)
		res = publish(l, fs->n ? fs : NULL);
	if (res || !fs->n)
		free_set(l, fs);
	unlock(&l->lock);
	return res;
}

void fault_list_clear(struct fault_list *l)
{
	lock(&l->lock);
	publish(l, NULL);
	unlock(&l->lock);
}

void fault_list_print(struct fault_list *l, struct out *out)
{
	lock(&l->lock);
	for (unsigned i = 0; l->cur && i < l->cur->n; i++) {
		const struct fault *f = l->cur->f[i];
		outf(out, "%u %s hits=%llu\n", f->id, f->spec,
			(unsigned long long)__atomic_load_n(&f->hits, __ATOMIC_RELAXED));
	}
	unlock(&l->lock);
}

uint64_t fault_list_hits(struct fault_list *l)
{
	lock(&l->lock);
	uint64_t n = l->gone_hits;
	for (unsigned i = 0; l->cur && i < l->cur->n; i++)
		n += __atomic_load_n(&l->cur->f[i]->hits, __ATOMIC_RELAXED);
	unlock(&l->lock);
	return n;
}

int fault_list_init(struct fault_list *l, unsigned readers)
{
	l->held = calloc(readers, sizeof(*l->held));
	l->nreaders = readers;
	return l->held ? 0 : -ENOMEM;
}

void fault_list_free(struct fault_list *l)
{
	free_set(l, l->cur);
	l->cur = NULL;
	for (unsigned i = 0; i < l->nretired; i++)
		free_set(l, l->retired[i]);
	l->nretired = 0;
	free(l->held);
	l->held = NULL;
}

/* Reader i's view of the list, held until release: NULL when empty. */
static struct fault_set *hold(struct fault_list *l, unsigned i)
{
	struct fault_set *fs = __atomic_load_n(&l->cur, __ATOMIC_ACQUIRE);
	while (fs) {
		__atomic_store_n(&l->held[i], fs, __ATOMIC_SEQ_CST);
		struct fault_set *again = __atomic_load_n(&l->cur, __ATOMIC_SEQ_CST);
		if (again == fs)
			return fs;
		fs = again;
	}
	__atomic_store_n(&l->held[i], NULL, __ATOMIC_RELEASE);
	return NULL;
}

static void release(struct fault_list *l, unsigned i)
{
	__atomic_store_n(&l->held[i], NULL, __ATOMIC_RELEASE);
}

/* Takes one use of f, if it has any left. */
static bool take(struct fault *f)
{
	if (f->after && __atomic_add_fetch(&f->seen, 1, __ATOMIC_RELAXED) < f->after)
		return false;
	int64_t left = __atomic_load_n(&f->left, __ATOMIC_RELAXED);
	while (left >= 0) {
		if (left == 0)
			return false;
		if (__atomic_compare_exchange_n(&f->left, &left, left - 1, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	__atomic_add_fetch(&f->hits, 1, __ATOMIC_RELAXED);
	return true;
}

/* The first fault that applies to this request, counting it as used. */
static struct fault *match(const struct fault_set *fs, const struct fuse_in_header *h,
			   const char *name)
{
	for (unsigned i = 0; i < fs->n; i++) {
		struct fault *f = fs->f[i];
		if (f->opcode == h->opcode && (!f->nodeid || f->nodeid == h->nodeid) &&
		    (!f->pid || f->pid == h->pid) &&
		    (!f->name[0] || (name && !strcmp(f->name, name))) && take(f))
			return f;
	}
	return NULL;
}

int fault_clone(struct fault_list *l)
{
	struct fuse_in_header h = { .opcode = FAULT_OP_CLONE };
	lock(&l->lock);
	struct fault *f = l->cur ? match(l->cur, &h, NULL) : NULL;
	int err = f ? -(int)f->value : 0;
	unlock(&l->lock);
	return err;
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
		const struct fault **later)
{
	struct fault_list *l = &w->s->faults;
	struct fault_set *fs = hold(l, w->index);
	struct fault *f = fs ? match(fs, h, name) : NULL;
	if (!f) {
		release(l, w->index);
		return 0;
	}
	debug("%s unique %llu: fault %u %s", w->tag, (unsigned long long)h->unique, f->id,
	      f->spec);
	enum fault_action action = f->action;
	uint32_t value = f->value;
	if (action >= FAULT_TWICE) {
		*later = f; /* held until fault_done() */
		return 0;
	}
	release(l, w->index);
	switch (action) {
	case FAULT_DELAY:
		return delay_request(w, value);
	case FAULT_ERROR:
		return -(int)value;
	default:
		return 1; /* dropped */
	}
}

void fault_done(struct worker *w)
{
	release(&w->s->faults, w->index);
}

/* The reply with f's edits; if the kernel refuses it, the right one, so
 * that the caller is answered (the refusal shows in reply.error). */
static int send_edited(struct worker *w, const struct fault *f, uint64_t unique, int err,
		       struct iovec *iov, int iovcnt)
{
	size_t len = 0;
	for (int i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	char *body = malloc(len ? len : 1);
	if (!body)
		return worker_send(w, unique, err, iov, iovcnt);
	len = 0;
	for (int i = 1; i < iovcnt; i++) {
		memcpy(body + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	struct fuse_out_header out = { .len = (uint32_t)(sizeof(out) + len), .error = err,
				       .unique = unique };
	field_apply(f->edits, f->nedits, &out, body, len);
	struct iovec edited[2] = { { &out, sizeof(out) }, { body, len } };
	int res = worker_write(w, edited, len ? 2 : 1);
	free(body);
	debug("%s unique %llu: edited reply: %s", w->tag, (unsigned long long)unique,
	      strerror(-res));
	if (res == 0 || res == -ENOENT)
		return res;
	counter_inc(&w->failed_replies);
	return worker_send(w, unique, err, iov, iovcnt);
}

int fault_send(struct worker *w, const struct fault *f, uint64_t unique, int err,
	       struct iovec *iov, int iovcnt)
{
	int res;
	switch (f->action) {
	case FAULT_SET:
		return send_edited(w, f, unique, err, iov, iovcnt);
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
