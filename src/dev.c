/* The device channel.  Knows how to talk to /dev/fuse, not what is said. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev.h"
#include "fuse_abi.h"
#include "counter.h"
#include "log.h"

#define DEV_PATH "/dev/fuse"

static int real_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

static const struct dev_sys real_sys = { .writev = writev, .ioctl = real_ioctl };
static const struct dev_sys *sys = &real_sys;

void dev_set_sys(const struct dev_sys *s)
{
	sys = s ? s : &real_sys;
}

int dev_open(void)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* An initramfs without devtmpfs has no node: make one. */
		if (mknod(DEV_PATH, S_IFCHR | 0666, makedev(10, 229)) < 0)
			return -errno;
		msg("created " DEV_PATH " (char 10:229)");
		fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/* A clone shares the connection and its input queue with fd, but a reply
 * must go back on the fd its request was read from. */
int dev_clone(int fd)
{
	int clone_fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (clone_fd < 0)
		return -errno;
	uint32_t master = (uint32_t)fd;
	if (ioctl(clone_fd, FUSE_DEV_IOC_CLONE, &master) < 0) {
		int err = errno;
		close(clone_fd);
		return -err;
	}
	return clone_fd;
}

/* Returns the request's length, -ENODEV once the filesystem is unmounted or
 * aborted, -EINTR when a signal came and *stop is set, or another negative
 * errno the caller treats as fatal. */
ssize_t dev_receive(int fd, void *buf, size_t size, uint64_t retries[DEV_RETRY_NR],
		    const int *stop)
{
	for (;;) {
		ssize_t n = read(fd, buf, size);
		if (n >= 0)
			return n;
		switch (errno) {
		case EINTR:
			if (__atomic_load_n(stop, __ATOMIC_ACQUIRE))
				return -EINTR;
			counter_inc(&retries[DEV_RETRY_EINTR]);
			continue;
		case ENOENT: /* the request was aborted before we read it */
			counter_inc(&retries[DEV_RETRY_ENOENT]);
			continue;
		case EAGAIN: { /* a non-blocking fd: wait until a request is queued */
			counter_inc(&retries[DEV_RETRY_EAGAIN]);
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, -1) < 0) {
				if (errno != EINTR)
					return -errno;
				if (__atomic_load_n(stop, __ATOMIC_ACQUIRE))
					return -EINTR;
				counter_inc(&retries[DEV_RETRY_EINTR]);
				continue;
			}
			if (p.revents & (POLLERR | POLLHUP))
				return -ENODEV;
			continue;
		}
		case ECONNABORTED: /* FUSE_ABORT_ERROR: aborted via fusectl */
			return -ENODEV;
		default:
			return -errno;
		}
	}
}

/* One writev per reply, so a reply is never interleaved with another.
 * iov[0] is reserved for the header.  -ENOENT means the request was
 * interrupted and the kernel no longer waits for it: not an error. */
int dev_send(int fd, uint64_t unique, int error, struct iovec *iov, int iovcnt)
{
	struct fuse_out_header out = { .error = error, .unique = unique };
	size_t len = sizeof(out);
	for (int i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	out.len = (uint32_t)len;
	iov[0].iov_base = &out;
	iov[0].iov_len = sizeof(out);
	ssize_t n = sys->writev(fd, iov, iovcnt);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* A reply written as it is, header included (edited on purpose). */
int dev_write(int fd, const struct iovec *iov, int iovcnt)
{
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	ssize_t n = writev(fd, iov, iovcnt);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* A notification: unique 0 and the code in the error field, one writev.
 * Returns the kernel's answer: 0, or what the kernel found wrong with it
 * (ENOENT: no such inode or entry in its caches; EINVAL: unknown code). */
int dev_notify(int fd, int code, struct iovec *iov, int iovcnt)
{
	return dev_send(fd, 0, code, iov, iovcnt);
}

int dev_notify_attrs(int fd, uint64_t nodeid)
{
	struct fuse_notify_inval_inode_out out = { .ino = nodeid, .off = -1 };
	struct iovec iov[2] = { { 0 }, { &out, sizeof(out) } };
	return dev_notify(fd, FUSE_NOTIFY_INVAL_INODE, iov, 2);
}

int dev_backing_open(int fd, int backing_fd)
{
	struct fuse_backing_map map = { .fd = backing_fd };
	int id = sys->ioctl(fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	return id < 0 ? -errno : id;
}

int dev_backing_close(int fd, int backing_id)
{
	uint32_t id = (uint32_t)backing_id;
	return sys->ioctl(fd, FUSE_DEV_IOC_BACKING_CLOSE, &id) < 0 ? -errno : 0;
}
