// SPDX-License-Identifier: MIT
/*
 * control_test - the control socket (-o control=PATH) and its client
 * `ramfuse ctl`, against the kernel: every notification is shown to have
 * been acted on (the stats file counts what the kernel sent next), live
 * faults change behaviour while the filesystem runs, and the socket stays
 * safe (one uid, bounded clients, bad commands answered, never a hang).
 *
 *   notify.*   INVAL_INODE, INVAL_ENTRY, DELETE, STORE, RETRIEVE, RESEND,
 *              POLL, INC_EPOCH, PRUNE (the last three: kernels with them)
 *   control.*  finding the socket from the mountpoint without a request,
 *              fresh stats, errors, another uid, a silent client, the
 *              socket file's safety
 *
 * Variants: threads=1 and threads=2.  Long cache times (30 s) keep what
 * the kernel caches cached until a notification says otherwise;
 * passthrough=off puts file data in the page cache.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>

#define OPTS "passthrough=off,entry_timeout=30,attr_timeout=30"

/* Runs `ramfuse ctl TARGET args...`: exit code, output (stdout+stderr). */
static int ctl_argv(const char *target, const char *const *args, char *out, size_t len)
{
	const char *argv[16] = { "ramfuse", "ctl", target };
	int n = 3;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return rf_run(ramfuse_path(), argv, 20000, out, len);
}

#define CTL(target, out, ...) \
	ctl_argv(target, (const char *const[]){ __VA_ARGS__, NULL }, out, sizeof(out))

/* The socket lives in a directory of its own (dir, for the teardown):
 * the mount's base directory is made by the mount itself. */
static int mount_ctl(struct ramfuse *rf, char *dir, char *sock, int threads, const char *extra)
{
	char o[512];

	snprintf(dir, 64, "/tmp/ramfuse-ctl.XXXXXX");
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		return -1;
	}
	snprintf(sock, RF_PATH, "%s/ctl", dir);
	snprintf(o, sizeof(o), "threads=%d,control=%s,%s%s%s", threads, sock, OPTS,
		 extra[0] ? "," : "", extra);
	return mount_ramfuse(rf, o);
}

static void remove_dir(char *dir, const char *sock)
{
	if (!dir[0])
		return;
	unlink(sock);
	rmdir(dir);
	dir[0] = 0;
}

static long long refreshed(struct __test_metadata *_metadata, struct ramfuse *rf,
			   const char *name)
{
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	return stats_get(rf, name);
}

static long long getattrs(struct __test_metadata *_metadata, struct ramfuse *rf)
{
	return refreshed(_metadata, rf, "op.GETATTR") + stats_get(rf, "op.STATX");
}

static int put_file(const char *mnt, const char *name, const char *data)
{
	char p[RF_PATH + 64];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

/* The file's first bytes as a string, read through a fresh open. */
static int get_file(const char *mnt, const char *name, char *buf, size_t len)
{
	char p[RF_PATH + 64];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static int stat_at(const char *mnt, const char *name)
{
	char p[RF_PATH + 64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	return stat(p, &st);
}

/* The negotiated protocol minor, for skips. */
static int proto_minor(struct ramfuse *rf)
{
	char v[32];

	if (stats_get_str(rf, "proto", v, sizeof(v)))
		return -1;
	return atoi(strchr(v, '.') ? strchr(v, '.') + 1 : v);
}

/* ------------------------------------------------------------------ */
/* notify: each notification, and what the kernel did with it          */

/* A mount with a control socket (dir holds it), variants threads=1 and 2. */
#define CTL_FIXTURE(fname)						\
	FIXTURE(fname) {						\
		struct ramfuse rf;					\
		char dir[64], sock[RF_PATH];				\
		pid_t kid;						\
	};								\
	FIXTURE_VARIANT(fname) { int threads; };			\
	FIXTURE_VARIANT_ADD(fname, threads1) { .threads = 1 };		\
	FIXTURE_VARIANT_ADD(fname, threads2) { .threads = 2 };		\
	FIXTURE_SETUP(fname)						\
	{								\
		char why[256];						\
									\
		if (rf_can_mount(why, sizeof(why)))			\
			SKIP(return, "%s", why);			\
		caches_keep();						\
		ASSERT_EQ(0, mount_ctl(&self->rf, self->dir, self->sock,	\
				       variant->threads, ""))		\
			TH_LOG("%s", self->rf.err);			\
	}								\
	FIXTURE_TEARDOWN(fname)						\
	{								\
		if (self->kid > 0) {					\
			kill(self->kid, SIGKILL);			\
			waitpid(self->kid, NULL, 0);			\
			self->kid = 0;					\
		}							\
		EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err); \
		remove_dir(self->dir, self->sock);			\
	}

CTL_FIXTURE(notify)

/*
 * INVAL_INODE with a range drops the file's cached pages (the next read
 * sends READ again) and its attributes (the next stat sends GETATTR);
 * with OFF -1 only the attributes go, the pages stay.
 */
TEST_F(notify, inval_inode)
{
	struct ramfuse *rf = &self->rf;
	char out[256], buf[64];
	long long reads, attrs;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "cached bytes"));
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	reads = refreshed(_metadata, rf, "op.READ");
	attrs = getattrs(_metadata, rf);
	/* cached: neither a read nor a stat reaches the daemon */
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	ASSERT_STREQ("cached bytes", buf);
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	ASSERT_EQ(reads, refreshed(_metadata, rf, "op.READ")) TH_LOG("the read was not cached");
	ASSERT_EQ(attrs, getattrs(_metadata, rf)) TH_LOG("the attributes were not cached");

	/* attributes only */
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_inode", "/f", "-1", "0")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_EQ(reads, refreshed(_metadata, rf, "op.READ"));
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	EXPECT_LT(attrs, getattrs(_metadata, rf)) TH_LOG("no GETATTR after INVAL_INODE -1");
	attrs = getattrs(_metadata, rf);

	/* everything */
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_inode", "/f")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("cached bytes", buf);
	EXPECT_LT(reads, refreshed(_metadata, rf, "op.READ")) TH_LOG("no READ after INVAL_INODE");
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	EXPECT_LT(attrs, getattrs(_metadata, rf)) TH_LOG("no GETATTR after INVAL_INODE");
}

