// SPDX-License-Identifier: MIT
/*
 * raw_test - the /dev/fuse protocol facts ramfuse relies on, checked with a
 * tiny FUSE server written inside the test (no ramfuse involved).
 *
 * Each test opens /dev/fuse, mounts it (mount(2), "fd=N,rootmode=40000,..."
 * on a fresh temporary directory, type fuse.rawtest), answers INIT itself
 * (except where the test is about what happens before INIT) and then plays
 * one protocol game with the kernel:
 *
 *   read_buffer_too_small     read(2) with less than max(8192, 80 + max_write)
 *                             bytes fails EINVAL and leaves the request queued
 *   read_buffer_before_init   the same limit before INIT (8192)
 *   reply_on_other_clone      a reply on a cloned fd other than the one the
 *                             request was read from: ENOENT; then the right
 *                             fd takes it
 *   clones_share_queue        one request makes every clone readable; reading
 *                             it on one empties the queue of all
 *   backing_open_before_init  FUSE_DEV_IOC_BACKING_OPEN before INIT: EPERM,
 *                             and after an INIT with passthrough it works
 *   unknown_unique            a reply to a unique nobody waits for: ENOENT
 *   header_len_mismatch       header len != write size: EINVAL, request kept
 *   umount_enodev             a read blocked in a server thread returns ENODEV
 *                             on umount, and so does every later read
 *
 * The callers of the filesystem are fork()ed children that close every fd
 * (fork_clean): a child holding the /dev/fuse fd would keep the connection
 * alive.  Every device read is preceded by a bounded poll(2), so no test
 * can hang in the kernel; teardown detaches the mount and closes the device
 * fds (which aborts the connection and frees any waiting child).
 */
#include "harness.h"
#include "fuse_util.h"
#include "fuse_abi.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define RAW_MAX_WRITE 65536u
/* what the kernel wants a read buffer to hold: header + write_in + data */
#define RAW_NEED(mw) ((size_t)sizeof(struct fuse_in_header) + \
		      sizeof(struct fuse_write_in) + (mw))
#define RAW_BUF (RAW_NEED(RAW_MAX_WRITE) + 4096)
#define WAIT_MS 3000

FIXTURE(raw) {
	char dir[64];
	int fd;			/* the mount's /dev/fuse fd */
	int clone_fd;		/* a clone, when a test makes one */
	int mounted;
	pid_t owner;		/* the process holding fd/clone_fd/thread */
	pid_t kids[4];
	uint32_t proto_minor;	/* from INIT */
	uint64_t offered;	/* INIT flags the kernel offered */
	/* server thread (umount_enodev) */
	int thread_started;
	pthread_t thread;
	volatile int thread_done;
	volatile int thread_ret;
	volatile int thread_errno;
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* poll fd for input; 1 readable, 0 timeout, -1 error (revents in *rev) */
static int wait_in(int fd, int ms, short *rev)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, ms);
	} while (n < 0 && errno == EINTR);
	if (rev)
		*rev = p.revents;
	if (n < 0)
		return -1;
	return n > 0 && (p.revents & POLLIN) ? 1 : 0;
}

/* read one request after a bounded wait: its length, or -1 (errno set;
 * ETIMEDOUT when nothing came) */
