/* FUSE over io_uring (see uring.h).  The kernel copies a request's header
 * into the entry's header buffer, the opcode's first argument (if any) into
 * op_in and the rest into the payload buffer.  dispatch() wants them in one
 * piece, as read(2) gives them: the payload buffer has room in front, where
 * the header and the first argument (at most 168 bytes) are copied, so the
 * payload itself is never moved. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counter.h"
#include "fmt.h"
#include "log.h"
#include "ring.h"
#include "scan.h"
#include "session.h"
#include "uring.h"

#define SETUP_FLAGS (IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN)
/* Room in front of the payload for the header and op_in, 8-byte aligned. */
#define FRONT 256
_Static_assert(FRONT >= sizeof(struct fuse_in_header) + FUSE_URING_OP_IN_OUT_SZ, "front");
/* user_data of a commit that is not the entry's own (faults: twice,
 * badunique): its completion only says whether the kernel refused it. */
#define EXTRA (1ULL << 63)

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"
#define POSSIBLE_CPUS "/sys/devices/system/cpu/possible"

struct entry {
	struct fuse_uring_req_header *hdr;
	char *payload; /* FRONT bytes after the start of its allocation */
	struct iovec iov[2];
	uint64_t unique;
	int answered;
};

struct uring_queue {
	struct worker *w;
	unsigned qid;
	struct ring ring;
	struct entry *ents;
	struct fuse_uring_req_header *hdrs;
	struct entry *cur; /* the entry being served */
	int err;
	const char *what; /* the step that failed */
};

struct uring {
	sem_t ready, go;
	int verdict; /* 1: serve; 0: give up the rings */
	unsigned n;
	size_t payload;
	struct uring_queue q[];
};

