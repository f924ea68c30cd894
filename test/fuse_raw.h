/* SPDX-License-Identifier: MIT */
/*
 * fuse_raw.h - a FUSE server in a few calls, for tests and reproducers that
 * need full control of what the kernel gets: mount a bare /dev/fuse
 * connection (no ramfuse daemon), answer INIT with the flags you choose,
 * read requests, reply with any bytes, send notifications, clone the fd,
 * abort through fusectl, tear down without hanging.  A serve loop answers
 * a small fixed tree by default, so a reproducer overrides only the reply
 * it is about:
 *
 *	static int bad_size(struct fuse_raw *r, const struct fuse_raw_req *q,
 *			    void *data)
 *	{
 *		struct fuse_attr_out out = { 0 };
 *
 *		fuse_raw_attr(r, q->h->nodeid, &out.attr);
 *		out.attr.size = UINT64_MAX;		// no file can be that big
 *		fuse_raw_reply(q->fd, q->h->unique, 0, &out, sizeof(out));
 *		return FUSE_RAW_HANDLED;
 *	}
 *	static int do_stat(const char *dir, void *arg)
 *	{
 *		struct stat st;
 *		char p[128];
 *
 *		snprintf(p, sizeof(p), "%s/file", dir);
 *		return stat(p, &st) ? errno : 0;	// the child's exit code
 *	}
 *	...
 *	struct fuse_raw r;
 *	struct fuse_raw_ops ops = { .on[FUSE_GETATTR] = bad_size };
 *
 *	fuse_raw_mount(&r, NULL);
 *	fuse_raw_init(&r, NULL, 3000);
 *	rc = fuse_raw_call(&r, &ops, do_stat, NULL, 5000);	// EIO
 *	fuse_raw_teardown(&r);
 *
 * The code that touches the filesystem runs in a child process
 * (fuse_raw_call, fuse_raw_fork) while this process serves: a caller
 * blocked in the kernel can always be killed, and every wait here is
 * bounded.  Children close the device fds: a child holding one would keep
 * the connection alive after the teardown.
 *
 * Needs root (mount(2)) and /dev/fuse.  Depends on nothing but libc and
 * src/fuse_abi.h (build with -Isrc).  Functions return 0 (or a count) on
 * success and a negative errno on failure, unless said otherwise.  All
 * times are milliseconds.  struct fuse_raw is plain data: it may live in
 * memory shared with other processes (a kselftest fixture), and
 * fuse_raw_teardown() may run in a process other than the one that
 * mounted (it then closes no descriptors, which are not its own).
 */
#ifndef RAMFUSE_TEST_FUSE_RAW_H
#define RAMFUSE_TEST_FUSE_RAW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fuse_abi.h"

#define FUSE_RAW_MAX_WRITE 65536u	/* max_write answered by default */
#define FUSE_RAW_MAX_CLONES 8
#define FUSE_RAW_MAX_KIDS 8
#define FUSE_RAW_NOPS 64		/* opcodes the ops table covers */

/*
 * The read buffer the kernel demands: it fails read(2) with EINVAL unless
 * the buffer holds the largest request, a WRITE of max_write bytes (header
 * 40 + fuse_write_in 40 + data), and never less than 8192.
 */
#define FUSE_RAW_BUFSIZE(max_write)					\
	((size_t)(max_write) + 80 > FUSE_MIN_READ_BUFFER ?		\
	 (size_t)(max_write) + 80 : (size_t)FUSE_MIN_READ_BUFFER)

/*
 * The default tree (fuse_raw_default): node ids and names.  "file" holds
 * FUSE_RAW_FILE_SIZE bytes, byte i being fuse_raw_file_byte(i); writes are
 * accepted and dropped; "link" points to "file"; "dir" is empty.  Nothing
 * in the tree can be created, removed or renamed (EROFS).
 */
enum {
	FUSE_RAW_ROOT = FUSE_ROOT_ID,	/* 1 */
	FUSE_RAW_FILE = 2,		/* /file */
	FUSE_RAW_DIR = 3,		/* /dir */
	FUSE_RAW_LINK = 4,		/* /link -> file */
};
#define FUSE_RAW_FILE_SIZE 4096u
static inline unsigned char fuse_raw_file_byte(uint64_t off)
{
	return (unsigned char)('a' + off % 26);
}