/* The kernel's own answers: an inode it never saw, a bad range. */
TEST_F(notify, inval_inode_unknown)
{
	char out[256];

	/* a nodeid the daemon never handed out */
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_inode", "123456")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOENT\n", out);
	ASSERT_EQ(1, CTL(self->sock, out, "notify", "inval_inode", "/missing"));
	EXPECT_NE(NULL, strstr(out, "/missing: No such file")) TH_LOG("%s", out);
}

/* INVAL_ENTRY drops a cached name: the next stat sends LOOKUP. */
TEST_F(notify, inval_entry)
{
	struct ramfuse *rf = &self->rf;
	char out[256], p[RF_PATH + 16];
	long long lookups;

	snprintf(p, sizeof(p), "%s/d", rf->mnt);
	ASSERT_EQ(0, mkdir(p, 0755));
	ASSERT_EQ(0, put_file(rf->mnt, "d/x", "x"));
	ASSERT_EQ(0, stat_at(rf->mnt, "d/x"));
	lookups = refreshed(_metadata, rf, "op.LOOKUP");
	ASSERT_EQ(0, stat_at(rf->mnt, "d/x"));
	ASSERT_EQ(lookups, refreshed(_metadata, rf, "op.LOOKUP")) TH_LOG("the name was not cached");

	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_entry", "/d", "x")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, stat_at(rf->mnt, "d/x"));
	EXPECT_EQ(lookups + 1, refreshed(_metadata, rf, "op.LOOKUP"));

	/* a name the kernel does not hold, a parent that is no directory */
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_entry", "/d", "nothere")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOENT\n", out);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_entry", "/d/x", "y")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOTDIR\n", out);
}

/*
 * DELETE tells the kernel a name went away: the dentry is dropped (next
 * stat: LOOKUP), and the inode it pointed to loses its links in the
 * kernel's eyes until the daemon's LOOKUP answer says otherwise.
 */
TEST_F(notify, delete)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	long long lookups;

	ASSERT_EQ(0, put_file(rf->mnt, "gone", "x"));
	ASSERT_EQ(0, stat_at(rf->mnt, "gone"));
	lookups = refreshed(_metadata, rf, "op.LOOKUP");
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "delete", "/", "gone")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, stat_at(rf->mnt, "gone"));
	EXPECT_EQ(lookups + 1, refreshed(_metadata, rf, "op.LOOKUP"));
	/* the dentry is gone now: a second one finds nothing */
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "delete", "/", "nothere")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOENT\n", out);
	/* a child nodeid that is not the one the name holds */
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "delete", "/", "gone", "1")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOENT\n", out);
}

/*
 * STORE writes into the page cache: a read then returns the stored bytes
 * with no READ sent, though the daemon still holds the old ones (which
 * an INVAL_INODE brings back).  A page is made up to date only when the
 * store covers it whole or up to the end of the file.
 */
TEST_F(notify, store)
{
	struct ramfuse *rf = &self->rf;
	char out[256], buf[64];
	long long reads;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "old data"));
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	reads = refreshed(_metadata, rf, "op.READ");
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "store", "/f", "0", "NEW DATA")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("NEW DATA", buf);
	EXPECT_EQ(reads, refreshed(_metadata, rf, "op.READ")) TH_LOG("a READ was sent");

	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_inode", "/f")) TH_LOG("%s", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("old data", buf);
	EXPECT_LT(reads, refreshed(_metadata, rf, "op.READ"));

	/* bytes with spaces, newlines and % travel escaped */
	ASSERT_EQ(0, put_file(rf->mnt, "g", "12345678"));
	ASSERT_EQ(0, stat_at(rf->mnt, "g"));
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "store", "/g", "0", "a b\n%c\t!")) TH_LOG("%s", out);
	ASSERT_EQ(0, get_file(rf->mnt, "g", buf, sizeof(buf)));
	EXPECT_STREQ("a b\n%c\t!", buf);
}

/* STORE from a file (@FILE), and the kernel's answer for an unknown inode. */
TEST_F(notify, store_file)
{
	struct ramfuse *rf = &self->rf;
	char out[256], buf[64], src[RF_PATH + 16], arg[RF_PATH + 32];
	int fd;

	snprintf(src, sizeof(src), "%s/data", rf->base);
	fd = open(src, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(6, write(fd, "FROM@F", 6));
	close(fd);
	ASSERT_EQ(0, put_file(rf->mnt, "f", "abcdef"));
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	snprintf(arg, sizeof(arg), "@%s", src);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "store", "/f", "0", arg)) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("FROM@F", buf);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "store", "999999", "0", "x")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOENT\n", out);
}

/*
 * RETRIEVE asks the kernel for what its page cache holds: the answer
 * comes back as a NOTIFY_REPLY request, which a worker hands to the
 * waiting command.  Stored bytes the daemon never had prove it is the
 * cache speaking; after INVAL_INODE the cache is empty.
 */
