/* The device channel: /dev/fuse fds, receiving requests, sending replies. */
#ifndef RAMFUSE_DEV_H
#define RAMFUSE_DEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum { DEV_RETRY_EINTR, DEV_RETRY_EAGAIN, DEV_RETRY_ENOENT, DEV_RETRY_NR };

int dev_open(void);
int dev_clone(int fd);
ssize_t dev_receive(int fd, void *buf, size_t size, uint64_t retries[DEV_RETRY_NR],
		    const int *stop);
int dev_send(int fd, uint64_t unique, int error, struct iovec *iov, int iovcnt);
int dev_write(int fd, const struct iovec *iov, int iovcnt);
/* iov[0] is reserved for the header, as for dev_send. */
int dev_notify(int fd, int code, struct iovec *iov, int iovcnt);
int dev_backing_open(int fd, int backing_fd);
int dev_backing_close(int fd, int backing_id);

#endif