/* The kernel has a queue per possible CPU: count them as it does. */
static int possible_cpus(void)
{
	char buf[1024];
	int fd = open(POSSIBLE_CPUS, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	int count = 0;
	for (char *p = buf; *p && *p != '\n';) {
		char *end;
		long a = scan_ll(p, &end, 10), b = a;
		if (end == p)
			return -EIO;
		if (*end == '-') {
			p = end + 1;
			b = scan_ll(p, &end, 10);
			if (end == p || b < a)
				return -EIO;
		}
		count += (int)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
		if (count > 65535)
			return -EIO;
	}
	return count ? count : -EIO;
}

static int enable_uring_param(void)
{
	char c = 0;
	int fd = open(ENABLE_URING, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == '1';
}

int uring_usable(unsigned minor, uint64_t offered, char *why, size_t len)
{
	if (!(offered & FUSE_OVER_IO_URING)) {
		int param = enable_uring_param();
		if (minor < 42)
			sfmt(why, len, "the kernel's FUSE 7.%u predates FUSE over io_uring "
				 "(7.42, Linux 6.14)", minor);
		else if (param == 0)
			sfmt(why, len, "enable_uring is off (echo Y > " ENABLE_URING ")");
		else if (param < 0)
			sfmt(why, len, "the kernel has no FUSE over io_uring "
				 "(CONFIG_FUSE_IO_URING off)");
		else
			sfmt(why, len, "the kernel did not offer FUSE_OVER_IO_URING in INIT");
		return -EOPNOTSUPP;
	}
	int cpus = possible_cpus();
	if (cpus < 0) {
		sfmt(why, len, "cannot count the kernel's queues from " POSSIBLE_CPUS ": %s",
			 strerror(-cpus));
		return cpus;
	}
	struct ring r;
	int err = ring_init(&r, 2, SETUP_FLAGS);
	if (err) {
		sfmt(why, len, "io_uring_setup: %s%s", strerror(-err),
			 err == -EPERM ? " (sysctl kernel.io_uring_disabled?)" : "");
		return err;
	}
	ring_free(&r);
	return cpus;
}

static void queue_cmd(struct uring_queue *q, struct ring_sqe *sqe, uint32_t op,
		      uint64_t commit_id, uint64_t user_data)
{
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->w->s->fd;
	sqe->cmd_op = op;
	sqe->user_data = user_data;
	struct fuse_uring_cmd_req *cr = (void *)sqe->cmd;
	cr->commit_id = commit_id;
	cr->qid = (uint16_t)q->qid;
}

/* In the queue's own thread: the ring, the buffers, every entry registered. */
static int queue_setup(struct uring_queue *q, struct uring *u)
{
	struct session *s = q->w->s;
	unsigned depth = s->cfg.uring_depth;
	q->what = "io_uring_setup";
	int err = ring_init(&q->ring, 2 * depth, SETUP_FLAGS);
	if (err)
		return err;
	q->what = "buffers";
	q->ents = calloc(depth, sizeof(*q->ents));
	q->hdrs = calloc(depth, sizeof(*q->hdrs));
	q->w->out = malloc(s->out_size);
	if (!q->ents || !q->hdrs || !q->w->out)
		return -ENOMEM;
	for (unsigned i = 0; i < depth; i++) {
		struct entry *e = &q->ents[i];
		char *buf = malloc(FRONT + u->payload);
		if (!buf)
			return -ENOMEM;
		e->hdr = &q->hdrs[i];
		e->payload = buf + FRONT;
		e->iov[0] = (struct iovec){ e->hdr, sizeof(*e->hdr) };
		e->iov[1] = (struct iovec){ e->payload, u->payload };
		struct ring_sqe *sqe = ring_sqe(&q->ring);
		queue_cmd(q, sqe, FUSE_IO_URING_CMD_REGISTER, 0, i);
		sqe->addr = (uintptr_t)e->iov;
		sqe->len = 2;
	}
	q->what = "FUSE_IO_URING_CMD_REGISTER";
	err = ring_enter(&q->ring, 0);
	/* A refused entry completes at once; a registered one only when a
	 * request comes. */
	for (struct ring_cqe *c; (c = ring_cqe(&q->ring)); ring_seen(&q->ring))
		if (c->res < 0 && !err)
			err = c->res;
	return err;
}

static void queue_free(struct uring_queue *q, unsigned depth)
{
	ring_free(&q->ring);
	for (unsigned i = 0; q->ents && i < depth; i++)
		if (q->ents[i].payload)
			free(q->ents[i].payload - FRONT);
	free(q->ents);
	free(q->hdrs);
	free(q->w->out);
	q->ents = NULL;
	q->hdrs = NULL;
	q->w->out = NULL;
}

/* One request: checked, made whole in front of its payload, dispatched. */
static void serve(struct uring_queue *q, struct entry *e, size_t room)
{
	struct worker *w = q->w;
	const struct fuse_in_header *h = (const void *)e->hdr->in_out;
	uint32_t payload = e->hdr->ring_ent_in_out.payload_sz;
	e->unique = h->unique;
	e->answered = 0;
	q->cur = e;
	size_t oplen = h->len - sizeof(*h) - payload;
	if (h->len < sizeof(*h) || payload > room || h->len - sizeof(*h) < payload ||
	    oplen > FUSE_URING_OP_IN_OUT_SZ) {
		msg("queue %u: request of %u bytes with %u bytes of payload: answered EIO",
		    q->qid, h->len, payload);
		struct iovec iov[1];
		uring_send(w, h->unique, -EIO, iov, 1);
		return;
	}
	char *start = e->payload - oplen - sizeof(*h);
	memcpy(start, h, sizeof(*h));
	memcpy(start + sizeof(*h), e->hdr->op_in, oplen);
	w->in = start;
	/* A fault may sleep: the replies queued so far go out first. */
	if (fault_any(&w->s->faults))
		ring_enter(&q->ring, 0);
	uint32_t opcode = h->opcode; /* the reply goes where h is */
	dispatch(w, h->len);
	/* Requests that want no answer still hold a ring entry: give it
	 * back.  NOTIFY_REPLY, and the FORGET the kernel sends through the
	 * ring itself when it refuses an entry it was given (fuse_force_forget,
	 * e.g. a READDIRPLUS entry of a bad file type): kept, each took an
	 * entry for good, and the queue's callers blocked once all were. */
	bool no_answer = opcode == FUSE_NOTIFY_REPLY || opcode == FUSE_FORGET ||
			 opcode == FUSE_BATCH_FORGET || opcode == FUSE_INTERRUPT;
	if (no_answer && !e->answered) {
		struct iovec iov[1];
		uring_send(w, e->unique, 0, iov, 1);
	}
	q->cur = NULL;
}

static void loop(struct uring_queue *q, size_t room)
{
	struct worker *w = q->w;
	struct session *s = w->s;
	for (;;) {
		struct ring_cqe *c = ring_cqe(&q->ring);
		if (!c) {
			int err = ring_enter(&q->ring, 1);
			if (err == -EINTR) {
				if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
					return;
				counter_inc(&w->retries[DEV_RETRY_EINTR]);
			} else if (err < 0) {
				msg("queue %u: io_uring_enter: %s", q->qid, strerror(-err));
				__atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
				return;
			}
			continue;
		}
		uint64_t ud = c->user_data;
		int res = c->res;
		ring_seen(&q->ring);
		if (ud & EXTRA) {
			debug("q %u: extra commit of %llu: %s", q->qid,
			      (unsigned long long)(ud & ~EXTRA), strerror(res < 0 ? -res : 0));
			if (res < 0)
				counter_inc(&w->failed_replies);
			continue;
		}
		if (res == 0) {
			serve(q, &q->ents[ud], room);
			continue;
		}
		/* The connection ended (unmount, abort, our end): entries come
		 * back with ENOTCONN, or the commit is refused with it. */
		if (res == -ENOTCONN || res == -ECONNABORTED || res == -ECANCELED) {
			debug("q %u: %s: the queue ends", q->qid, strerror(-res));
			return;
		}
		if (res == -ENOENT) {
			/* The request was gone: the entry stays with us until
			 * the connection ends. */
			counter_inc(&w->enoent_replies);
			debug("q %u: entry %llu: its request was gone", q->qid,
			      (unsigned long long)ud);
			continue;
		}
		msg("queue %u: entry %llu: %s", q->qid, (unsigned long long)ud, strerror(-res));
		__atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
		return;
	}
}

static void *queue_main(void *arg)
{
	struct uring_queue *q = arg;
	struct session *s = q->w->s;
	struct uring *u = s->uring;
	/* Requests queue on the caller's CPU: serve them there. */
	if (q->qid < CPU_SETSIZE) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(q->qid, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	q->err = queue_setup(q, u);
	sem_post(&u->ready);
	while (sem_wait(&u->go) < 0)
		;
	if (!u->verdict)
		return NULL;
	loop(q, u->payload);
	session_worker_ended(s, q->w);
	return NULL;
}

/* Makes a REGISTER fail, so that the kernel gives up the ring for this
 * connection and sends every request through /dev/fuse again. */
static void refuse(struct session *s)
{
	struct ring r;
	if (ring_init(&r, 1, IORING_SETUP_SQE128) < 0)
		return;
	struct ring_sqe *sqe = ring_sqe(&r);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = s->fd;
	sqe->cmd_op = FUSE_IO_URING_CMD_REGISTER;
	((struct fuse_uring_cmd_req *)(void *)sqe->cmd)->qid = UINT16_MAX;
	ring_enter(&r, 1);
	ring_free(&r);
}

int uring_start(struct session *s)
{
	unsigned n = s->nqueues, depth = s->cfg.uring_depth;
	struct uring *u = calloc(1, sizeof(*u) + n * sizeof(u->q[0]));
	if (!u)
		return -ENOMEM;
	size_t payload = s->max_write;
	if (payload < (size_t)s->max_pages * 4096)
		payload = (size_t)s->max_pages * 4096;
	if (payload < FUSE_MIN_READ_BUFFER)
		payload = FUSE_MIN_READ_BUFFER;
	u->payload = payload;
	u->n = n;
	sem_init(&u->ready, 0, 0);
	sem_init(&u->go, 0, 0);
	s->uring = u;
	unsigned started = 0;
	int err = 0;
	for (; started < n; started++) {
		struct uring_queue *q = &u->q[started];
		struct worker *w = &s->workers[s->nworkers + started];
		*w = (struct worker){ .s = s, .fd = s->fd, .index = s->nworkers + started,
				      .queue = q };
		sfmt(w->tag, sizeof(w->tag), "q %u", started);
		q->w = w;
		q->qid = started;
		q->ring.fd = -1;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		err = -pthread_create(&w->thread, &attr, queue_main, q);
		pthread_attr_destroy(&attr);
		if (err) {
			q->what = "pthread_create";
			q->err = err;
			break;
		}
	}
	for (unsigned i = 0; i < started; i++)
		while (sem_wait(&u->ready) < 0)
			;
	const char *what = "pthread_create";
	unsigned failed_q = started;
	for (unsigned i = 0; i < started && !err; i++)
		if (u->q[i].err) {
			err = u->q[i].err;
			what = u->q[i].what;
			failed_q = i;
		}
	u->verdict = !err;
	if (err)
		refuse(s);
	for (unsigned i = 0; i < started; i++)
		sem_post(&u->go);
	if (err) {
		for (unsigned i = 0; i < started; i++)
			pthread_join(u->q[i].w->thread, NULL);
		msg("FUSE over io_uring: queue %u: %s: %s", failed_q, what, strerror(-err));
		uring_free(s);
		s->nqueues = 0;
		return err;
	}
	s->nworkers += n;
	debug("FUSE over io_uring: %u queues of %u entries, %zu-byte payloads", n, depth,
	      payload);
	return 0;
}

/* Copies the payload and queues the commit: the entry's own when it names
 * the entry's request for the first time, else an extra one (faults). */
static int commit(struct worker *w, uint64_t unique, int error, const struct iovec *iov,
		  int iovcnt)
{
	struct uring_queue *q = w->queue;
	struct entry *e = q->cur;
	if (!e)
		return -EIO;
	size_t len = 0, room = w->s->uring->payload;
	for (int i = 1; i < iovcnt; i++) {
		if (iov[i].iov_len > room - len)
			return -EINVAL; /* as the kernel would say of a reply too long */
		memmove(e->payload + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	struct fuse_out_header *oh = (void *)e->hdr->in_out;
	*oh = (struct fuse_out_header){ .len = (uint32_t)(sizeof(*oh) + len), .error = error,
					.unique = unique };
	e->hdr->ring_ent_in_out.payload_sz = (uint32_t)len;
	struct ring_sqe *sqe = ring_sqe(&q->ring);
	if (!sqe) { /* only extra commits of faults can fill it: make room */
		ring_enter(&q->ring, 0);
		if (!(sqe = ring_sqe(&q->ring)))
			return -EBUSY;
	}
	uint64_t id = (uint64_t)(e - q->ents);
	bool own = unique == e->unique && !e->answered;
	if (own)
		e->answered = 1;
	queue_cmd(q, sqe, FUSE_IO_URING_CMD_COMMIT_AND_FETCH, unique, own ? id : id | EXTRA);
	return 0;
}

int uring_send(struct worker *w, uint64_t unique, int error, struct iovec *iov, int iovcnt)
{
	return commit(w, unique, error, iov, iovcnt);
}

int uring_write(struct worker *w, const struct iovec *iov, int iovcnt)
{
	const struct fuse_out_header *h = iov[0].iov_base;
	return commit(w, h->unique, h->error, iov, iovcnt);
}

void uring_free(struct session *s)
{
	struct uring *u = s->uring;
	if (!u)
		return;
	for (unsigned i = 0; i < u->n; i++)
		if (u->q[i].w)
			queue_free(&u->q[i], s->cfg.uring_depth);
	sem_destroy(&u->ready);
	sem_destroy(&u->go);
	free(u);
	s->uring = NULL;
}