static ssize_t read_req(int fd, void *buf, size_t len, int ms)
{
	ssize_t n;
	int w = wait_in(fd, ms, NULL);

	if (w == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (w < 0)
		return -1;
	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

/* write header (+ payload) with the given header length: 0 or -errno */
static int send_reply(int fd, uint64_t unique, int error, const void *data,
		      size_t len, uint32_t hdr_len)
{
	struct fuse_out_header oh = { .len = hdr_len, .error = error,
				      .unique = unique };
	struct iovec iov[2] = { { &oh, sizeof(oh) }, { (void *)data, len } };
	ssize_t n = writev(fd, iov, len ? 2 : 1);

	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(oh) + len ? 0 : -EIO;
}

static int reply_ok(int fd, uint64_t unique, int error, const void *data,
		    size_t len)
{
	return send_reply(fd, unique, error, data, len,
			  (uint32_t)(sizeof(struct fuse_out_header) + len));
}

static void *xalloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Read INIT and answer it with max_write mw (and FUSE_PASSTHROUGH when
 * passthrough and the kernel offers it).  0, or -errno.
 */
static int answer_init(FIXTURE_DATA(raw) *self, uint32_t mw, bool passthrough)
{
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	const struct fuse_init_in *in = (const void *)(h + 1);
	struct fuse_init_out out = { 0 };
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	n = read_req(self->fd, buf, RAW_BUF, WAIT_MS);
	if (n < (ssize_t)(sizeof(*h) + FUSE_INIT_IN_V1_SIZE) ||
	    h->opcode != FUSE_INIT) {
		err = n < 0 ? -errno : -EPROTO;
		munmap(buf, RAW_BUF);
		return err;
	}
	self->proto_minor = in->minor < FUSE_KERNEL_MINOR_VERSION ?
			    in->minor : FUSE_KERNEL_MINOR_VERSION;
	self->offered = in->flags;
	if ((in->flags & FUSE_INIT_EXT) &&
	    (size_t)n >= sizeof(*h) + sizeof(*in))
		self->offered |= (uint64_t)in->flags2 << 32;
	out.major = FUSE_KERNEL_VERSION;
	out.minor = self->proto_minor;
	out.max_readahead = in->max_readahead;
	out.max_background = 16;
	out.congestion_threshold = 12;
	out.max_write = mw;
	out.time_gran = 1;
	if (passthrough && (self->offered & FUSE_PASSTHROUGH)) {
		out.flags = (uint32_t)FUSE_INIT_EXT;
		out.flags2 = (uint32_t)(FUSE_PASSTHROUGH >> 32);
		out.max_stack_depth = 1;
	}
	err = reply_ok(self->fd, h->unique, 0, &out,
		       self->proto_minor < 23 ? 24 : sizeof(out));
	munmap(buf, RAW_BUF);
	return err;
}

/* a child that stat()s dir/name and exits with the errno (0: success) */
static pid_t stat_child(FIXTURE_DATA(raw) *self, const char *name)
{
	pid_t pid = fork_clean();

	if (pid == 0) {
		char p[128];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", self->dir, name);
		_exit(stat(p, &st) ? errno : 0);
	}
	for (int i = 0; i < 4 && pid > 0; i++)
		if (!self->kids[i]) {
			self->kids[i] = pid;
			break;
		}
	return pid;
}

/* wait (bounded) for a kid: its exit code, or -1 */
static int reap(FIXTURE_DATA(raw) *self, pid_t pid, int ms)
{
	int rc = wait_child(pid, ms);

	if (rc < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (self->kids[i] == pid)
			self->kids[i] = 0;
	return rc;
}

static void fill_entry(struct fuse_entry_out *e, uint64_t nodeid)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = nodeid;
	e->generation = 1;
	e->entry_valid = 60;	/* so that stat() needs nothing more */
	e->attr_valid = 60;
	e->attr.ino = nodeid;
	e->attr.mode = S_IFREG | 0644;
	e->attr.nlink = 1;
	e->attr.size = 42;
	e->attr.blksize = 4096;
}

/* ------------------------------------------------------------------ */
/* fixture                                                             */

FIXTURE_SETUP(raw)
{
	char data[160];
	int fd;

	self->fd = -1;
	self->clone_fd = -1;
	self->owner = getpid();
	if (geteuid() != 0)
		SKIP(return, "needs root (euid %u)", (unsigned)geteuid());
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "/dev/fuse unavailable: %s", strerror(errno));
	self->fd = fd;
	snprintf(self->dir, sizeof(self->dir), "/tmp/rawtest.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir)) TH_LOG("mkdtemp: %s", strerror(errno));
	snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 fd);
	ASSERT_EQ(0, mount("rawtest", self->dir, "fuse.rawtest",
			   MS_NOSUID | MS_NODEV, data))
		TH_LOG("mount: %s", strerror(errno));
	self->mounted = 1;
}

FIXTURE_TEARDOWN(raw)
{
	bool here = self->owner == getpid();

	/* a detached mount with no users goes at once: that aborts the
	 * connection and wakes our server thread's read with ENODEV */
	if (self->mounted && self->dir[0])
		umount2(self->dir, MNT_DETACH);
	self->mounted = 0;
	if (here && self->thread_started) {
		long long end = now_ms() + 2000;

		while (!self->thread_done && now_ms() < end)
			sleep_ms(5);
		if (self->thread_done)
			pthread_join(self->thread, NULL);
		self->thread_started = 0;
	}
	if (here) {
		/* the last device fd closed aborts the connection: waiting
		 * callers get an error and exit */
		if (self->clone_fd >= 0)
			close(self->clone_fd);
		if (self->fd >= 0)
			close(self->fd);
	}
	self->clone_fd = self->fd = -1;
	for (int i = 0; i < 4; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			if (here)
				reap(self, self->kids[i], 2000);
			self->kids[i] = 0;
		}
	}
	if (self->dir[0])
		rmdir(self->dir);
}

/* ------------------------------------------------------------------ */
/* tests                                                               */