TEST_F(notify, retrieve)
{
	struct ramfuse *rf = &self->rf;
	char out[256], buf[64];

	ASSERT_EQ(0, put_file(rf->mnt, "f", "daemon's"));
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "retrieve", "/f", "0", "4096")) TH_LOG("%s", out);
	EXPECT_STREQ("0\ndaemon's\n", out);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "store", "/f", "0", "kernel's")) TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "retrieve", "/f", "2", "3")) TH_LOG("%s", out);
	EXPECT_STREQ("0\nrne\n", out);
	EXPECT_LE(2, refreshed(_metadata, rf, "op.NOTIFY_REPLY"));

	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_inode", "/f")) TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "retrieve", "/f", "0", "4096")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n\n", out) TH_LOG("the cache still held pages");
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "retrieve", "999999", "0", "1")) TH_LOG("%s", out);
	EXPECT_STREQ("ENOENT\n", out);
}

/*
 * RESEND (7.40, Linux 6.9): the kernel puts the requests the daemon read
 * but did not answer back in its queue, marked with FUSE_UNIQUE_RESEND.
 * A STATFS dropped by a fault (count=1) is read again and answered, so
 * the blocked statfs(2) returns.
 */
TEST_F_TIMEOUT(notify, resend, 40)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	int minor, status;
	pid_t pid;

	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	minor = proto_minor(rf);
	if (minor < 40)
		SKIP(return, "FUSE protocol 7.%d: no FUSE_NOTIFY_RESEND before 7.40 (Linux 6.9)", minor);
	if (rf_on_ring(rf))
		SKIP(return, "FUSE_NOTIFY_RESEND resends only requests read from /dev/fuse, "
		     "not those on io_uring queues");
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "STATFS:drop:count=1")) TH_LOG("%s", out);
	pid = fork_clean();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct statfs sf;

		_exit(statfs(rf->mnt, &sf) == 0 ? 0 : 1);
	}
	self->kid = pid; /* fixture memory is shared: the parent's alone */
	ASSERT_LE(1, stats_wait_ge(rf, "fault.hits", 1, 10000)) TH_LOG("STATFS never dropped");
	ASSERT_EQ(0, waitpid(self->kid, &status, WNOHANG)) TH_LOG("statfs returned unanswered");
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "resend")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, wait_pid_gone(self->kid, 10000)) TH_LOG("statfs still blocked after RESEND");
	ASSERT_EQ(self->kid, waitpid(self->kid, &status, 0));
	self->kid = 0;
	EXPECT_EQ(0, status);
	EXPECT_EQ(2, refreshed(_metadata, rf, "op.STATFS"));
}

/* POLL wakes pollers of a handle; with none the kernel still says 0. */
TEST_F(notify, poll)
{
	char out[256];

	ASSERT_EQ(0, CTL(self->sock, out, "notify", "poll", "7")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
}

/* INC_EPOCH (7.44): every cached name is stale, the next stat looks up. */
TEST_F(notify, inc_epoch)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	long long lookups;
	int minor;

	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	minor = proto_minor(rf);
	if (minor < 44)
		SKIP(return, "FUSE protocol 7.%d: no FUSE_NOTIFY_INC_EPOCH before 7.44", minor);
	ASSERT_EQ(0, put_file(rf->mnt, "f", "x"));
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	lookups = refreshed(_metadata, rf, "op.LOOKUP");
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	ASSERT_EQ(lookups, refreshed(_metadata, rf, "op.LOOKUP"));
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inc_epoch")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	EXPECT_EQ(lookups + 1, refreshed(_metadata, rf, "op.LOOKUP"));
}

/* PRUNE (7.45): unused inodes are dropped, and the kernel sends FORGET. */
TEST_F(notify, prune)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	long long forgets;
	int minor;

	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	minor = proto_minor(rf);
	if (minor < 45)
		SKIP(return, "FUSE protocol 7.%d: no FUSE_NOTIFY_PRUNE before 7.45", minor);
	ASSERT_EQ(0, put_file(rf->mnt, "f", "x"));
	ASSERT_EQ(0, stat_at(rf->mnt, "f"));
	forgets = refreshed(_metadata, rf, "op.FORGET") + stats_get(rf, "op.BATCH_FORGET");
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "prune", "/f")) TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
	EXPECT_LT(forgets, stats_wait_ge(rf, "op.FORGET", forgets + 1, 5000) +
		  stats_get(rf, "op.BATCH_FORGET")) TH_LOG("no FORGET after PRUNE");
}

/* ------------------------------------------------------------------ */
/* control: the socket itself                                           */

FIXTURE(control) {
	struct ramfuse rf, other;
	char dir[64], sock[RF_PATH];
	pid_t kid;
	int fd;
};

FIXTURE_SETUP(control)
{
	char why[256];

	self->fd = -1;
	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	caches_keep();
	ASSERT_EQ(0, mount_ctl(&self->rf, self->dir, self->sock, 2, "attr_timeout=0"))
		TH_LOG("%s", self->rf.err);
}

FIXTURE_TEARDOWN(control)
{
	if (self->kid > 0) {
		kill(self->kid, SIGKILL);
		waitpid(self->kid, NULL, 0);
		self->kid = 0;
	}
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_EQ(0, rf_cleanup(&self->other)) TH_LOG("%s", self->other.err);
	remove_dir(self->dir, self->sock);
}

