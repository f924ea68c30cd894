/* Fault injection: make the daemon misbehave on purpose, per opcode and
 * optionally per nodeid, name, pid or from the Nth request on, so tests can
 * drive the kernel's error paths.  Faults come from -o fault=SPEC and from
 * the control socket while the filesystem runs.  With no fault the cost is
 * one load and one branch per request. */
#ifndef RAMFUSE_FAULT_H
#define RAMFUSE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fields.h"
#include "lock.h"

struct out;

struct worker;
struct fuse_in_header;

#define FAULT_MAX 32       /* at once */
#define FAULT_EDITS 4      /* set= per fault */
#define FAULT_SPEC_MAX 256
/* Not an opcode: faults of the device channel itself. */
#define FAULT_OP_CLONE 0xffff0001u

enum fault_action {
	FAULT_NONE,
	FAULT_DELAY,      /* sleep before serving: delay=MS */
	FAULT_ERROR,      /* answer with an error instead: error=ERRNO */
	FAULT_DROP,       /* never answer */
	FAULT_TWICE,      /* answer, then send the same answer again */
	FAULT_BADUNIQUE,  /* first a reply to a unique nobody waits for */
	FAULT_SHORT,      /* answer with one byte too few */
	FAULT_SET,        /* edit fields of the right answer: set=FIELD=V */
};

struct fault {
	uint32_t opcode;
	enum fault_action action;
	uint32_t value;   /* milliseconds or errno */
	uint32_t pid;     /* 0: any */
	uint64_t nodeid;  /* 0: any */
	uint64_t after;   /* from the after-th matching request on; 0: all */
	char name[64];    /* "": any */
	int64_t left;     /* atomic: how many more times; -1: always */
	uint64_t seen;    /* atomic: matching requests, for after= */
	uint64_t hits;    /* atomic */
	unsigned id;      /* for the control socket's fault del */
	unsigned sets;    /* how many fault sets hold it (under the list lock) */
	unsigned nedits;
	struct edit edits[FAULT_EDITS];
	char spec[FAULT_SPEC_MAX];
};

/* What workers read: replaced whole, never changed once published. */
struct fault_set {
	unsigned n;
	struct fault *f[FAULT_MAX];
};

/* Readers (workers, by index) announce the set they use in held[]; a
 * writer swaps in a new set and frees an old one once no reader holds it
 * (hazard pointers): no lock on the request path. */
struct fault_list {
	struct fault_set *cur; /* atomic; NULL when there is no fault */
	struct fault_set **held;
	unsigned nreaders;
	struct fault_set *retired[8];
	unsigned nretired, next_id;
	uint64_t gone_hits; /* of faults deleted */
	lock_t lock;        /* writers, and readers of the whole list */
};

int fault_parse(struct fault *f, const char *spec, char *err, size_t errlen);

/* An empty list for readers 0 .. readers - 1; 0 or -ENOMEM. */
int fault_list_init(struct fault_list *l, unsigned readers);
void fault_list_free(struct fault_list *l);
/* Control: add one (returns its id > 0 or -errno), delete by id (0 or
 * -ENOENT), clear, print one line per fault, total hits. */
int fault_list_add(struct fault_list *l, const struct fault *f);
int fault_list_del(struct fault_list *l, unsigned id);
void fault_list_clear(struct fault_list *l);
void fault_list_print(struct fault_list *l, struct out *out);
uint64_t fault_list_hits(struct fault_list *l);

static inline bool fault_any(struct fault_list *l)
{
	return __atomic_load_n(&l->cur, __ATOMIC_RELAXED) != NULL;
}

/* Before serving a request (name: the one it is about, or NULL): 0 to
 * serve it, *later then the fault to apply when replying (or NULL); 1 when
 * a fault dropped it; a negative errno to answer instead.  With *later set
 * the worker holds the fault until fault_done(). */
int fault_apply(struct worker *w, const struct fuse_in_header *h, const char *name,
		const struct fault **later);
void fault_done(struct worker *w);
/* The device clone fault, at start. */
int fault_clone(struct fault_list *l);
/* The next request a lone worker read during a delay, copied into w->in:
 * its length, or 0 when none waits. */
size_t fault_aside_next(struct worker *w);
void fault_aside_free(struct worker *w);
/* Sends a reply with what a reply-time fault adds or changes. */
int fault_send(struct worker *w, const struct fault *f, uint64_t unique, int err,
	       struct iovec *iov, int iovcnt);

#endif