/*
 * The kernel refuses a read buffer that could not hold the largest request
 * (a WRITE of max_write bytes: header 40 + fuse_write_in 40 + max_write),
 * and never less than FUSE_MIN_READ_BUFFER (8192).  The refused read leaves
 * the request queued: the next, big enough read gets it.
 */
TEST_F_TIMEOUT(raw, read_buffer_too_small, 15)
{
	size_t need = RAW_NEED(RAW_MAX_WRITE);
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	kid = stat_child(self, "missing");
	ASSERT_LT(0, kid);
	ASSERT_EQ(1, wait_in(self->fd, WAIT_MS, NULL)) TH_LOG("no request came");

	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, FUSE_MIN_READ_BUFFER - 1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, FUSE_MIN_READ_BUFFER));
	EXPECT_EQ(EINVAL, errno) TH_LOG("8192 < %zu must be refused too", need);
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, need - 1));
	EXPECT_EQ(EINVAL, errno);
	/* still queued */
	ASSERT_EQ(1, wait_in(self->fd, 0, NULL)) TH_LOG("the refused read ate the request");
	ASSERT_LT(0, read(self->fd, buf, need)) TH_LOG("read %zu: %s", need, strerror(errno));
	EXPECT_EQ(FUSE_LOOKUP, h->opcode);
	EXPECT_STREQ("missing", (const char *)(h + 1));
	ASSERT_EQ(0, reply_ok(self->fd, h->unique, -ENOENT, NULL, 0));
	EXPECT_EQ(ENOENT, reap(self, kid, WAIT_MS));
	munmap(buf, RAW_BUF);
}

/* Before INIT is answered the limit is FUSE_MIN_READ_BUFFER alone. */
TEST_F_TIMEOUT(raw, read_buffer_before_init, 15)
{
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(1, wait_in(self->fd, WAIT_MS, NULL)) TH_LOG("no INIT queued");
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, FUSE_MIN_READ_BUFFER - 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_LT(0, read(self->fd, buf, FUSE_MIN_READ_BUFFER))
		TH_LOG("read 8192 before INIT: %s", strerror(errno));
	EXPECT_EQ(FUSE_INIT, h->opcode);
	munmap(buf, RAW_BUF);
}

/*
 * A reply must go back on the fd its request was read from: each cloned fd
 * has its own processing queue, and a reply elsewhere finds no request
 * (ENOENT).  The request is still answerable on the right fd afterwards.
 * Both directions: read on the clone, reply on the original, and back.
 */
TEST_F_TIMEOUT(raw, reply_on_other_clone, 15)
{
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	struct fuse_entry_out e;
	uint32_t master;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	self->clone_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->clone_fd);
	master = (uint32_t)self->fd;
	ASSERT_EQ(0, ioctl(self->clone_fd, FUSE_DEV_IOC_CLONE, &master))
		TH_LOG("FUSE_DEV_IOC_CLONE: %s", strerror(errno));

	for (int round = 0; round < 2; round++) {
		int rd = round ? self->fd : self->clone_fd;
		int other = round ? self->clone_fd : self->fd;
		char name[16];

		snprintf(name, sizeof(name), "f%d", round);
		kid = stat_child(self, name);
		ASSERT_LT(0, kid);
		ASSERT_LT(0, read_req(rd, buf, RAW_BUF, WAIT_MS))
			TH_LOG("round %d: %s", round, strerror(errno));
		ASSERT_EQ(FUSE_LOOKUP, h->opcode);
		fill_entry(&e, 2 + (uint64_t)round);
		EXPECT_EQ(-ENOENT, reply_ok(other, h->unique, 0, &e, sizeof(e)))
			TH_LOG("round %d: reply on the other fd was taken", round);
		/* the caller still waits */
		sleep_ms(50);
		EXPECT_EQ(0, waitpid(kid, NULL, WNOHANG));
		EXPECT_EQ(0, reply_ok(rd, h->unique, 0, &e, sizeof(e)));
		EXPECT_EQ(0, reap(self, kid, WAIT_MS)) TH_LOG("round %d", round);
	}
	munmap(buf, RAW_BUF);
}

/*
 * Cloned fds read one input queue: a pending request makes the mount's fd
 * and its clone readable at once; taking it through one leaves nothing
 * for the other.  Two requests, each taken through a different fd.
 */