struct fuse_raw {
	char dir[64];		/* the mountpoint, a fresh /tmp/fuse_raw.XXXXXX */
	int fd;			/* the mount's /dev/fuse fd, -1 when none */
	int clones[FUSE_RAW_MAX_CLONES];	/* from fuse_raw_clone(), -1 unused */
	pid_t kids[FUSE_RAW_MAX_KIDS];	/* from fuse_raw_fork(), 0 unused */
	pid_t owner;		/* the process whose fds these are */
	int mounted;
	int fusectl_ours;	/* we mounted fusectl: teardown unmounts it */
	unsigned int conn;	/* connection number (fusectl dir), 0 unknown */
	/* INIT, filled by fuse_raw_init() or the serve loop's default */
	int initialized;
	uint32_t kernel_minor;	/* protocol minor the kernel speaks */
	uint32_t minor;		/* negotiated: min(kernel's, 45) */
	uint64_t offered;	/* INIT flags offered (flags | flags2 << 32) */
	uint64_t flags;		/* INIT flags answered */
	uint32_t max_write;
	size_t bufsize;		/* FUSE_RAW_BUFSIZE(max_write) */
	/* what the default replies give as entry_valid/attr_valid (seconds);
	 * 0 (the default) makes every path walk and stat reach the server */
	uint64_t valid;
	/* requests the serve loop read, by opcode (>= FUSE_RAW_NOPS: [0]) */
	uint64_t count[FUSE_RAW_NOPS];
};

/*
 * Open /dev/fuse, make a fresh directory /tmp/fuse_raw.XXXXXX and mount
 * the connection there: mount(2) of type "fuse.raw" with
 * "fd=N,rootmode=40000,user_id=0,group_id=0[,opts]" and MS_NOSUID|MS_NODEV.
 * opts (may be NULL) are more mount options, e.g. "allow_other" or
 * "max_read=4096".  The kernel queues INIT at once; answer it with
 * fuse_raw_init() (or let a serve loop do it).  Errors: -EACCES/-EPERM
 * (not root), -ENOENT/-ENODEV (no /dev/fuse or FUSE), -EINVAL (bad opts);
 * nothing is left behind on failure.
 */
int fuse_raw_mount(struct fuse_raw *r, const char *opts);

/* Answer INIT.  Zero fields take the defaults in brackets. */
struct fuse_raw_init {
	uint64_t flags;		/* FUSE_* INIT flags wanted [none]; those the
				 * kernel did not offer are dropped (answer
				 * INIT yourself to send others) */
	uint32_t max_write;	/* [FUSE_RAW_MAX_WRITE] */
	uint32_t max_readahead;	/* [what the kernel offered] */
	uint16_t max_background;	/* [16] */
	uint16_t congestion_threshold;	/* [12] */
	uint32_t time_gran;	/* [1] */
	uint16_t max_pages;	/* sent with FUSE_MAX_PAGES [max_write / 4096] */
	uint32_t max_stack_depth;	/* sent with FUSE_PASSTHROUGH [1] */
	uint32_t minor;		/* protocol minor [min(kernel's, 45)] */
};

/*
 * Read the INIT request (waiting at most ms) and answer it as *in says
 * (NULL: all defaults).  Fills r's INIT fields.  Errors: -ETIMEDOUT (no
 * INIT came), -EPROTO (the first request is not INIT or is short), or the
 * kernel's refusal of the reply.
 */
int fuse_raw_init(struct fuse_raw *r, const struct fuse_raw_init *in, int ms);

/* Answer the INIT request q (read by you) as fuse_raw_init() would. */
struct fuse_raw_req;
int fuse_raw_init_reply(struct fuse_raw *r, const struct fuse_raw_req *q,
			const struct fuse_raw_init *in);

/*
 * Wait at most ms (0: do not wait, -1: forever) for a request on fd and
 * read it into buf (len >= r->bufsize, or the kernel says -EINVAL and
 * leaves the request queued).  Returns its length, checked: at least a
 * header and equal to the header's len.  Errors: -ETIMEDOUT (nothing
 * came), -ENODEV (unmounted or aborted), -EINVAL (buffer too small),
 * -EPROTO (a length that does not add up).
 */
ssize_t fuse_raw_read(int fd, void *buf, size_t len, int ms);

/*
 * 1 when fd has a request to read within ms, 0 when not, -errno when poll
 * fails.  *revents (may be NULL) gets poll's revents (POLLERR once the
 * connection is gone).
 */
