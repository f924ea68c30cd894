/* The device channel: /dev/fuse fds, receiving requests, sending replies. */
#ifndef RAMFUSE_DEV_H
#define RAMFUSE_DEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum { DEV_RETRY_EINTR, DEV_RETRY_EAGAIN, DEV_RETRY_ENOENT, DEV_RETRY_NR };

/* The system calls that carry replies and backing registrations to the
 * kernel.  A fuzzer (test/fuzz/) swaps them for a capture that checks each
 * reply and plays the kernel's refusals, without a mount. */
struct dev_sys {
	ssize_t (*writev)(int fd, const struct iovec *iov, int iovcnt);
	int (*ioctl)(int fd, unsigned long request, void *arg);
};
/* NULL puts back the real ones.  Not for use while workers run. */
void dev_set_sys(const struct dev_sys *sys);

int dev_open(void);
int dev_clone(int fd);
ssize_t dev_receive(int fd, void *buf, size_t size, uint64_t retries[DEV_RETRY_NR],
		    const int *stop);
int dev_send(int fd, uint64_t unique, int error, struct iovec *iov, int iovcnt);
int dev_write(int fd, const struct iovec *iov, int iovcnt);
/* iov[0] is reserved for the header, as for dev_send. */
int dev_notify(int fd, int code, struct iovec *iov, int iovcnt);
/* FUSE_NOTIFY_INVAL_INODE of the attributes only (offset -1): takes no
 * inode lock in the kernel, so it may be sent while a request is served. */
int dev_notify_attrs(int fd, uint64_t nodeid);
int dev_backing_open(int fd, int backing_fd);
int dev_backing_close(int fd, int backing_id);

#endif
