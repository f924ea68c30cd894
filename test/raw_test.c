// SPDX-License-Identifier: MIT
/*
 * raw_test - the /dev/fuse protocol facts ramfuse relies on, checked with a
 * tiny FUSE server written inside the test (no ramfuse involved).
 *
 * Each test mounts a bare connection with fuse_raw.h (mount(2),
 * "fd=N,rootmode=40000,..." on a fresh temporary directory, type
 * fuse.raw), answers INIT itself (except where the test is about what
 * happens before INIT) and then plays one protocol game with the kernel:
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
 *   default_tree(_readdirplus) fuse_raw.h's serve loop answers its small
 *                             tree with no handler (the kit's own check)
 *   abort_wakes_caller        fusectl abort: a held caller gets ECONNABORTED
 *   notify_inval_inode        a notification's result is the write's
 *
 * The callers of the filesystem are children from fuse_raw_fork(), which
 * close the device fds: a child holding one would keep the connection
 * alive.  Every device read is preceded by a bounded poll(2), so no test
 * can hang in the kernel; fuse_raw_teardown() aborts the connection,
 * detaches the mount and closes the device fds, which frees any waiting
 * child.
 */
#include "harness.h"
#include "fuse_util.h"
#include "fuse_raw.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define RAW_MAX_WRITE 65536u
#define RAW_NEED(mw) FUSE_RAW_BUFSIZE(mw)
#define RAW_BUF (RAW_NEED(RAW_MAX_WRITE) + 4096)
#define WAIT_MS 3000

