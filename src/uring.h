/* FUSE over io_uring: the second transport.  One ring and one thread per
 * kernel queue (the kernel has one queue per possible CPU); each ring holds
 * uring_depth entries, each a header and a payload buffer the kernel copies
 * requests into.  A queue thread hands one request buffer to dispatch() and
 * takes one reply back, as a classic worker does; the reply goes into the
 * entry and COMMIT_AND_FETCH sends it and takes the entry's next request.
 * INIT, FORGET and INTERRUPT still come through /dev/fuse, to the classic
 * workers. */
#ifndef RAMFUSE_URING_H
#define RAMFUSE_URING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct session;
struct worker;

#define URING_DEPTH_DEFAULT 8
#define URING_DEPTH_MAX 1024

/* Before INIT is answered: 0 when the ring can be used, else -errno and
 * the reason in why (kernel too old, enable_uring off, not offered, no
 * io_uring). */
int uring_usable(unsigned kernel_minor, uint64_t offered, char *why, size_t len);
/* After INIT: starts the queue threads as workers s->workers[s->nworkers..]
 * and waits until every entry is registered.  On failure nothing is left
 * running, the kernel is told to fall back to /dev/fuse, and the reason
 * was logged. */
int uring_start(struct session *s);
/* The reply to the request a queue worker is serving. */
int uring_send(struct worker *w, uint64_t unique, int error, struct iovec *iov, int iovcnt);
/* The same with a header of the caller's (iov[0], a fuse_out_header): its
 * unique names the request committed; its len is not sent (the ring's
 * length is the payload size, the kernel reads no len). */
int uring_write(struct worker *w, const struct iovec *iov, int iovcnt);
/* After the queue threads ended: their rings and buffers. */
void uring_free(struct session *s);

#endif