int fuse_raw_wait_in(int fd, int ms, short *revents);

/*
 * Reply to request unique on fd: a fuse_out_header {len = 16 + len, error,
 * unique} and len bytes of data, in one writev(2).  error is 0 or a
 * negative errno.  Returns the kernel's answer: 0, or e.g. -ENOENT (no
 * request has that unique on this fd: answered, interrupted, or read from
 * another clone), -EINVAL (the reply does not fit the request).
 */
int fuse_raw_reply(int fd, uint64_t unique, int32_t error, const void *data,
		   size_t len);
/* The same with the payload in pieces. */
int fuse_raw_replyv(int fd, uint64_t unique, int32_t error,
		    const struct iovec *iov, int iovcnt);
/*
 * Any bytes: a header claiming hdr_len (the truth is 16 + len) then data.
 * For replies the kernel must refuse.
 */
int fuse_raw_reply_len(int fd, uint32_t hdr_len, uint64_t unique,
		       int32_t error, const void *data, size_t len);

/*
 * Send notification code (FUSE_NOTIFY_*: the header's error field, unique
 * 0) with its payload.  Returns the kernel's answer: 0, -ENOENT (no such
 * inode or entry), -EINVAL (a bad size or code), -ENOTCONN.
 */
int fuse_raw_notify(int fd, int32_t code, const void *data, size_t len);

/*
 * Open another /dev/fuse fd attached to r's connection
 * (FUSE_DEV_IOC_CLONE): it reads the same request queue, and a request is
 * answered on the fd it was read from.  Returns the fd (closed by the
 * teardown), -EMFILE when FUSE_RAW_MAX_CLONES are open, or the errno of
 * open/ioctl (-EINVAL: kernel without cloning).
 */
int fuse_raw_clone(struct fuse_raw *r);

/*
 * The connection's fusectl directory (/sys/fs/fuse/connections/N) into
 * buf; mounts fusectl there when it is not (the teardown unmounts it).
 * -ENOENT when the kernel has no fusectl or the connection is unknown.
 */
int fuse_raw_conn_dir(struct fuse_raw *r, char *buf, size_t len);

/*
 * Abort the connection through fusectl (echo 1 > .../abort): requests
 * waiting fail ECONNABORTED, later ones ENOTCONN, device reads ENODEV.
 * Sends no request.  Errors as fuse_raw_conn_dir().
 */
int fuse_raw_abort(struct fuse_raw *r);

/*
 * Undo everything, idempotent, never blocks on the filesystem: abort the
 * connection (when fusectl is there), detach the mount (MNT_DETACH), close
 * the device fds (in the owner only), SIGKILL and reap the children still
 * running, remove the directory, unmount fusectl if we mounted it.
 */
void fuse_raw_teardown(struct fuse_raw *r);

/*
 * fork(); the child closes r's device fds (a child holding one keeps the
 * connection alive) and is recorded in r->kids, for fuse_raw_wait() and
 * the teardown.  Returns the pid in the parent, 0 in the child, -errno
 * (-EAGAIN too when FUSE_RAW_MAX_KIDS are running).
 */
pid_t fuse_raw_fork(struct fuse_raw *r);

/*
 * Wait at most ms for child pid: its exit code (0..255), 128 + signal if
 * killed, -ETIMEDOUT if still running (it stays recorded), -ECHILD.
 */
int fuse_raw_wait(struct fuse_raw *r, pid_t pid, int ms);

/* Memory shared with children (MAP_SHARED), zeroed; NULL on failure.
 * Release with munmap(p, len). */
void *fuse_raw_shared(size_t len);

/* ------------------------------------------------------------------ */
/* serving                                                             */

/* One request as read: q->h is the header, q->arg its q->arglen bytes of
 * arguments (length checked against the header), q->fd the fd it came
 * from: reply there. */
struct fuse_raw_req {
	const struct fuse_in_header *h;
	const void *arg;
	size_t arglen;
	int fd;
};

/* What a handler returns. */
enum {
	FUSE_RAW_DEFAULT = 0,	/* not answered: let fuse_raw_default() do it */
	FUSE_RAW_HANDLED = 1,	/* answered (or left unanswered) on purpose */
	FUSE_RAW_STOP = 2,	/* answered; stop serving */
};
typedef int (*fuse_raw_handler)(struct fuse_raw *r,
				const struct fuse_raw_req *q, void *data);