static long long line_value(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

/*
 * `ramfuse ctl MOUNTPOINT` finds the socket through the record the daemon
 * made under /run/ramfuse for the mount's st_dev, and gets there without
 * a request to the filesystem: with attr_timeout=0 a plain stat of the
 * mountpoint would send GETATTR; two ctl calls in a row see none between.
 * `stats` is fresh: a mkdir shows at once, no SIGUSR1 needed.
 */
TEST_F(control, by_mountpoint_no_request)
{
	struct ramfuse *rf = &self->rf;
	static char a[16384], b[16384];
	char p[RF_PATH + 16];
	struct stat st;

	ASSERT_EQ(0, CTL(rf->mnt, a, "stats")) TH_LOG("%s", a);
	ASSERT_EQ(0, CTL(rf->mnt, b, "stats")) TH_LOG("%s", b);
	ASSERT_LE(0, line_value(a, "op.GETATTR")) TH_LOG("%s", a);
	EXPECT_EQ(line_value(a, "op.GETATTR"), line_value(b, "op.GETATTR"));
	EXPECT_EQ(line_value(a, "op.LOOKUP"), line_value(b, "op.LOOKUP"));
	EXPECT_EQ(line_value(a, "seq") + 1, line_value(b, "seq"));
	/* while a stat does send one (so the comparison above means something) */
	ASSERT_EQ(0, stat(rf->mnt, &st));
	ASSERT_EQ(0, CTL(rf->mnt, b, "stats")) TH_LOG("%s", b);
	EXPECT_LT(line_value(a, "op.GETATTR"), line_value(b, "op.GETATTR"));

	snprintf(p, sizeof(p), "%s/d", rf->mnt);
	ASSERT_EQ(0, mkdir(p, 0755));
	ASSERT_EQ(0, CTL(self->sock, b, "stats")) TH_LOG("%s", b);
	EXPECT_EQ(line_value(a, "op.MKDIR") + 1, line_value(b, "op.MKDIR"));
}

/*
 * Bad input gets a clear error and the right exit status (1 error,
 * 2 usage), and the daemon keeps serving, control and files alike.
 */
TEST_F(control, errors)
{
	struct ramfuse *rf = &self->rf;
	char out[512];

	EXPECT_EQ(1, CTL(self->sock, out, "bogus"));
	EXPECT_NE(NULL, strstr(out, "error: unknown command 'bogus'")) TH_LOG("%s", out);
	EXPECT_EQ(1, CTL(self->sock, out, "notify", "frobnicate"));
	EXPECT_NE(NULL, strstr(out, "unknown command 'notify frobnicate'")) TH_LOG("%s", out);
	EXPECT_EQ(2, CTL(self->sock, out, "notify", "store", "/f"));
	EXPECT_NE(NULL, strstr(out, "usage: notify store PATH OFF DATA")) TH_LOG("%s", out);
	EXPECT_EQ(1, CTL(self->sock, out, "notify", "inval_inode", "relative"));
	EXPECT_NE(NULL, strstr(out, "starts with /")) TH_LOG("%s", out);
	EXPECT_EQ(1, CTL(self->sock, out, "notify", "retrieve", "/", "0", "99999999"));
	EXPECT_NE(NULL, strstr(out, "bad number")) TH_LOG("%s", out);
	EXPECT_EQ(1, CTL(self->sock, out, "notify", "inval_inode", "/", "x", "1"));
	EXPECT_EQ(1, CTL(self->sock, out, "fault", "add", "NOSUCHOP:drop"));
	EXPECT_NE(NULL, strstr(out, "unknown opcode")) TH_LOG("%s", out);
	EXPECT_EQ(1, CTL(self->sock, out, "fault", "del", "42"));
	EXPECT_EQ(2, ctl_argv(self->sock, (const char *const[]){ NULL }, out, sizeof(out)));
	EXPECT_EQ(1, CTL("/nonexistent/socket", out, "stats"));
	/* still serving */
	EXPECT_EQ(0, CTL(self->sock, out, "help"));
	EXPECT_NE(NULL, strstr(out, "notify retrieve PATH OFF LEN")) TH_LOG("%s", out);
	EXPECT_EQ(0, put_file(rf->mnt, "f", "still here"));
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n;

	while (have + 1 < len && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = 0;
	return (ssize_t)have;
}

/*
 * Only the daemon's uid: the socket is 0600, so another uid cannot even
 * connect; and with the file's mode opened up, the daemon's SO_PEERCRED
 * check still refuses it.
 */
TEST_F(control, other_uid_refused)
{
	struct stat st;
	char out[256];
	int status;
	pid_t pid;

	ASSERT_EQ(0, stat(self->sock, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	for (int open_mode = 0; open_mode < 2; open_mode++) {
		if (open_mode) {
			ASSERT_EQ(0, chmod(self->dir, 0711));
			ASSERT_EQ(0, chmod(self->sock, 0666));
		}
		pid = fork_clean();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			char buf[256];
			int fd;

			if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
				_exit(3);
			fd = raw_connect(self->sock);
			if (fd < 0)
				_exit(errno == EACCES ? 10 : 4);
			/* the daemon may refuse and hang up before this write:
			 * EPIPE then, and the refusal is still there to read */
			signal(SIGPIPE, SIG_IGN);
			if (write(fd, "stats\n", 6) != 6 && errno != EPIPE)
				_exit(5);
			read_all(fd, buf, sizeof(buf));
			_exit(strstr(buf, "error: permission denied") ? 11 : 6);
		}
		self->kid = pid;
		ASSERT_EQ(self->kid, waitpid(self->kid, &status, 0));
		self->kid = 0;
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(open_mode ? 11 : 10, WEXITSTATUS(status));
	}
	EXPECT_EQ(0, CTL(self->sock, out, "notify", "poll")) TH_LOG("%s", out);
}

/*
 * A client that connects and says nothing holds no worker: the file
 * system answers meanwhile, and the silent one is told off after 2 s;
 * an overlong line is refused.  Control then still answers.
 */
TEST_F(control, silent_and_long_clients)
{
	struct ramfuse *rf = &self->rf;
	static char big[300 * 1024];
	char out[256], buf[64];

	self->fd = raw_connect(self->sock);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, put_file(rf->mnt, "f", "served"));
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("served", buf);
	ASSERT_LT(0, read_all(self->fd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "error: no command line")) TH_LOG("%s", out);
	close(self->fd);

	self->fd = raw_connect(self->sock);
	ASSERT_LE(0, self->fd);
	memset(big, 'a', sizeof(big));
	/* the daemon stops reading at its limit and answers */
	for (size_t off = 0; off < sizeof(big);) {
		ssize_t n = send(self->fd, big + off, sizeof(big) - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(self->fd, SHUT_WR);
	ASSERT_LT(0, read_all(self->fd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "error: command line too long")) TH_LOG("%s", out);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, CTL(self->sock, out, "notify", "poll")) TH_LOG("%s", out);
}

/*
 * The socket file: never replaces what is not a socket, nor a socket a
 * live daemon listens on; a dead daemon's socket is taken over.  The
 * daemon removes its socket and its record when it ends.
 */
TEST_F(control, socket_file_safety)
{
	struct ramfuse *rf = &self->rf, *other = &self->other;
	char out[1024], o[RF_PATH + 64], file[RF_PATH + 16], rec[64];
	struct stat st;
	int fd;

	/* a live daemon's socket */
	snprintf(o, sizeof(o), "control=%s", self->sock);
	EXPECT_NE(0, mount_ramfuse(other, o));
	rf_log(other, out, sizeof(out));
	EXPECT_NE(NULL, strstr(out, "another daemon listens there")) TH_LOG("%s", out);
	rf_cleanup(other);

	/* a regular file */
	snprintf(file, sizeof(file), "%s/plain", rf->base);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, write(fd, "keep", 4));
	close(fd);
	snprintf(o, sizeof(o), "control=%s", file);
	EXPECT_NE(0, mount_ramfuse(other, o));
	rf_log(other, out, sizeof(out));
	EXPECT_NE(NULL, strstr(out, "exists and is not a socket")) TH_LOG("%s", out);
	rf_cleanup(other);
	ASSERT_EQ(0, stat(file, &st));
	EXPECT_EQ(4, st.st_size);

	/* the daemon ends: socket and record go */
	ASSERT_EQ(0, CTL(rf->mnt, out, "stats")) TH_LOG("%s", out);
	ASSERT_EQ(0, stat(rf->mnt, &st));
	snprintf(rec, sizeof(rec), "/run/ramfuse/%u:%u", major(st.st_dev), minor(st.st_dev));
	ASSERT_EQ(0, lstat(rec, &st)) TH_LOG("no record %s", rec);
	ASSERT_EQ(0, umount_ramfuse(rf)) TH_LOG("%s", rf->err);
	EXPECT_NE(0, lstat(self->sock, &st));
	EXPECT_NE(0, lstat(rec, &st)) TH_LOG("record %s left behind", rec);

	/* a dead daemon's socket is replaced */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memcpy(sa.sun_path, self->sock, strlen(self->sock) + 1);
		ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
		close(fd); /* bound, never listened: nobody answers */
	}
	snprintf(o, sizeof(o), "control=%s", self->sock);
	ASSERT_EQ(0, mount_ramfuse(other, o)) TH_LOG("%s", other->err);
	EXPECT_EQ(0, CTL(self->sock, out, "notify", "poll")) TH_LOG("%s", out);
}

/* ------------------------------------------------------------------ */
/* faults: changed while the filesystem runs; replies edited on purpose */

CTL_FIXTURE(faults)

/* the file's inode number, which ramfuse makes its nodeid */
static unsigned long long ino_of(const char *mnt, const char *name)
{
	char p[RF_PATH + 64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	return stat(p, &st) ? 0 : (unsigned long long)st.st_ino;
}

/* stat after INVAL_INODE -1: the attributes come from a fresh GETATTR */
static int stat_fresh(const char *sock, const char *mnt, const char *name, struct stat *st)
{
	char p[RF_PATH + 64], out[64], path[80];

	snprintf(path, sizeof(path), "/%s", name);
	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	for (int tries = 0;; tries++) {
		if (CTL(sock, out, "notify", "inval_inode", path, "-1", "0"))
			return -2;
		if (!strcmp(out, "0\n"))
			break;
		/* The kernel forgot the inode: a test running beside this one
		 * dropped the caches.  A LOOKUP brings it back. */
		if (strcmp(out, "ENOENT\n") || tries == 3)
			return -2;
		stat(p, st);
	}
	return stat(p, st);
}

/*
 * fault add/list/del/clear change what the daemon does at once: an error
 * for one inode's GETATTR, a count, the hits, and back to normal.
 */
TEST_F(faults, live_add_del_clear)
{
	struct ramfuse *rf = &self->rf;
	char out[512], spec[96], want[128];
	unsigned long long ino;
	struct stat st;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "x"));
	ino = ino_of(rf->mnt, "f");
	ASSERT_NE(0, ino);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "list"));
	EXPECT_STREQ("", out);
	snprintf(spec, sizeof(spec), "GETATTR:error=EIO:node=%llu", ino);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", spec)) TH_LOG("%s", out);
	EXPECT_STREQ("1\n", out);
	EXPECT_EQ(-1, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(0, stat_fresh(self->sock, rf->mnt, ".", &st)) TH_LOG("another inode failed");
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "list"));
	snprintf(want, sizeof(want), "1 %s hits=1\n", spec);
	EXPECT_STREQ(want, out);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "del", "1")) TH_LOG("%s", out);
	EXPECT_EQ(0, stat_fresh(self->sock, rf->mnt, "f", &st));

	/* count=2: two failures, then served */
	snprintf(spec, sizeof(spec), "GETATTR:error=ENOSPC:node=%llu:count=2", ino);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", spec)) TH_LOG("%s", out);
	EXPECT_STREQ("2\n", out);
	EXPECT_EQ(-1, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(0, stat_fresh(self->sock, rf->mnt, "f", &st));
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "clear"));
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "list"));
	EXPECT_STREQ("", out);
	EXPECT_EQ(3, refreshed(_metadata, rf, "fault.hits")) TH_LOG("deleted faults' hits count");
}

