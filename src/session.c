/* The session: INIT, then one worker thread per device fd, each running
 * receive -> dispatch -> reply on its own buffers. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "session.h"

#define MAX_WRITE (1u << 20)
#define MAX_PAGES (MAX_WRITE / 4096)
/* A request holds a header and a WRITE's arguments besides the data. */
#define IN_SIZE (MAX_WRITE + 4096)

/* What a memory filesystem wants of the kernel, when offered. */
static const uint64_t wanted_flags =
	FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_EXPORT_SUPPORT |
	FUSE_BIG_WRITES | FUSE_AUTO_INVAL_DATA | FUSE_DO_READDIRPLUS |
	FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS |
	FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS | FUSE_HANDLE_KILLPRIV_V2 |
	FUSE_SETXATTR_EXT | FUSE_INIT_EXT | FUSE_HAS_IOCTL_DIR;

static bool have_cap_sys_admin(void)
{
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t effective, permitted, inheritable; } data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[0].effective & (1u << 21);
}

/* CAP_SYS_ADMIN in our own user namespace is not enough: the kernel wants it
 * in the initial one for FUSE_DEV_IOC_BACKING_OPEN.  Ask it once, right after
 * INIT: passthrough=on fails here, auto serves every file without it. */
static int probe_backing(struct session *s)
{
	int mfd = memfd_create("ramfuse-probe", MFD_CLOEXEC);
	if (mfd < 0)
		return 0; /* no memfds: the opens will find out */
	int id = dev_backing_open(s->fd, mfd);
	close(mfd);
	if (id > 0) {
		dev_backing_close(s->fd, id);
		return 0;
	}
	if (s->cfg.passthrough == PASSTHROUGH_ON) {
		msg("passthrough=on: FUSE_DEV_IOC_BACKING_OPEN: %s (needs CAP_SYS_ADMIN "
		    "in the initial user namespace)", strerror(-id));
		return id;
	}
	debug("passthrough: FUSE_DEV_IOC_BACKING_OPEN: %s: files are served without it",
	      strerror(-id));
	s->flags &= ~FUSE_PASSTHROUGH;
	return 0;
}

static int reply_init(int fd, uint64_t unique, const struct fuse_init_out *out, size_t len)
{
	struct iovec iov[2] = { { 0 }, { (void *)out, len } };
	return dev_send(fd, unique, 0, iov, 2);
}

static void print_flags(uint64_t flags)
{
	static const char *const bit[64] = {
		[0] = "async_read", [1] = "posix_locks", [3] = "atomic_o_trunc",
		[4] = "export_support", [5] = "big_writes", [6] = "dont_mask",
		[10] = "flock_locks", [12] = "auto_inval_data", [13] = "readdirplus",
		[14] = "readdirplus_auto", [15] = "async_dio", [16] = "writeback_cache",
		[18] = "parallel_dirops", [19] = "handle_killpriv", [20] = "posix_acl", [22] = "max_pages",
		[23] = "cache_symlinks", [28] = "handle_killpriv_v2",
		[29] = "setxattr_ext", [30] = "init_ext", [37] = "passthrough",
		[39] = "has_resend", [41] = "over_io_uring",
	};
	char line[512];
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		if ((flags >> i) & 1) {
			int m = bit[i] ? sfmt(line + n, sizeof(line) - n, " %s", bit[i])
				       : sfmt(line + n, sizeof(line) - n, " bit%d", i);
			if (m < 0 || (size_t)m >= sizeof(line) - n)
				break;
			n += (size_t)m;
		}
	line[n] = 0;
	debug("flags:%s", line);
}