/*
 * Handlers by opcode: .on[FUSE_READ] = my_read.  .any (may be NULL) sees
 * every request first; when it returns FUSE_RAW_DEFAULT, .on[opcode] (or
 * the default) gets the request.  A handler returning a negative errno
 * stops the loop with that error.  data is passed to every handler.
 */
struct fuse_raw_ops {
	fuse_raw_handler any;
	fuse_raw_handler on[FUSE_RAW_NOPS];
	void *data;
};

/*
 * The default answer to q for the tree above (INIT: fuse_raw_init_reply
 * with defaults; LOOKUP, GETATTR, SETATTR (changes nothing), OPEN(DIR),
 * READ, WRITE, READDIR(PLUS), READLINK, STATFS, ACCESS, RELEASE(DIR),
 * FLUSH, FSYNC(DIR), GETXATTR (ENODATA), LISTXATTR (none); FORGET,
 * BATCH_FORGET and INTERRUPT get no reply; namespace changes EROFS;
 * anything else ENOSYS).  Returns the kernel's answer to the reply;
 * -ENOENT (the request was interrupted meanwhile) is 0 here.
 */
int fuse_raw_default(struct fuse_raw *r, const struct fuse_raw_req *q);

/*
 * Read one request from r->fd (waiting at most ms), count it in r->count
 * and hand it to ops (NULL: defaults only).  Returns 0 when served,
 * FUSE_RAW_STOP when a handler said so, or -errno (-ETIMEDOUT, -ENODEV
 * after unmount or abort, a handler's error).
 */
int fuse_raw_serve_one(struct fuse_raw *r, const struct fuse_raw_ops *ops,
		       int ms);

/*
 * Run fn(r->dir, arg) in a child (fuse_raw_fork) and serve r's requests
 * with ops until the child exits; returns its exit code (fn's return value
 * & 255; 128 + signal if killed).  A handler's FUSE_RAW_STOP stops the
 * serving, not the wait.  After ms the child is killed and -ETIMEDOUT
 * returned; other errors (-ENODEV, a handler's error) also kill it.  A
 * child waiting on a request that was read and never answered dies only
 * once it is answered or the connection aborted: the teardown does that.
 */
int fuse_raw_call(struct fuse_raw *r, const struct fuse_raw_ops *ops,
		  int (*fn)(const char *dir, void *arg), void *arg, int ms);

/* ------------------------------------------------------------------ */
/* reply bodies                                                        */

/*
 * The attributes of node nodeid in the default tree into *a: 0, or
 * -ENOENT for a node not in the tree (*a then zeroed).
 */
int fuse_raw_attr(const struct fuse_raw *r, uint64_t nodeid,
		  struct fuse_attr *a);

/*
 * A fuse_entry_out for any node: nodeid, generation 1, mode, size,
 * nlink 1 (2 for a directory), entry_valid = attr_valid = valid seconds.
 */
void fuse_raw_entry(struct fuse_entry_out *e, uint64_t nodeid, uint32_t mode,
		    uint64_t size, uint64_t valid);

#ifdef FIXTURE /* a kselftest harness (ours or the kernel's) is included */
/*
 * With a kselftest harness included first: FIXTURE(fname) holding one bare
 * mount, self->r, INIT not yet answered.  Skips without root or
 * /dev/fuse; the teardown is fuse_raw_teardown().
 */
#define FUSE_RAW_FIXTURE(fname)						\
	FIXTURE(fname) {						\
		struct fuse_raw r;					\
	};								\
	FIXTURE_SETUP(fname)						\
	{								\
		int _err;						\
									\
		if (geteuid() != 0)					\
			SKIP(return, "needs root (euid %u)",		\
			     (unsigned)geteuid());			\
		if (access("/dev/fuse", R_OK | W_OK))			\
			SKIP(return, "/dev/fuse: %s", strerror(errno));	\
		_err = fuse_raw_mount(&self->r, NULL);			\
		ASSERT_EQ(0, _err) TH_LOG("fuse_raw_mount: %s",	\
					  strerror(-_err));		\
	}								\
	FIXTURE_TEARDOWN(fname)						\
	{								\
		fuse_raw_teardown(&self->r);				\
	}
#endif

#endif /* RAMFUSE_TEST_FUSE_RAW_H */