/* after=N takes the Nth matching request and those after it. */
TEST_F(faults, after)
{
	struct ramfuse *rf = &self->rf;
	char out[256], spec[96];
	struct stat st;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "x"));
	snprintf(spec, sizeof(spec), "GETATTR:error=EACCES:node=%llu:after=3", ino_of(rf->mnt, "f"));
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", spec)) TH_LOG("%s", out);
	EXPECT_EQ(0, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(0, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(-1, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, stat_fresh(self->sock, rf->mnt, "f", &st));
}

/* pid=N: only that process's requests. */
TEST_F(faults, pid)
{
	struct ramfuse *rf = &self->rf;
	char out[256], spec[96], name[RF_PATH + 8], go[96];
	int fd, status;
	pid_t pid;

	snprintf(go, sizeof(go), "%s/go", self->dir);
	pid = fork_clean();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct stat st;

		/* wait (outside the mount) for the fault to be in place */
		for (int i = 0; i < 1000 && access(go, F_OK); i++)
			usleep(10000);
		snprintf(name, sizeof(name), "%s/x", rf->mnt);
		_exit(stat(name, &st) < 0 && errno == EPERM ? 0 : 1);
	}
	self->kid = pid;
	snprintf(spec, sizeof(spec), "LOOKUP:error=EPERM:pid=%d", (int)pid);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", spec)) TH_LOG("%s", out);
	EXPECT_EQ(-1, stat_at(rf->mnt, "y"));
	EXPECT_EQ(ENOENT, errno) TH_LOG("our own LOOKUP was failed");
	fd = open(go, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	unlink(go);
	self->kid = 0;
	EXPECT_EQ(0, status) TH_LOG("the child's LOOKUP was not failed with EPERM");
}

/*
 * fuse_entry_out: a LOOKUP answered with another size is believed; with
 * the file type 0170000 (none) the kernel refuses the entry: EIO.
 */
TEST_F(faults, edit_entry_out)
{
	struct ramfuse *rf = &self->rf;
	char out[256], p[RF_PATH + 16];
	struct stat st;

	ASSERT_EQ(0, put_file(rf->mnt, "a", "x"));
	ASSERT_EQ(0, put_file(rf->mnt, "b", "x"));
	ASSERT_EQ(0, CTL(rf->mnt, out, "notify", "inval_entry", "/", "a")) TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(rf->mnt, out, "notify", "inval_entry", "/", "b")) TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "LOOKUP:set=attr.size=12345:name=a"))
		TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "LOOKUP:set=attr.mode=0170000:name=b"))
		TH_LOG("%s", out);
	snprintf(p, sizeof(p), "%s/a", rf->mnt);
	ASSERT_EQ(0, stat(p, &st));
	EXPECT_EQ(12345, st.st_size);
	snprintf(p, sizeof(p), "%s/b", rf->mnt);
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(EIO, errno);
}