TEST_F_TIMEOUT(raw, clones_share_queue, 15)
{
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	uint32_t master;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	self->clone_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->clone_fd);
	master = (uint32_t)self->fd;
	ASSERT_EQ(0, ioctl(self->clone_fd, FUSE_DEV_IOC_CLONE, &master))
		TH_LOG("FUSE_DEV_IOC_CLONE: %s", strerror(errno));
	/* nothing queued yet */
	EXPECT_EQ(0, wait_in(self->fd, 0, NULL));
	EXPECT_EQ(0, wait_in(self->clone_fd, 0, NULL));

	for (int round = 0; round < 2; round++) {
		int rd = round ? self->fd : self->clone_fd;
		int other = round ? self->clone_fd : self->fd;
		char name[16];
		pid_t kid;

		snprintf(name, sizeof(name), "q%d", round);
		kid = stat_child(self, name);
		ASSERT_LT(0, kid);
		ASSERT_EQ(1, wait_in(other, WAIT_MS, NULL)) TH_LOG("round %d", round);
		ASSERT_EQ(1, wait_in(rd, 0, NULL))
			TH_LOG("round %d: one request, only one fd readable", round);
		ASSERT_LT(0, read_req(rd, buf, RAW_BUF, 0));
		EXPECT_EQ(FUSE_LOOKUP, h->opcode);
		EXPECT_STREQ(name, (const char *)(h + 1));
		/* gone for both */
		EXPECT_EQ(0, wait_in(other, 0, NULL)) TH_LOG("round %d", round);
		EXPECT_EQ(0, wait_in(rd, 0, NULL)) TH_LOG("round %d", round);
		EXPECT_EQ(0, reply_ok(rd, h->unique, -ENOENT, NULL, 0));
		EXPECT_EQ(ENOENT, reap(self, kid, WAIT_MS)) TH_LOG("round %d", round);
	}
	munmap(buf, RAW_BUF);
}

/*
 * FUSE_DEV_IOC_BACKING_OPEN is refused (EPERM) until an INIT that
 * negotiated passthrough was answered; after such an INIT the same call
 * registers the file.  Kernels without the ioctl (before 6.9) answer
 * ENOTTY (or EINVAL): skip.  Without CONFIG_FUSE_PASSTHROUGH: EOPNOTSUPP.
 */
TEST_F_TIMEOUT(raw, backing_open_before_init, 15)
{
	struct fuse_backing_map map = { 0 };
	uint32_t id32;
	int mfd, id;

	mfd = memfd_create("rawtest-backing", MFD_CLOEXEC);
	ASSERT_LE(0, mfd) TH_LOG("memfd_create: %s", strerror(errno));
	map.fd = mfd;
	errno = 0;
	id = ioctl(self->fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (id < 0 && (errno == ENOTTY || errno == EINVAL)) {
		close(mfd);
		SKIP(return, "FUSE_DEV_IOC_BACKING_OPEN unknown to this kernel (%s)",
		     strerror(errno));
	}
	if (id < 0 && errno == EOPNOTSUPP) {
		close(mfd);
		SKIP(return, "kernel built without FUSE passthrough");
	}
	EXPECT_EQ(-1, id);
	EXPECT_EQ(EPERM, errno) TH_LOG("before INIT: %s", strerror(errno));

	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, true));
	if (!(self->offered & FUSE_PASSTHROUGH)) {
		close(mfd);
		SKIP(return, "INIT (7.%u) does not offer FUSE_PASSTHROUGH",
		     self->proto_minor);
	}
	id = ioctl(self->fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	EXPECT_LT(0, id) TH_LOG("after INIT with passthrough: %s", strerror(errno));
	if (id > 0) {
		id32 = (uint32_t)id;
		EXPECT_EQ(0, ioctl(self->fd, FUSE_DEV_IOC_BACKING_CLOSE, &id32))
			TH_LOG("BACKING_CLOSE %d: %s", id, strerror(errno));
	}
	close(mfd);
}

/*
 * A reply to a unique no request carries is refused with ENOENT, both with
 * nothing in flight and with a real request waiting (which stays
 * answerable).  An interrupt-reply unique (bit 0) for an unknown request
 * is refused the same way.
 */
TEST_F_TIMEOUT(raw, unknown_unique, 15)
{
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	struct fuse_entry_out e;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	EXPECT_EQ(-ENOENT, reply_ok(self->fd, 0x100000, -EIO, NULL, 0));
	kid = stat_child(self, "x");
	ASSERT_LT(0, kid);
	ASSERT_LT(0, read_req(self->fd, buf, RAW_BUF, WAIT_MS));
	ASSERT_EQ(FUSE_LOOKUP, h->opcode);
	fill_entry(&e, 2);
	EXPECT_EQ(-ENOENT, reply_ok(self->fd, h->unique + 0x10000, 0, &e, sizeof(e)));
	EXPECT_EQ(-ENOENT, reply_ok(self->fd, (h->unique + 0x10000) | 1, -EAGAIN,
				    NULL, 0));
	EXPECT_EQ(0, waitpid(kid, NULL, WNOHANG));
	EXPECT_EQ(0, reply_ok(self->fd, h->unique, 0, &e, sizeof(e)));
	EXPECT_EQ(0, reap(self, kid, WAIT_MS));
	munmap(buf, RAW_BUF);
}

