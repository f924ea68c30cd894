/* Fault injection: make the daemon misbehave on purpose, per opcode and
 * optionally per nodeid or name, so tests can drive the kernel's error
 * paths.  Off unless -o fault=SPEC is given; then one branch per request. */
#ifndef RAMFUSE_FAULT_H
#define RAMFUSE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct worker;
struct fuse_in_header;

#define FAULT_MAX 16
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
};

struct fault {
	uint32_t opcode;
	enum fault_action action;
	uint32_t value;   /* milliseconds or errno */
	uint64_t nodeid;  /* 0: any */
	char name[64];    /* "": any */
	int64_t left;     /* atomic: how many more times; -1: always */
	uint64_t hits;    /* atomic */
};

int fault_parse(struct fault *f, const char *spec, char *err, size_t errlen);
/* The first fault that applies to this request, counting it as used. */
struct fault *fault_match(struct fault *faults, unsigned n, uint32_t opcode,
			  uint64_t nodeid, const char *name);
/* Before serving a request (NAME: the name it is about, or NULL): 0 to
 * serve it, with *later the fault to apply when replying (untouched if
 * none); 1 when a fault dropped it; a negative errno to answer instead. */
int fault_apply(struct worker *w, const struct fuse_in_header *h, const char *name,
		enum fault_action *later);
/* Sends a reply with what a reply-time fault adds or changes. */
int fault_send(struct worker *w, uint64_t unique, enum fault_action a, int err,
	       struct iovec *iov, int iovcnt);

#endif