/*
 * fuse_attr_out: a GETATTR answered with uid 4242 shows in stat; with
 * size -1 (past LLONG_MAX) the kernel refuses the attributes: EIO.
 */
TEST_F(faults, edit_attr_out)
{
	struct ramfuse *rf = &self->rf;
	char out[256], spec[96];
	unsigned long long ino;
	struct stat st;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "x"));
	ino = ino_of(rf->mnt, "f");
	snprintf(spec, sizeof(spec), "GETATTR:set=attr.uid=4242:node=%llu:count=1", ino);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", spec)) TH_LOG("%s", out);
	ASSERT_EQ(0, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(4242, st.st_uid);
	snprintf(spec, sizeof(spec), "GETATTR:set=attr.size=-1:node=%llu", ino);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", spec)) TH_LOG("%s", out);
	EXPECT_EQ(-1, stat_fresh(self->sock, rf->mnt, "f", &st));
	EXPECT_EQ(EIO, errno);
}

/* fuse_open_out: open_flags=FOPEN_DIRECT_IO makes every read a READ. */
TEST_F(faults, edit_open_out)
{
	struct ramfuse *rf = &self->rf;
	char out[256], buf[64];
	long long reads;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "direct"));
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	reads = refreshed(_metadata, rf, "op.READ");
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	ASSERT_EQ(reads, refreshed(_metadata, rf, "op.READ")) TH_LOG("not cached to begin with");
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "OPEN:set=open_flags=1")) TH_LOG("%s", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("direct", buf);
	EXPECT_LT(reads, refreshed(_metadata, rf, "op.READ")) TH_LOG("direct I/O read the cache");
}