/*
 * The header's len must equal the size written: longer or shorter gives
 * EINVAL before the request is looked up, so the request stays and a
 * correct reply still completes it.  (A reply that is consistent but too
 * short for the opcode's answer is another case: EINVAL to the writer and
 * EIO to the caller; ramfuse's fault=...:short tests that.)
 */
TEST_F_TIMEOUT(raw, header_len_mismatch, 15)
{
	char *buf = xalloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	uint32_t full = (uint32_t)(sizeof(struct fuse_out_header) +
				   sizeof(struct fuse_entry_out));
	struct fuse_entry_out e;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	kid = stat_child(self, "y");
	ASSERT_LT(0, kid);
	ASSERT_LT(0, read_req(self->fd, buf, RAW_BUF, WAIT_MS));
	ASSERT_EQ(FUSE_LOOKUP, h->opcode);
	fill_entry(&e, 2);
	EXPECT_EQ(-EINVAL, send_reply(self->fd, h->unique, 0, &e, sizeof(e), full + 8));
	EXPECT_EQ(-EINVAL, send_reply(self->fd, h->unique, 0, &e, sizeof(e), full - 8));
	EXPECT_EQ(-EINVAL, send_reply(self->fd, h->unique, 0, &e, sizeof(e),
				      (uint32_t)sizeof(struct fuse_out_header)));
	/* shorter than a header at all */
	{
		struct fuse_out_header oh = { .len = 8, .unique = h->unique };

		errno = 0;
		EXPECT_EQ(-1, write(self->fd, &oh, 8));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0, waitpid(kid, NULL, WNOHANG)) TH_LOG("caller already done");
	EXPECT_EQ(0, reply_ok(self->fd, h->unique, 0, &e, sizeof(e)));
	EXPECT_EQ(0, reap(self, kid, WAIT_MS));
	munmap(buf, RAW_BUF);
}

static void *blocked_reader(void *arg)
{
	FIXTURE_DATA(raw) *self = arg;
	char *buf = xalloc(RAW_BUF);
	ssize_t n;

	if (!buf) {
		self->thread_ret = -2;
		self->thread_done = 1;
		return NULL;
	}
	/* a plain blocking read: only the unmount can end it */
	n = read(self->fd, buf, RAW_BUF);
	self->thread_errno = n < 0 ? errno : 0;
	self->thread_ret = n < 0 ? -1 : (int)n;
	__atomic_store_n(&self->thread_done, 1, __ATOMIC_RELEASE);
	munmap(buf, RAW_BUF);
	return NULL;
}

/*
 * After umount (no DESTROY for a plain fuse mount: the kernel aborts the
 * connection) a server thread blocked in read(2) wakes with ENODEV, and
 * every later read fails ENODEV at once; poll reports POLLERR.
 */
TEST_F_TIMEOUT(raw, umount_enodev, 15)
{
	char *buf = xalloc(RAW_BUF);
	long long end;
	short rev = 0;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, blocked_reader, self));
	self->thread_started = 1;
	sleep_ms(100);
	ASSERT_EQ(0, self->thread_done) TH_LOG("read returned %d (%s) with nothing queued",
					       self->thread_ret, strerror(self->thread_errno));
	ASSERT_EQ(0, umount2(self->dir, 0)) TH_LOG("umount: %s", strerror(errno));
	self->mounted = 0;
	end = now_ms() + WAIT_MS;
	while (!__atomic_load_n(&self->thread_done, __ATOMIC_ACQUIRE) && now_ms() < end)
		sleep_ms(2);
	ASSERT_EQ(1, self->thread_done) TH_LOG("blocked read not woken by umount");
	pthread_join(self->thread, NULL);
	self->thread_started = 0;
	EXPECT_EQ(-1, self->thread_ret);
	EXPECT_EQ(ENODEV, self->thread_errno) TH_LOG("got %s", strerror(self->thread_errno));
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, RAW_BUF));
	EXPECT_EQ(ENODEV, errno) TH_LOG("got %s", strerror(errno));
	wait_in(self->fd, 0, &rev);
	EXPECT_TRUE(rev & POLLERR) TH_LOG("revents 0x%x", rev);
	munmap(buf, RAW_BUF);
}

TEST_HARNESS_MAIN