FIXTURE(raw) {
	struct fuse_raw r;	/* mount, device fds, children (fuse_raw.h) */
	int clone_fd;		/* a clone, when a test makes one */
	/* server thread (umount_enodev) */
	int thread_started;
	pthread_t thread;
	volatile int thread_done;
	volatile int thread_ret;
	volatile int thread_errno;
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* answer INIT with max_write mw (and FUSE_PASSTHROUGH when asked and
 * offered): 0 or -errno */
static int answer_init(FIXTURE_DATA(raw) *self, uint32_t mw, bool passthrough)
{
	struct fuse_raw_init in = {
		.max_write = mw,
		.flags = passthrough ? FUSE_PASSTHROUGH : 0,
	};

	return fuse_raw_init(&self->r, &in, WAIT_MS);
}

/* a child that stat()s dir/name and exits with the errno (0: success) */
static pid_t stat_child(FIXTURE_DATA(raw) *self, const char *name)
{
	pid_t pid = fuse_raw_fork(&self->r);

	if (pid == 0) {
		char p[128];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", self->r.dir, name);
		_exit(stat(p, &st) ? errno : 0);
	}
	return pid;
}

/* wait (bounded) for a kid: its exit code, or -errno */
static int reap(FIXTURE_DATA(raw) *self, pid_t pid, int ms)
{
	return fuse_raw_wait(&self->r, pid, ms);
}

static void fill_entry(struct fuse_entry_out *e, uint64_t nodeid)
{
	/* valid 60 s: stat() needs nothing more */
	fuse_raw_entry(e, nodeid, S_IFREG | 0644, 42, 60);
}

static int clone_fd(FIXTURE_DATA(raw) *self)
{
	self->clone_fd = fuse_raw_clone(&self->r);
	return self->clone_fd;
}

/* ------------------------------------------------------------------ */
/* fixture                                                             */

FIXTURE_SETUP(raw)
{
	int err;

	self->clone_fd = -1;
	if (geteuid() != 0)
		SKIP(return, "needs root (euid %u)", (unsigned)geteuid());
	if (access("/dev/fuse", R_OK | W_OK))
		SKIP(return, "/dev/fuse unavailable: %s", strerror(errno));
	err = fuse_raw_mount(&self->r, NULL);
	ASSERT_EQ(0, err) TH_LOG("fuse_raw_mount: %s", strerror(-err));
}

FIXTURE_TEARDOWN(raw)
{
	bool here = self->r.owner == getpid();

	/* the abort and the detached mount wake our server thread's read
	 * with ENODEV; closing the device fds frees any waiting child */
	fuse_raw_teardown(&self->r);
	self->clone_fd = -1;
	if (here && self->thread_started) {
		long long end = now_ms() + 2000;

		while (!self->thread_done && now_ms() < end)
			sleep_ms(5);
		if (self->thread_done)
			pthread_join(self->thread, NULL);
		self->thread_started = 0;
	}
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
	char *buf = malloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	kid = stat_child(self, "missing");
	ASSERT_LT(0, kid);
	ASSERT_EQ(1, fuse_raw_wait_in(self->r.fd, WAIT_MS, NULL)) TH_LOG("no request came");

	errno = 0;
	EXPECT_EQ(-1, read(self->r.fd, buf, FUSE_MIN_READ_BUFFER - 1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, read(self->r.fd, buf, FUSE_MIN_READ_BUFFER));
	EXPECT_EQ(EINVAL, errno) TH_LOG("8192 < %zu must be refused too", need);
	errno = 0;
	EXPECT_EQ(-1, read(self->r.fd, buf, need - 1));
	EXPECT_EQ(EINVAL, errno);
	/* still queued */
	ASSERT_EQ(1, fuse_raw_wait_in(self->r.fd, 0, NULL)) TH_LOG("the refused read ate the request");
	ASSERT_LT(0, read(self->r.fd, buf, need)) TH_LOG("read %zu: %s", need, strerror(errno));
	EXPECT_EQ(FUSE_LOOKUP, h->opcode);
	EXPECT_STREQ("missing", (const char *)(h + 1));
	ASSERT_EQ(0, fuse_raw_reply(self->r.fd, h->unique, -ENOENT, NULL, 0));
	EXPECT_EQ(ENOENT, reap(self, kid, WAIT_MS));
	free(buf);
}

/* Before INIT is answered the limit is FUSE_MIN_READ_BUFFER alone. */
TEST_F_TIMEOUT(raw, read_buffer_before_init, 15)
{
	char *buf = malloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(1, fuse_raw_wait_in(self->r.fd, WAIT_MS, NULL)) TH_LOG("no INIT queued");
	errno = 0;
	EXPECT_EQ(-1, read(self->r.fd, buf, FUSE_MIN_READ_BUFFER - 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_LT(0, read(self->r.fd, buf, FUSE_MIN_READ_BUFFER))
		TH_LOG("read 8192 before INIT: %s", strerror(errno));
	EXPECT_EQ(FUSE_INIT, h->opcode);
	free(buf);
}

/*
 * A reply must go back on the fd its request was read from: each cloned fd
 * has its own processing queue, and a reply elsewhere finds no request
 * (ENOENT).  The request is still answerable on the right fd afterwards.
 * Both directions: read on the clone, reply on the original, and back.
 */
TEST_F_TIMEOUT(raw, reply_on_other_clone, 15)
{
	char *buf = malloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	struct fuse_entry_out e;
	ssize_t n;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	ASSERT_LE(0, clone_fd(self)) TH_LOG("FUSE_DEV_IOC_CLONE: %s", strerror(-self->clone_fd));

	for (int round = 0; round < 2; round++) {
		int rd = round ? self->r.fd : self->clone_fd;
		int other = round ? self->clone_fd : self->r.fd;
		char name[16];

		snprintf(name, sizeof(name), "f%d", round);
		kid = stat_child(self, name);
		ASSERT_LT(0, kid);
		n = fuse_raw_read(rd, buf, RAW_BUF, WAIT_MS);
		ASSERT_LT(0, n) TH_LOG("round %d: %s", round, strerror((int)-n));
		ASSERT_EQ(FUSE_LOOKUP, h->opcode);
		fill_entry(&e, 2 + (uint64_t)round);
		EXPECT_EQ(-ENOENT, fuse_raw_reply(other, h->unique, 0, &e, sizeof(e)))
			TH_LOG("round %d: reply on the other fd was taken", round);
		/* the caller still waits */
		sleep_ms(50);
		EXPECT_EQ(0, waitpid(kid, NULL, WNOHANG));
		EXPECT_EQ(0, fuse_raw_reply(rd, h->unique, 0, &e, sizeof(e)));
		EXPECT_EQ(0, reap(self, kid, WAIT_MS)) TH_LOG("round %d", round);
	}
	free(buf);
}

/*
 * Cloned fds read one input queue: a pending request makes the mount's fd
 * and its clone readable at once; taking it through one leaves nothing
 * for the other.  Two requests, each taken through a different fd.
 */
TEST_F_TIMEOUT(raw, clones_share_queue, 15)
{
	char *buf = malloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	ASSERT_LE(0, clone_fd(self)) TH_LOG("FUSE_DEV_IOC_CLONE: %s", strerror(-self->clone_fd));
	/* nothing queued yet */
	EXPECT_EQ(0, fuse_raw_wait_in(self->r.fd, 0, NULL));
	EXPECT_EQ(0, fuse_raw_wait_in(self->clone_fd, 0, NULL));

	for (int round = 0; round < 2; round++) {
		int rd = round ? self->r.fd : self->clone_fd;
		int other = round ? self->clone_fd : self->r.fd;
		char name[16];
		pid_t kid;

		snprintf(name, sizeof(name), "q%d", round);
		kid = stat_child(self, name);
		ASSERT_LT(0, kid);
		ASSERT_EQ(1, fuse_raw_wait_in(other, WAIT_MS, NULL)) TH_LOG("round %d", round);
		ASSERT_EQ(1, fuse_raw_wait_in(rd, 0, NULL))
			TH_LOG("round %d: one request, only one fd readable", round);
		ASSERT_LT(0, fuse_raw_read(rd, buf, RAW_BUF, 0));
		EXPECT_EQ(FUSE_LOOKUP, h->opcode);
		EXPECT_STREQ(name, (const char *)(h + 1));
		/* gone for both */
		EXPECT_EQ(0, fuse_raw_wait_in(other, 0, NULL)) TH_LOG("round %d", round);
		EXPECT_EQ(0, fuse_raw_wait_in(rd, 0, NULL)) TH_LOG("round %d", round);
		EXPECT_EQ(0, fuse_raw_reply(rd, h->unique, -ENOENT, NULL, 0));
		EXPECT_EQ(ENOENT, reap(self, kid, WAIT_MS)) TH_LOG("round %d", round);
	}
	free(buf);
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
	id = ioctl(self->r.fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
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
	if (!(self->r.offered & FUSE_PASSTHROUGH)) {
		close(mfd);
		SKIP(return, "INIT (7.%u) does not offer FUSE_PASSTHROUGH",
		     self->r.minor);
	}
	id = ioctl(self->r.fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	EXPECT_LT(0, id) TH_LOG("after INIT with passthrough: %s", strerror(errno));
	if (id > 0) {
		id32 = (uint32_t)id;
		EXPECT_EQ(0, ioctl(self->r.fd, FUSE_DEV_IOC_BACKING_CLOSE, &id32))
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
	char *buf = malloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	struct fuse_entry_out e;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	EXPECT_EQ(-ENOENT, fuse_raw_reply(self->r.fd, 0x100000, -EIO, NULL, 0));
	kid = stat_child(self, "x");
	ASSERT_LT(0, kid);
	ASSERT_LT(0, fuse_raw_read(self->r.fd, buf, RAW_BUF, WAIT_MS));
	ASSERT_EQ(FUSE_LOOKUP, h->opcode);
	fill_entry(&e, 2);
	EXPECT_EQ(-ENOENT, fuse_raw_reply(self->r.fd, h->unique + 0x10000, 0, &e, sizeof(e)));
	EXPECT_EQ(-ENOENT, fuse_raw_reply(self->r.fd, (h->unique + 0x10000) | 1, -EAGAIN,
				    NULL, 0));
	EXPECT_EQ(0, waitpid(kid, NULL, WNOHANG));
	EXPECT_EQ(0, fuse_raw_reply(self->r.fd, h->unique, 0, &e, sizeof(e)));
	EXPECT_EQ(0, reap(self, kid, WAIT_MS));
	free(buf);
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
	char *buf = malloc(RAW_BUF);
	const struct fuse_in_header *h = (const void *)buf;
	uint32_t full = (uint32_t)(sizeof(struct fuse_out_header) +
				   sizeof(struct fuse_entry_out));
	struct fuse_entry_out e;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	kid = stat_child(self, "y");
	ASSERT_LT(0, kid);
	ASSERT_LT(0, fuse_raw_read(self->r.fd, buf, RAW_BUF, WAIT_MS));
	ASSERT_EQ(FUSE_LOOKUP, h->opcode);
	fill_entry(&e, 2);
	EXPECT_EQ(-EINVAL, fuse_raw_reply_len(self->r.fd, full + 8, h->unique, 0,
					      &e, sizeof(e)));
	EXPECT_EQ(-EINVAL, fuse_raw_reply_len(self->r.fd, full - 8, h->unique, 0,
					      &e, sizeof(e)));
	EXPECT_EQ(-EINVAL, fuse_raw_reply_len(self->r.fd,
					      (uint32_t)sizeof(struct fuse_out_header),
					      h->unique, 0, &e, sizeof(e)));
	/* shorter than a header at all */
	{
		struct fuse_out_header oh = { .len = 8, .unique = h->unique };

		errno = 0;
		EXPECT_EQ(-1, write(self->r.fd, &oh, 8));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0, waitpid(kid, NULL, WNOHANG)) TH_LOG("caller already done");
	EXPECT_EQ(0, fuse_raw_reply(self->r.fd, h->unique, 0, &e, sizeof(e)));
	EXPECT_EQ(0, reap(self, kid, WAIT_MS));
	free(buf);
}

static void *blocked_reader(void *arg)
{
	FIXTURE_DATA(raw) *self = arg;
	char *buf = malloc(RAW_BUF);
	ssize_t n;

	if (!buf) {
		self->thread_ret = -2;
		self->thread_done = 1;
		return NULL;
	}
	/* a plain blocking read: only the unmount can end it */
	n = read(self->r.fd, buf, RAW_BUF);
	self->thread_errno = n < 0 ? errno : 0;
	self->thread_ret = n < 0 ? -1 : (int)n;
	__atomic_store_n(&self->thread_done, 1, __ATOMIC_RELEASE);
	free(buf);
	return NULL;
}

/*
 * After umount (no DESTROY for a plain fuse mount: the kernel aborts the
 * connection) a server thread blocked in read(2) wakes with ENODEV, and
 * every later read fails ENODEV at once; poll reports POLLERR.
 */
TEST_F_TIMEOUT(raw, umount_enodev, 15)
{
	char *buf = malloc(RAW_BUF);
	long long end;
	short rev = 0;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, blocked_reader, self));
	self->thread_started = 1;
	sleep_ms(100);
	ASSERT_EQ(0, self->thread_done) TH_LOG("read returned %d (%s) with nothing queued",
					       self->thread_ret, strerror(self->thread_errno));
	ASSERT_EQ(0, umount2(self->r.dir, 0)) TH_LOG("umount: %s", strerror(errno));
	self->r.mounted = 0;
	end = now_ms() + WAIT_MS;
	while (!__atomic_load_n(&self->thread_done, __ATOMIC_ACQUIRE) && now_ms() < end)
		sleep_ms(2);
	ASSERT_EQ(1, self->thread_done) TH_LOG("blocked read not woken by umount");
	pthread_join(self->thread, NULL);
	self->thread_started = 0;
	EXPECT_EQ(-1, self->thread_ret);
	EXPECT_EQ(ENODEV, self->thread_errno) TH_LOG("got %s", strerror(self->thread_errno));
	errno = 0;
	EXPECT_EQ(-1, read(self->r.fd, buf, RAW_BUF));
	EXPECT_EQ(ENODEV, errno) TH_LOG("got %s", strerror(errno));
	fuse_raw_wait_in(self->r.fd, 0, &rev);
	EXPECT_TRUE(rev & POLLERR) TH_LOG("revents 0x%x", rev);
	free(buf);
}

/* child: walk the default tree of fuse_raw.h; 0, or the step that failed */
static int walk_tree(const char *dir, void *arg)
{
	char p[128], buf[FUSE_RAW_FILE_SIZE + 1];
	struct stat st;
	struct statfs sf;
	struct dirent *e;
	int fd, seen = 0;
	DIR *d;

	(void)arg;
	snprintf(p, sizeof(p), "%s/file", dir);
	if (stat(p, &st) || !S_ISREG(st.st_mode) || st.st_size != FUSE_RAW_FILE_SIZE)
		return 10;
	fd = open(p, O_RDONLY);
	if (fd < 0 || pread(fd, buf, sizeof(buf), 0) != FUSE_RAW_FILE_SIZE)
		return 11;
	for (int i = 0; i < (int)FUSE_RAW_FILE_SIZE; i++)
		if ((unsigned char)buf[i] != fuse_raw_file_byte((uint64_t)i))
			return 12;
	close(fd);
	snprintf(p, sizeof(p), "%s/dir", dir);
	if (stat(p, &st) || !S_ISDIR(st.st_mode))
		return 20;
	snprintf(p, sizeof(p), "%s/link", dir);
	if (readlink(p, buf, sizeof(buf)) != 4 || memcmp(buf, "file", 4))
		return 30;
	snprintf(p, sizeof(p), "%s/missing", dir);
	if (!stat(p, &st) || errno != ENOENT)
		return 40;
	d = opendir(dir);
	if (!d)
		return 50;
	while ((e = readdir(d)))
		for (int i = 0; i < 3; i++)
			if (!strcmp(e->d_name, (const char *[]){ "file", "dir", "link" }[i]))
				seen |= 1 << i;
	closedir(d);
	if (seen != 7)
		return 51;
	if (statfs(dir, &sf) || sf.f_bsize != 4096)
		return 60;
	return 0;
}

/*
 * fuse_raw.h's serve loop with no handler answers INIT and a small tree:
 * stat, read, readlink, a missing name, readdir (plain and plus), statfs.
 */
TEST_F_TIMEOUT(raw, default_tree, 20)
{
	EXPECT_EQ(0, fuse_raw_call(&self->r, NULL, walk_tree, NULL, WAIT_MS));
	EXPECT_EQ(1, self->r.count[FUSE_INIT]);
	EXPECT_LE(1, self->r.count[FUSE_LOOKUP]);
	EXPECT_LE(1, self->r.count[FUSE_READ]);
	EXPECT_LE(1, self->r.count[FUSE_READDIR]);
	EXPECT_LE(1, self->r.count[FUSE_READLINK]);
	EXPECT_LE(1, self->r.count[FUSE_STATFS]);
}

TEST_F_TIMEOUT(raw, default_tree_readdirplus, 20)
{
	struct fuse_raw_init in = { .flags = FUSE_DO_READDIRPLUS };

	ASSERT_EQ(0, fuse_raw_init(&self->r, &in, WAIT_MS));
	if (!(self->r.flags & FUSE_DO_READDIRPLUS))
		SKIP(return, "no READDIRPLUS offered");
	EXPECT_EQ(0, fuse_raw_call(&self->r, NULL, walk_tree, NULL, WAIT_MS));
	EXPECT_LE(1, self->r.count[FUSE_READDIRPLUS]);
	EXPECT_EQ(0, self->r.count[FUSE_READDIR]);
}

/* leaves every LOOKUP unanswered */
static int hold_lookup(struct fuse_raw *r, const struct fuse_raw_req *q,
		       void *data)
{
	(void)r, (void)q, (void)data;
	return FUSE_RAW_STOP;
}

/*
 * fuse_raw_abort() (fusectl's abort file) ends a request the server holds:
 * the caller gets ECONNABORTED, the device reads ENODEV (with a buffer
 * large enough: the size check comes first).
 */
TEST_F_TIMEOUT(raw, abort_wakes_caller, 20)
{
	struct fuse_raw_ops ops = { .on[FUSE_LOOKUP] = hold_lookup };
	char dir[128], *buf = malloc(RAW_BUF);
	pid_t kid;
	int err;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	err = fuse_raw_conn_dir(&self->r, dir, sizeof(dir));
	if (err)
		SKIP(return, "no fusectl connection directory: %s", strerror(-err));
	kid = stat_child(self, "held");
	ASSERT_LT(0, kid);
	ASSERT_EQ(FUSE_RAW_STOP, fuse_raw_serve_one(&self->r, &ops, WAIT_MS));
	EXPECT_EQ(-ETIMEDOUT, reap(self, kid, 50)) TH_LOG("the caller did not wait");
	ASSERT_EQ(0, fuse_raw_abort(&self->r)) TH_LOG("%s/abort", dir);
	EXPECT_EQ(ECONNABORTED, reap(self, kid, WAIT_MS));
	EXPECT_EQ(-ENODEV, fuse_raw_read(self->r.fd, buf, RAW_BUF, WAIT_MS));
	free(buf);
}

/*
 * fuse_raw_notify(): the kernel's answer to a notification comes back as
 * the write's result: INVAL_INODE of the root (always known) is taken, of
 * a node it never saw refused with ENOENT, a short one EINVAL.
 */
TEST_F_TIMEOUT(raw, notify_inval_inode, 20)
{
	struct fuse_notify_inval_inode_out n = { .ino = FUSE_ROOT_ID };

	ASSERT_EQ(0, answer_init(self, RAW_MAX_WRITE, false));
	EXPECT_EQ(0, fuse_raw_notify(self->r.fd, FUSE_NOTIFY_INVAL_INODE, &n, sizeof(n)));
	n.ino = 12345;
	EXPECT_EQ(-ENOENT, fuse_raw_notify(self->r.fd, FUSE_NOTIFY_INVAL_INODE, &n,
					   sizeof(n)));
	EXPECT_EQ(-EINVAL, fuse_raw_notify(self->r.fd, FUSE_NOTIFY_INVAL_INODE, &n, 8));
}

TEST_HARNESS_MAIN