/* fuse_write_out: a WRITE claiming one byte more than it was sent: EIO. */
TEST_F(faults, edit_write_out)
{
	struct ramfuse *rf = &self->rf;
	char out[256], p[RF_PATH + 16];
	int fd;

	snprintf(p, sizeof(p), "%s/w", rf->mnt);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "WRITE:set=size+=1")) TH_LOG("%s", out);
	EXPECT_EQ(-1, write(fd, "abc", 3));
	EXPECT_EQ(EIO, errno);
	close(fd);
}

/* fuse_statfs_out: statfs(2) shows the edited namelen. */
TEST_F(faults, edit_statfs_out)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	struct statfs sf;

	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "STATFS:set=st.namelen=7")) TH_LOG("%s", out);
	ASSERT_EQ(0, statfs(rf->mnt, &sf));
	EXPECT_EQ(7, sf.f_namelen);
}

/* fuse_out_header: a READ reply one byte longer than written is refused
 * by the kernel (reply.error); the right reply follows, the read works. */
TEST_F(faults, edit_out_header)
{
	struct ramfuse *rf = &self->rf;
	char out[256], buf[64];
	long long refused;

	if (rf_on_ring(rf))
		SKIP(return, "over io_uring the kernel reads no out.len (the length is the "
		     "commit's payload size)");
	ASSERT_EQ(0, put_file(rf->mnt, "f", "header"));
	refused = refreshed(_metadata, rf, "reply.error");
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "READ:set=out.len+=1")) TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_inode", "/f")) TH_LOG("%s", out);
	ASSERT_EQ(0, get_file(rf->mnt, "f", buf, sizeof(buf)));
	EXPECT_STREQ("header", buf);
	EXPECT_LT(refused, refreshed(_metadata, rf, "reply.error"));
}

/* fuse_lseek_out: SEEK_DATA returns what the reply says. */
TEST_F(faults, edit_lseek_out)
{
	struct ramfuse *rf = &self->rf;
	char out[256], p[RF_PATH + 16];
	int fd;

	ASSERT_EQ(0, put_file(rf->mnt, "f", "0123456789"));
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "LSEEK:set=offset=7")) TH_LOG("%s", out);
	snprintf(p, sizeof(p), "%s/f", rf->mnt);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(7, lseek(fd, 0, SEEK_DATA));
	close(fd);
}

static int make_files(const char *mnt, const char *dir, int n)
{
	char p[RF_PATH + 64];

	snprintf(p, sizeof(p), "%s/%s", mnt, dir);
	if (mkdir(p, 0755))
		return -1;
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s/file%03d", mnt, dir, i);
		if (mknod(p, S_IFREG | 0644, 0))
			return -1;
	}
	return 0;
}

/* getdents64 in small steps: how many entries, how many of type type */
static int list_dir(const char *mnt, const char *dir, int type, int *typed)
{
	char p[RF_PATH + 64], buf[512];
	int fd, n = 0;
	long got;

	snprintf(p, sizeof(p), "%s/%s", mnt, dir);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	*typed = 0;
	while ((got = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long at = 0; at < got;) {
			unsigned short reclen;
			unsigned char t = (unsigned char)buf[at + 18];

			memcpy(&reclen, buf + at + 16, sizeof(reclen));
			n++;
			*typed += t == type;
			at += reclen;
		}
	close(fd);
	return got < 0 ? -1 : n;
}

/*
 * fuse_dirent: READDIR (the kernel's second and later reads of a
 * directory, READDIRPLUS_AUTO) answered with type 1 (DT_FIFO): getdents
 * shows it.
 */
TEST_F(faults, edit_dirent)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	int typed;

	ASSERT_EQ(0, make_files(rf->mnt, "d", 60));
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "READDIR:set=dirent.type=1")) TH_LOG("%s", out);
	ASSERT_EQ(62, list_dir(rf->mnt, "d", 1, &typed));
	ASSERT_LT(0, refreshed(_metadata, rf, "op.READDIR")) TH_LOG("no READDIR sent");
	EXPECT_LT(0, typed);
}

/*
 * fuse_direntplus: entry.nodeid=0 means "no lookup for this entry": the
 * names are listed, but the next stat of one looks it up.  With a bad
 * file type (entry.attr.mode=0170000) the kernel lists the entry and
 * forgets its lookup at once (FORGET).
 */
TEST_F(faults, edit_direntplus)
{
	struct ramfuse *rf = &self->rf;
	char out[256];
	long long lookups, forgets;
	int typed;

	ASSERT_EQ(0, make_files(rf->mnt, "d", 3));
	ASSERT_EQ(0, CTL(self->sock, out, "notify", "inval_entry", "/d", "file000")) TH_LOG("%s", out);
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "READDIRPLUS:set=entry.nodeid=0:count=1"))
		TH_LOG("%s", out);
	ASSERT_EQ(5, list_dir(rf->mnt, "d", 8, &typed));
	ASSERT_EQ(1, refreshed(_metadata, rf, "op.READDIRPLUS"));
	lookups = stats_get(rf, "op.LOOKUP");
	ASSERT_EQ(0, stat_at(rf->mnt, "d/file000"));
	EXPECT_EQ(lookups + 1, refreshed(_metadata, rf, "op.LOOKUP"));

	ASSERT_EQ(0, make_files(rf->mnt, "e", 3));
	forgets = refreshed(_metadata, rf, "op.FORGET") + stats_get(rf, "op.BATCH_FORGET");
	ASSERT_EQ(0, CTL(self->sock, out, "fault", "add", "READDIRPLUS:set=entry.attr.mode=0170000"))
		TH_LOG("%s", out);
	ASSERT_EQ(5, list_dir(rf->mnt, "e", 8, &typed));
	EXPECT_LE(forgets + 3, stats_wait_ge(rf, "op.FORGET", forgets + 3, 5000) +
		  stats_get(rf, "op.BATCH_FORGET")) TH_LOG("no FORGET for refused entries");
}