/* Reads INIT and answers it; the mount is usable once this returns 0. */
int session_init(struct session *s, int fd)
{
	s->fd = fd;
	s->in_size = IN_SIZE;
	s->out_size = MAX_WRITE;
	s->max_write = MAX_WRITE;
	s->max_pages = MAX_PAGES;
	char *buf = malloc(s->in_size);
	if (!buf)
		return -ENOMEM;
	uint64_t retries[DEV_RETRY_NR] = { 0 };
	int err;
	for (;;) {
		ssize_t n = dev_receive(fd, buf, s->in_size, retries, &s->stopping);
		if (n < 0) {
			err = (int)n;
			break;
		}
		const struct fuse_in_header *h = (const void *)buf;
		const struct fuse_init_in *in = (const void *)(h + 1);
		if ((size_t)n < sizeof(*h) + FUSE_INIT_IN_V1_SIZE || h->len != (size_t)n ||
		    h->opcode != FUSE_INIT) {
			msg("expected INIT, got %zd bytes of opcode %u", n,
			    (size_t)n >= sizeof(*h) ? h->opcode : 0);
			if ((size_t)n >= sizeof(*h)) {
				struct iovec iov[1];
				dev_send(fd, h->unique, -EIO, iov, 1);
			}
			continue;
		}
		struct fuse_init_out out = { .major = FUSE_KERNEL_VERSION,
					     .minor = FUSE_KERNEL_MINOR_VERSION };
		if (in->major > FUSE_KERNEL_VERSION) {
			/* Name our major; the kernel will send INIT again. */
			debug("kernel protocol %u.%u: asking for %u", in->major, in->minor,
			      FUSE_KERNEL_VERSION);
			reply_init(fd, h->unique, &out, 8);
			continue;
		}
		if (in->major < FUSE_KERNEL_VERSION || in->minor < 12) {
			msg("kernel FUSE protocol %u.%u is too old", in->major, in->minor);
			struct iovec iov[1];
			dev_send(fd, h->unique, -EPROTO, iov, 1);
			err = -EPROTO;
			break;
		}
		uint64_t offered = in->flags;
		if ((offered & FUSE_INIT_EXT) && (size_t)n >= sizeof(*h) + sizeof(*in))
			offered |= (uint64_t)in->flags2 << 32;
		uint64_t want = wanted_flags;
		if (s->cfg.posix_acl)
			want |= FUSE_POSIX_ACL | FUSE_DONT_MASK;
		bool pt_possible = (offered & FUSE_PASSTHROUGH) && have_cap_sys_admin();
		/* in a user namespace probe_backing finds out and says so */
		if ((offered & FUSE_PASSTHROUGH) && !pt_possible && s->cfg.passthrough == PASSTHROUGH_AUTO)
			debug("passthrough off: it needs CAP_SYS_ADMIN (not root)");
		if (s->cfg.passthrough == PASSTHROUGH_ON && !pt_possible) {
			msg("passthrough=on: %s", !(offered & FUSE_PASSTHROUGH)
			    ? "the kernel does not offer FUSE_PASSTHROUGH"
			    : "needs CAP_SYS_ADMIN in the initial user namespace");
			struct iovec iov[1];
			dev_send(fd, h->unique, -EPROTO, iov, 1);
			err = -EOPNOTSUPP;
			break;
		}
		if (pt_possible && s->cfg.passthrough != PASSTHROUGH_OFF) {
			want |= FUSE_PASSTHROUGH;
			/* A memfd sits on tmpfs (depth 0): one level above it. */
			out.max_stack_depth = 1;
		} else {
			/* Without passthrough every change to file data comes
			 * through the kernel, which keeps its page cache right
			 * itself (write-through, truncate, fallocate, copy): a
			 * new mtime must not make it drop what was just written,
			 * or the first read after a write asks us again. */
			want &= ~FUSE_AUTO_INVAL_DATA;
		}
		if (s->cfg.uring != URING_OFF) {
			char why[160];
			int queues = uring_usable(in->minor, offered, why, sizeof(why));
			if (queues > 0) {
				want |= FUSE_OVER_IO_URING;
				s->nqueues = (unsigned)queues;
			} else if (s->cfg.uring == URING_ON) {
				msg("uring=on: %s", why);
				struct iovec iov[1];
				dev_send(fd, h->unique, -EPROTO, iov, 1);
				err = -EOPNOTSUPP;
				break;
			} else {
				debug("FUSE over io_uring not used: %s", why);
			}
		}
		s->flags = want & offered;
		s->minor = in->minor < FUSE_KERNEL_MINOR_VERSION ? in->minor
								 : FUSE_KERNEL_MINOR_VERSION;
		out.minor = s->minor;
		out.max_readahead = in->max_readahead;
		out.flags = (uint32_t)s->flags;
		out.flags2 = (uint32_t)(s->flags >> 32);
		out.max_background = 64;
		out.congestion_threshold = 48;
		out.max_write = MAX_WRITE;
		out.time_gran = 1;
		out.max_pages = MAX_PAGES;
		if (!(s->flags & FUSE_PASSTHROUGH))
			out.max_stack_depth = 0;
		/* Kernels before 7.23 take the short reply. */
		size_t len = s->minor < 23 ? 24 : sizeof(out);
		err = reply_init(fd, h->unique, &out, len);
		debug("INIT: kernel %u.%u, using 7.%u, max_write %u", in->major, in->minor,
		      s->minor, MAX_WRITE);
		if (!err && (s->flags & FUSE_PASSTHROUGH))
			err = probe_backing(s);
		print_flags(s->flags);
		break;
	}
	free(buf);
	return err;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct session *s = w->s;
	for (;;) {
		ssize_t n = (ssize_t)fault_aside_next(w);
		if (!n)
			n = dev_receive(w->fd, w->in, s->in_size, w->retries, &s->stopping);
		if (n < 0) {
			if (n != -ENODEV && n != -EINTR) {
				msg("reading /dev/fuse (fd %d): %s", w->fd, strerror((int)-n));
				__atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
			}
			break;
		}
		dispatch(w, (size_t)n);
	}
	session_worker_ended(s, w);
	return NULL;
}

