// SPDX-License-Identifier: MIT
/*
 * kpaths_devfd_test - the /dev/fuse descriptors of a connection, who may use
 * them, and a server that holds requests:
 *   devfd.*   a mount served through the original fd and two clones
 *             (FUSE_DEV_IOC_CLONE), closed one by one in some order while
 *             a request waits in the queue: the others go on serving it,
 *             and only the last close ends the connection (the waiting
 *             caller gets ECONNABORTED, later ones ENOTCONN)
 *   unpriv.*  FUSE_DEV_IOC_BACKING_OPEN wants CAP_SYS_ADMIN in the initial
 *             user namespace: a thread without it and a process in a user
 *             namespace get EPERM, the privileged owner gets an id; ramfuse
 *             as such an unprivileged daemon (in a user namespace) with
 *             passthrough=auto serves without it and says so in -d, with
 *             passthrough=on it fails at start naming the cause
 *   held.*    ramfuse reads requests and never answers them (fault=drop)
 *             while keeping its fds: the callers wait, the mount is busy
 *             (umount returns EBUSY at once instead of blocking); an abort
 *             through fusectl ends every caller promptly with ECONNABORTED,
 *             the daemon exits, and the umount then succeeds
 *
 * devfd and unpriv use a raw connection (test/fuse_raw.h), so that the
 * test owns every device fd; held uses the real ramfuse binary.  Callers are
 * fork_clean()ed children (they hold no device fd); every device read is
 * preceded by a bounded poll, so a kernel that gets it wrong fails the test
 * instead of hanging it.
 */
#include "harness.h"
#include "fuse_util.h"
#include "fuse_abi.h"
#include "fuse_raw.h"
#include "kpaths.h"

#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 3000

/* ------------------------------------------------------------------ */
/* the raw server (test/fuse_raw.h)                                    */

/* Mounts r on a fresh connection and answers INIT (asking for
 * FUSE_PASSTHROUGH when passthrough and offered).  0, or -1 with why. */