/* One command over the socket, without a client process (fast loops). */
static int raw_command(const char *sock, const char *line, char *out, size_t len)
{
	int fd = raw_connect(sock);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, line, strlen(line));
	shutdown(fd, SHUT_WR);
	read_all(fd, out, len);
	close(fd);
	return n == (ssize_t)strlen(line) ? 0 : -1;
}

/*
 * The field table, every row: for each opcode with a reply struct, each
 * of its fields (nested structs followed) is accepted by set=, a name
 * that is not a field is refused.  The table is what the binary prints.
 */
struct row { char s[48], name[32], sub[32]; };

static int table_rows(const char *text, struct row *rows, int max)
{
	int n = 0;

	for (const char *p = strstr(text, "| reply | field |"); p && n < max;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		struct row *r = &rows[n];
		char f[96];

		if (sscanf(p, "| %47[^|]| %95[^|]|", r->s, f) != 2 || r->s[0] == '-' ||
		    !strncmp(r->s, "reply", 5))
			continue;
		r->s[strcspn(r->s, " ")] = 0;
		r->sub[0] = 0;
		if (f[0] == '`') {
			sscanf(f, "`%31[^`]` + %31s", r->name, r->sub);
		} else {
			r->name[0] = 0;
			sscanf(f, "%31[^']", r->sub);
		}
		n++;
	}
	return n;
}

static int try_fields(struct __test_metadata *_metadata, const char *sock, const char *op,
		      const struct row *rows, int n, const char *s, const char *prefix, int depth)
{
	char line[256], out[512], name[128];
	int tried = 0;

	for (int i = 0; i < n && depth < 4; i++) {
		if (strcmp(rows[i].s, s))
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, rows[i].name);
		if (rows[i].sub[0]) {
			tried += try_fields(_metadata, sock, op, rows, n, rows[i].sub, name, depth + 1);
			continue;
		}
		snprintf(line, sizeof(line), "fault add %s:set=%s=1:count=0\n", op, name);
		EXPECT_EQ(0, raw_command(sock, line, out, sizeof(out)));
		EXPECT_EQ(0, strncmp(out, "ok\n", 3)) TH_LOG("%s: %s", line, out);
		EXPECT_EQ(0, raw_command(sock, "fault clear\n", out, sizeof(out)));
		tried++;
	}
	return tried;
}

TEST_F(faults, every_field_accepted)
{
	static char table[16384];
	static struct row rows[160];
	char out[512], op[128], s[64], line[256];
	const char *argv[] = { "ramfuse", "--list-fields", NULL };
	int n, ops = 0;

	ASSERT_EQ(0, rf_run(ramfuse_path(), argv, 10000, table, sizeof(table)));
	n = table_rows(table, rows, 160);
	ASSERT_LT(50, n);
	for (const char *p = strstr(table, "| every opcode |"); p && *p == '|';
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char ops_col[128];

		if (sscanf(p, "| %127[^|]| %63[^|]|", ops_col, s) != 2)
			continue;
		s[strcspn(s, " ")] = 0;
		for (char *save = NULL, *o = strtok_r(ops_col, " ", &save); o;
		     o = strtok_r(NULL, " ", &save)) {
			snprintf(op, sizeof(op), "%s", o);
			if (!strcmp(op, "every"))
				break;
			EXPECT_LT(0, try_fields(_metadata, self->sock, op, rows, n, s, "", 0))
				TH_LOG("no field for %s (%s)", op, s);
			EXPECT_LT(0, try_fields(_metadata, self->sock, op, rows, n,
						"fuse_out_header", "out.", 0));
			snprintf(line, sizeof(line), "fault add %s:set=nosuchfield=1\n", op);
			EXPECT_EQ(0, raw_command(self->sock, line, out, sizeof(out)));
			EXPECT_NE(NULL, strstr(out, "has no field 'nosuchfield'")) TH_LOG("%s", out);
			ops++;
		}
	}
	EXPECT_LE(22, ops);
	/* set= where the reply has no struct: only the header */
	EXPECT_EQ(0, raw_command(self->sock, "fault add READ:set=out.error=-5\n", out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, "ok\n", 3)) TH_LOG("%s", out);
	EXPECT_EQ(0, raw_command(self->sock, "fault add READ:set=size=1\n", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "no field")) TH_LOG("%s", out);
}

/* The README's field table is the binary's (no README in the VM: skip). */
TEST(readme_field_table)
{
	static char table[16384], readme[262144];
	char path[512];
	const char *argv[] = { "ramfuse", "--list-fields", NULL };
	ssize_t n;
	int fd;

	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	ASSERT_LT(0, n);
	path[n] = 0;
	*strrchr(path, '/') = 0;
	strcat(path, "/../../README.md");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no README.md next to the build (%s)", path);
	n = read(fd, readme, sizeof(readme) - 1);
	close(fd);
	ASSERT_LT(0, n);
	readme[n] = 0;
	ASSERT_EQ(0, rf_run(ramfuse_path(), argv, 10000, table, sizeof(table)));
	ASSERT_LT(100, strlen(table));
	EXPECT_NE(NULL, strstr(readme, table))
		TH_LOG("README.md's field tables differ from `ramfuse --list-fields`: paste its output");
}

TEST_HARNESS_MAIN