void session_worker_ended(struct session *s, struct worker *w)
{
	uint64_t one = 1;
	if (write(s->done_fd, &one, sizeof(one)) < 0)
		msg("worker %u: cannot report its end: %s", w->index, strerror(errno));
}

int worker_send(struct worker *w, uint64_t unique, int error, struct iovec *iov, int iovcnt)
{
	return w->queue ? uring_send(w, unique, error, iov, iovcnt)
			: dev_send(w->fd, unique, error, iov, iovcnt);
}

int worker_write(struct worker *w, const struct iovec *iov, int iovcnt)
{
	return w->queue ? uring_write(w, iov, iovcnt) : dev_write(w->fd, iov, iovcnt);
}

/* Signals only interrupt a worker's read; the handler itself does nothing. */
static void wake(int sig) { (void)sig; }

int session_start(struct session *s)
{
	struct sigaction sa = { .sa_handler = wake }; /* no SA_RESTART */
	sigaction(SIGUSR2, &sa, NULL);
	s->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->done_fd < 0)
		return -errno;
	s->workers = calloc(s->cfg.threads + s->nqueues, sizeof(*s->workers));
	if (!s->workers || fault_list_init(&s->faults, s->cfg.threads + s->nqueues) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < s->cfg.nfaults; i++) {
		struct fault f;
		char err[256];
		if (fault_parse(&f, s->cfg.fault_specs[i], err, sizeof(err)) < 0 ||
		    fault_list_add(&s->faults, &f) < 0)
			return -ENOMEM;
	}
	s->cloned = s->cfg.clone_fd && s->cfg.threads > 1;
	for (unsigned i = 0; i < s->cfg.threads; i++) {
		struct worker *w = &s->workers[i];
		w->s = s;
		w->index = i;
		w->fd = s->fd;
		if (i > 0 && s->cloned) {
			int fd = fault_clone(&s->faults);
			if (!fd)
				fd = dev_clone(s->fd);
			if (fd < 0) {
				debug("FUSE_DEV_IOC_CLONE: %s: workers share one fd", strerror(-fd));
				s->cloned = false;
			} else {
				w->fd = fd;
			}
		}
		sfmt(w->tag, sizeof(w->tag), "fd %d", w->fd);
		if (s->cfg.nonblock && fcntl(w->fd, F_SETFL, O_NONBLOCK) < 0)
			msg("O_NONBLOCK on fd %d: %s", w->fd, strerror(errno));
		w->in = malloc(s->in_size);
		w->out = malloc(s->out_size);
		if (!w->in || !w->out)
			return -ENOMEM;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		int err = pthread_create(&w->thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (err) {
			free(w->in);
			free(w->out);
			if (w->fd != s->fd)
				close(w->fd);
			if (i == 0)
				return -err;
			break; /* serve with the workers we have */
		}
		s->nworkers++;
	}
	s->nclassic = s->nworkers;
	debug("%u workers on %s", s->nworkers, s->cloned ? "cloned fds" : "one fd");
	if (s->nqueues) {
		int err = uring_start(s);
		if (err && s->cfg.uring == URING_ON)
			return err;
		if (err)
			msg("uring=auto: serving through /dev/fuse only");
	}
	s->alive = s->nworkers;
	return 0;
}

void session_stop(struct session *s)
{
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_kill(s->workers[i].thread, SIGUSR2);
}

void session_join(struct session *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		pthread_join(w->thread, NULL);
		if (w->fd != s->fd)
			close(w->fd);
		if (w->queue)
			continue; /* its buffers are the ring's */
		free(w->in);
		free(w->out);
		fault_aside_free(w);
	}
	uring_free(s);
}

void session_free(struct session *s)
{
	free(s->workers);
	s->workers = NULL;
	s->nworkers = s->alive = 0;
	if (s->done_fd >= 0)
		close(s->done_fd);
	s->done_fd = -1;
}

/* How many workers are still serving, after taking in their ends. */
unsigned session_running(struct session *s)
{
	uint64_t ended;
	if (read(s->done_fd, &ended, sizeof(ended)) == sizeof(ended))
		s->alive -= ended < s->alive ? (unsigned)ended : s->alive;
	return s->alive;
}