static int raw_mount(struct fuse_raw *r, bool passthrough, char *why, size_t wlen)
{
	struct fuse_raw_init in = { .flags = passthrough ? FUSE_PASSTHROUGH : 0 };
	int err = fuse_raw_mount(r, NULL);

	if (err) {
		snprintf(why, wlen, "mount: %s", strerror(-err));
		return -1;
	}
	err = fuse_raw_init(r, &in, WAIT_MS);
	if (err) {
		snprintf(why, wlen, "INIT: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/* Reads fd until a STATFS comes; everything gets fuse_raw_default()'s
 * answer.  0, or -1 with why. */
static int serve_statfs(struct fuse_raw *r, int fd, char *why, size_t wlen)
{
	char *buf = malloc(r->bufsize);
	int err = -1;

	while (buf) {
		ssize_t n = fuse_raw_read(fd, buf, r->bufsize, WAIT_MS);
		const struct fuse_in_header *h = (const void *)buf;
		struct fuse_raw_req q = { .h = h, .arg = h + 1, .fd = fd };

		if (n < 0) {
			snprintf(why, wlen, "reading fd %d: %s", fd, strerror((int)-n));
			break;
		}
		q.arglen = (size_t)n - sizeof(*h);
		err = fuse_raw_default(r, &q);
		if (err)
			snprintf(why, wlen, "reply on fd %d: %s", fd, strerror(-err));
		if (err || h->opcode == FUSE_STATFS)
			break;
	}
	free(buf);
	return err ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* devfd: closing the fds of a connection one by one                   */

FIXTURE(devfd) {
	struct fuse_raw r;
	int fd[3];		/* the mount's fd, then two clones; -1 once closed */
	pid_t kids[NKIDS];
};

/* order: which fd (0 the mount's, 1 and 2 clones) closes first, second, last */
FIXTURE_VARIANT(devfd) { int order[3]; };
FIXTURE_VARIANT_ADD(devfd, original_first) { .order = { 0, 1, 2 } };
FIXTURE_VARIANT_ADD(devfd, clone_first) { .order = { 1, 0, 2 } };
FIXTURE_VARIANT_ADD(devfd, original_last) { .order = { 2, 1, 0 } };

FIXTURE_SETUP(devfd)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, raw_mount(&self->r, false, why, sizeof(why))) TH_LOG("%s", why);
	self->fd[0] = self->r.fd;
	for (int i = 1; i < 3; i++) {
		self->fd[i] = fuse_raw_clone(&self->r);
		ASSERT_LE(0, self->fd[i]) TH_LOG("FUSE_DEV_IOC_CLONE: %s", strerror(-self->fd[i]));
	}
}

FIXTURE_TEARDOWN(devfd)
{
	fuse_raw_teardown(&self->r);	/* aborts: frees any waiting kid */
	kill_kids(self->kids, 3000);
}

/* close fd i of the connection, and forget it in r (no double close) */
static void close_fd(FIXTURE_DATA(devfd) *self, int i)
{
	close(self->fd[i]);
	if (self->r.fd == self->fd[i])
		self->r.fd = -1;
	for (int c = 0; c < FUSE_RAW_MAX_CLONES; c++)
		if (self->r.clones[c] == self->fd[i])
			self->r.clones[c] = -1;
	self->fd[i] = -1;
}

/*
 * Each step: a caller's STATFS waits in the queue (every fd polls
 * readable), one fd is closed, and a remaining one reads and answers it;
 * the caller gets 0.  After the last close the waiting caller gets
 * ECONNABORTED and a new one ENOTCONN: the connection ended then, and
 * not before.
 */
TEST_F_TIMEOUT(devfd, last_close_ends, 30)
{
	char *dir = self->r.dir, why[256];
	pid_t kid;
	int rc;

	for (int step = 0; step < 3; step++) {
		int gone = variant->order[step];
		int next = step < 2 ? self->fd[variant->order[step + 1]] : -1;

		kid = start_kid(self->kids, KID_STATFS, dir);
		ASSERT_LT(0, kid);
		ASSERT_EQ(1, fuse_raw_wait_in(self->fd[gone], WAIT_MS, NULL))
			TH_LOG("step %d: the STATFS never reached fd %d", step, gone);
		close_fd(self, gone);
		if (next < 0)
			break;
		ASSERT_EQ(0, serve_statfs(&self->r, next, why, sizeof(why)))
			TH_LOG("step %d, fd %d closed: %s", step, gone, why);
		rc = reap(self->kids, kid, WAIT_MS);
		ASSERT_EQ(0, rc) TH_LOG("step %d: statfs after closing fd %d -> %s", step,
					gone, rc < 0 ? "still blocked" : strerror(rc));
	}
	rc = reap(self->kids, kid, WAIT_MS);
	ASSERT_NE(-1, rc) TH_LOG("the last fd is closed and the caller still waits");
	EXPECT_EQ(ECONNABORTED, rc) TH_LOG("waiting caller at the last close: %s", strerror(rc));
	kid = start_kid(self->kids, KID_STATFS, dir);
	ASSERT_LT(0, kid);
	rc = reap(self->kids, kid, WAIT_MS);
	EXPECT_EQ(ENOTCONN, rc) TH_LOG("statfs after the last close: %s",
				       rc < 0 ? "blocked" : strerror(rc));
	rc = umount2(dir, 0) ? errno : 0;
	EXPECT_EQ(0, rc) TH_LOG("umount: %s", strerror(rc));
	if (!rc)
		self->r.mounted = 0;
}

/* ------------------------------------------------------------------ */
/* unpriv: FUSE_DEV_IOC_BACKING_OPEN needs CAP_SYS_ADMIN               */

FIXTURE(unpriv) {
	struct fuse_raw r;
	struct ramfuse rf;
};

#define MSG_LEN 4096	/* a child's complaint, in shared memory */

FIXTURE_SETUP(unpriv)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(unpriv)
{
	fuse_raw_teardown(&self->r);
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

/* drop CAP_SYS_ADMIN from this thread's effective and permitted sets */
static int drop_sys_admin(void)
{
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
	struct { uint32_t effective, permitted, inheritable; } data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[0].effective &= ~(1u << 21);
	data[0].permitted &= ~(1u << 21);
	return (int)syscall(SYS_capset, &hdr, data);
}

/* Enters a new user namespace (uid and gid 0 mapped to ours) and, when
 * mnt, a new mount namespace: CAP_SYS_ADMIN there, none outside. */
static int enter_userns(bool mnt)
{
	static const char *const maps[][2] = {
		{ "/proc/self/setgroups", "deny" },
		{ "/proc/self/uid_map", "0 0 1" },
		{ "/proc/self/gid_map", "0 0 1" },
	};

	if (unshare(CLONE_NEWUSER | (mnt ? CLONE_NEWNS : 0)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (write_str(maps[i][0], maps[i][1]) < 0)
			return -1;
	return 0;
}

/* In a child: BACKING_OPEN of a memfd on fd after dropping CAP_SYS_ADMIN
 * (how 1) or in a user namespace (how 2); exits with its errno, 0 if it
 * got an id, 200 when the setup failed. */
static int backing_open_child(int fd, int how)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct fuse_backing_map map = { 0 };

		if ((how == 1 ? drop_sys_admin() : enter_userns(false)) < 0)
			_exit(200);
		map.fd = memfd_create("kdevfd", MFD_CLOEXEC);
		if (map.fd < 0)
			_exit(200);
		_exit(ioctl(fd, FUSE_DEV_IOC_BACKING_OPEN, &map) < 0 ? errno : 0);
	}
	return pid < 0 ? -1 : wait_child(pid, WAIT_MS);
}

/*
 * After an INIT with FUSE_PASSTHROUGH the owner of the fd registers a
 * backing file; the same fd used by a process without CAP_SYS_ADMIN, or
 * by one that has it only in its own user namespace, gets EPERM.
 */
TEST_F_TIMEOUT(unpriv, backing_open_eperm, 20)
{
	struct fuse_raw *r = &self->r;
	struct fuse_backing_map map = { 0 };
	char why[256];
	int id, rc;

	ASSERT_EQ(0, raw_mount(r, true, why, sizeof(why))) TH_LOG("%s", why);
	if (!(r->offered & FUSE_PASSTHROUGH))
		SKIP(return, "the kernel offers no FUSE_PASSTHROUGH (before 6.9, or "
		     "CONFIG_FUSE_PASSTHROUGH off)");
	rc = backing_open_child(r->fd, 1);
	EXPECT_EQ(EPERM, rc) TH_LOG("without CAP_SYS_ADMIN: %s", rc == 200 ?
				    "capset failed" : rc ? strerror(rc) : "got an id");
	rc = backing_open_child(r->fd, 2);
	EXPECT_EQ(EPERM, rc) TH_LOG("in a user namespace: %s", rc == 200 ?
				    "unshare failed" : rc ? strerror(rc) : "got an id");
	map.fd = memfd_create("kdevfd", MFD_CLOEXEC);
	ASSERT_LE(0, map.fd);
	id = ioctl(r->fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	ASSERT_LT(0, id) TH_LOG("the privileged owner: %s", strerror(errno));
	uint32_t uid = (uint32_t)id;
	EXPECT_EQ(0, ioctl(r->fd, FUSE_DEV_IOC_BACKING_CLOSE, &uid));
	close(map.fd);
}

#define CHILD_FAIL(...) do {						\
		snprintf(msg, MSG_LEN, __VA_ARGS__);			\
		_exit(1);						\
	} while (0)

/*
 * ramfuse started in a user namespace (its own mount namespace: root
 * there, nobody outside), as a foreground daemon with -d.  The kernel
 * offers passthrough, ramfuse's probe gets EPERM:
 *  passthrough=auto: it says so in -d, reports "passthrough 0", registers
 *    no backing file, and files work (written and read back through it);
 *  passthrough=on: it exits non-zero at start naming CAP_SYS_ADMIN, and
 *    leaves no mount behind.
 * On a kernel without passthrough both still hold, with the message that
 * the kernel does not offer it.
 */
TEST_F_TIMEOUT(unpriv, userns_daemon, 30)
{
	struct fuse_raw *r = &self->r;
	char why[256], *msg = mmap(NULL, MSG_LEN, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bool offered;
	pid_t pid;
	int rc;

	ASSERT_NE(MAP_FAILED, msg);
	ASSERT_EQ(0, raw_mount(r, false, why, sizeof(why))) TH_LOG("%s", why);
	offered = r->offered & FUSE_PASSTHROUGH;
	fuse_raw_teardown(r);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ramfuse rf = { 0 };
		const char *argv[8];
		char out[4096], log[16384], path[300], buf[6];
		int fd;

		if (enter_userns(true) < 0)
			CHILD_FAIL("user namespace: %s", strerror(errno));
		if (mount_ramfuse_fg(&rf, "-d", "passthrough=auto,threads=1"))
			CHILD_FAIL("passthrough=auto in a user namespace: %s", rf.err);
		snprintf(path, sizeof(path), "%s/f", rf.mnt);
		fd = open(path, O_CREAT | O_RDWR, 0644);
		if (fd < 0 || pwrite(fd, "hello", 5, 0) != 5 ||
		    pread(fd, buf, 5, 0) != 5 || memcmp(buf, "hello", 5))
			CHILD_FAIL("file I/O: %s", strerror(errno));
		close(fd);
		if (stats_refresh(&rf))
			CHILD_FAIL("stats: %s", rf.err);
		if (stats_get(&rf, "passthrough") != 0 || stats_get(&rf, "backing.open") != 0)
			CHILD_FAIL("passthrough %lld, backing.open %lld: expected 0, 0",
				   stats_get(&rf, "passthrough"), stats_get(&rf, "backing.open"));
		if (umount_ramfuse(&rf))
			CHILD_FAIL("umount: %s", rf.err);
		rf_log(&rf, log, sizeof(log));
		if (offered && !strstr(log, "passthrough: FUSE_DEV_IOC_BACKING_OPEN: "
				       "Operation not permitted"))
			CHILD_FAIL("no -d line about the refused BACKING_OPEN: %.3000s", log);
		rf_cleanup(&rf);
		if (rf_prepare(&rf))
			CHILD_FAIL("%s", rf.err);
		argv[0] = "ramfuse";
		argv[1] = "-f";
		argv[2] = "-o";
		argv[3] = "passthrough=on";
		argv[4] = rf.mnt;
		argv[5] = NULL;
		rc = rf_run(ramfuse_path(), argv, 10000, out, sizeof(out));
		if (rc <= 0 || rc >= 128)
			CHILD_FAIL("passthrough=on in a user namespace: exit %d: %.3000s", rc, out);
		if (!strstr(out, "passthrough=on") ||
		    !strstr(out, offered ? "CAP_SYS_ADMIN" : "does not offer"))
			CHILD_FAIL("passthrough=on: the message does not say why: %.3000s", out);
		if (is_mounted(rf.mnt))
			CHILD_FAIL("passthrough=on failed but left %s mounted", rf.mnt);
		rf_cleanup(&rf);
		_exit(0);
	}
	rc = wait_child(pid, 25000);
	EXPECT_EQ(0, rc) TH_LOG("%s", rc < 0 ? "the child hangs" : msg);
	munmap(msg, MSG_LEN);
}

/* ------------------------------------------------------------------ */
/* held: a server that never answers, aborted through fusectl          */

FIXTURE(held) {
	KP_DATA;
	char conn[200];		/* its fusectl directory, once known */
};
FIXTURE_SETUP(held)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
}
FIXTURE_TEARDOWN(held)
{
	char p[300];

	/* callers in a dropped request wait until the connection ends */
	snprintf(p, sizeof(p), "%s/abort", self->conn);
	if (self->conn[0] && self->rf.mounted)
		write_str(p, "1");
	teardown(_metadata, &self->rf, self->kids, &self->fusectl_ours);
}
FIXTURE_VARIANT(held) { int threads; };
FIXTURE_VARIANT_ADD(held, threads1) { .threads = 1 };
FIXTURE_VARIANT_ADD(held, threads4) { .threads = 4 };

TEST_F_TIMEOUT(held, abort_ends_callers, 30)
{
	struct ramfuse *rf = &self->rf;
	char *dir = self->conn, why[256], p[300];
	pid_t kid[3], um;
	long long t0, took;
	int rc;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, "fault=STATFS:drop,fault=MKDIR:drop"))
		TH_LOG("%s", rf->err);
	if (conn_dir(rf, &self->fusectl_ours, dir, sizeof(self->conn), why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(p, sizeof(p), "%s/held", rf->mnt);
	kid[0] = start_kid(self->kids, KID_STATFS, rf->mnt);
	kid[1] = start_kid(self->kids, KID_MKDIR, p);
	kid[2] = start_kid(self->kids, KID_STATFS, rf->mnt);
	for (int i = 0; i < 3; i++) {
		ASSERT_LT(0, kid[i]);
	}
	ASSERT_LE(2, stats_wait_ge(rf, "op.STATFS", 2, WAIT_MS));
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, WAIT_MS));
	ASSERT_LE(3, stats_wait_ge(rf, "fault.hits", 3, WAIT_MS));
	snprintf(p, sizeof(p), "%s/waiting", dir);
	EXPECT_LE(3, read_num(p)) TH_LOG("fusectl waiting %lld", read_num(p));
	sleep_ms(200);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(kid_running(kid[i])) TH_LOG("caller %d ended unanswered", i);
	}
	/* an unmount now must not wait for them: the mount is busy */
	um = fork_clean();
	if (um == 0)
		_exit(umount2(rf->mnt, 0) ? errno : 0);
	ASSERT_LT(0, um);
	rc = wait_child(um, WAIT_MS);
	ASSERT_NE(-1, rc) TH_LOG("umount blocked by the held requests");
	EXPECT_EQ(EBUSY, rc) TH_LOG("umount with callers waiting: %s", strerror(rc));

	snprintf(p, sizeof(p), "%s/abort", dir);
	t0 = now_ms();
	ASSERT_EQ(0, write_str(p, "1")) TH_LOG("%s: %s", p, strerror(errno));
	for (int i = 0; i < 3; i++) {
		rc = reap(self->kids, kid[i], WAIT_MS);
		took = now_ms() - t0;
		ASSERT_NE(-1, rc) TH_LOG("caller %d still waits %lld ms after the abort", i, took);
		EXPECT_EQ(ECONNABORTED, rc) TH_LOG("caller %d: %s", i, strerror(rc));
	}
	ASSERT_EQ(0, rf_wait_exit(rf, WAIT_MS)) TH_LOG("the daemon outlived the abort");
	EXPECT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount after the abort: %s", strerror(errno));
	rf->mounted = 0;
}

TEST_HARNESS_MAIN
