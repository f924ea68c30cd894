/* The session: INIT negotiation, worker threads, dispatch, replies, stats. */
#ifndef RAMFUSE_SESSION_H
#define RAMFUSE_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "dev.h"
#include "fault.h"
#include "fuse_abi.h"
#include "memfs.h"
#include "uring.h"

struct out;

enum passthrough_mode { PASSTHROUGH_AUTO, PASSTHROUGH_ON, PASSTHROUGH_OFF };
enum uring_mode { URING_AUTO, URING_ON, URING_OFF };

struct session_config {
	unsigned threads;
	bool clone_fd;
	uint64_t entry_timeout_ns, attr_timeout_ns;
	uint64_t negative_timeout_ns; /* how long a LOOKUP miss may be cached */
	enum passthrough_mode passthrough;
	const char *volume;     /* the volume's name, or NULL */
	const char *stats_path; /* as the user wrote it, for messages */
	const char *stats_name; /* the file in stats_dir, opened at start */
	int stats_dir;
	bool nonblock; /* O_NONBLOCK device fds: reads wait in poll() */
	enum uring_mode uring;
	unsigned uring_depth; /* entries per io_uring queue */
	bool posix_acl; /* FUSE_POSIX_ACL and FUSE_DONT_MASK: ACLs and umask are ours */
	const char *fault_specs[FAULT_MAX]; /* -o fault=, checked */
	unsigned nfaults;
};

struct worker {
	struct session *s;
	int fd;
	struct uring_queue *queue; /* serves an io_uring queue, not reads */
	char tag[16];              /* how -d names it: "fd 5", "q 0" */
	unsigned index;
	pthread_t thread;
	char *in;  /* one request */
	char *out; /* one reply's payload */
	uint64_t requests;
	uint64_t ops[FUSE_OPCODE_MAX];
	uint64_t retries[DEV_RETRY_NR];
	uint64_t enoent_replies;
	uint64_t failed_replies; /* the kernel refused the reply */
	uint64_t busy_unique;    /* atomic: the request being served, or 0 */
	int interrupted;         /* atomic: FUSE_INTERRUPT came for it */
	uint64_t interrupts;     /* INTERRUPTs that found their request */
	uint64_t write_max;      /* the largest WRITE payload seen */
	/* A lone worker reads on during a delay (fault.c): the requests it
	 * read then wait here, in order, and are served next. */
	char *spare;
	struct aside *aside, *aside_tail;
};

struct session {
	struct session_config cfg;
	struct memfs *fs;
	int fd; /* the mount's own device fd */
	uint32_t minor;
	uint64_t flags; /* negotiated INIT flags */
	size_t in_size, out_size;
	uint32_t max_write, max_pages; /* as negotiated */
	struct worker *workers; /* the classic ones, then one per io_uring queue */
	unsigned nworkers, nclassic, alive;
	unsigned nqueues;     /* io_uring queues, 0: classic transport only */
	struct uring *uring;
	bool cloned;
	int done_fd;       /* eventfd: a worker has ended */
	int stopping;      /* atomic: workers should return */
	int failed;        /* atomic: a worker hit a fatal error */
	uint64_t backing_opened, backing_closed; /* atomics */
	uint64_t stats_seq;
	struct control *ctl; /* -o control=, or NULL */
	struct fault_list faults;
};

int session_init(struct session *s, int fd);
int session_start(struct session *s);
void session_stop(struct session *s);
void session_join(struct session *s);
/* After the last stats: the workers' array and the session's own fds. */
void session_free(struct session *s);
unsigned session_running(struct session *s);
void session_worker_ended(struct session *s, struct worker *w);
/* The one way a reply leaves: the worker's fd, or its ring entry. */
int worker_send(struct worker *w, uint64_t unique, int error, struct iovec *iov, int iovcnt);
/* A reply whose header (iov[0]) the caller made itself (fault edits). */
int worker_write(struct worker *w, const struct iovec *iov, int iovcnt);

/* ops.c */
void dispatch(struct worker *w, size_t len);

/* stats.c */
void stats_print(struct session *s, struct out *f);
int stats_write(struct session *s);

#endif
