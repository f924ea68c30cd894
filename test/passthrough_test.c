// SPDX-License-Identifier: MIT
/*
 * FUSE passthrough (issue 3): with passthrough=on the kernel does READ,
 * WRITE and mmap on the store's file itself, so the daemon sees no READ or
 * WRITE request; with passthrough=off every byte goes through the daemon.
 * Both variants must give the same data and the same attributes.
 *
 * Whether the kernel offers passthrough is decided by mounting with
 * passthrough=auto and reading the stats file ("passthrough" line and the
 * negotiated "proto 7.M"), never from the kernel version string.  The "on"
 * variant SKIPs where the kernel has no passthrough; there the
 * passthrough_on_unsupported test checks that passthrough=on refuses to
 * start (on kernels with passthrough that test SKIPs instead).
 *
 * Backing ids are closed on the last RELEASE, and the kernel sends RELEASE
 * asynchronously after close(2): the checks of backing.open ==
 * backing.close poll the stats file (bounded) until they balance.
 */
#include "harness.h"
#include "fuse_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <sys/mount.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
/* the FUSE minor version that brought FUSE_PASSTHROUGH */
#define PASSTHROUGH_MINOR 40
#define NPEERS 4

/* ------------------------------------------------------------------ */
/* probing the kernel                                                  */

struct probe {
	int passthrough;	/* the stats file's "passthrough" with auto */
	int minor;		/* negotiated 7.M */
};

/* Mount with passthrough=auto on rf and see what was negotiated. */
static int probe_kernel(struct ramfuse *rf, struct probe *p, char *err,
			size_t len)
{
	char proto[32];
	const char *dot;
	long long pt;

	p->passthrough = 0;
	p->minor = 0;
	if (mount_ramfuse(rf, "passthrough=auto")) {
		snprintf(err, len, "probe mount: %.400s", rf->err);
		rf_cleanup(rf);
		return -1;
	}
	pt = stats_get(rf, "passthrough");
	if (stats_get_str(rf, "proto", proto, sizeof(proto)) == 0 &&
	    (dot = strchr(proto, '.')))
		p->minor = atoi(dot + 1);
	if (rf_cleanup(rf)) {
		snprintf(err, len, "probe unmount: %.400s", rf->err);
		return -1;
	}
	if (pt < 0 || p->minor <= 0) {
		snprintf(err, len, "stats file lacks the passthrough/proto lines");
		return -1;
	}
	p->passthrough = pt == 1;
	return 0;
}

static void no_passthrough_reason(const struct probe *p, char *buf, size_t len)
{
	if (p->minor < PASSTHROUGH_MINOR)
		snprintf(buf, len,
			 "kernel does not offer FUSE_PASSTHROUGH (FUSE protocol 7.%d < 7.%d; passthrough=auto negotiated none)",
			 p->minor, PASSTHROUGH_MINOR);
	else
		snprintf(buf, len,
			 "passthrough=auto negotiated no passthrough (FUSE 7.%d: kernel without CONFIG_FUSE_PASSTHROUGH, or no CAP_SYS_ADMIN)",
			 p->minor);
}

/* ------------------------------------------------------------------ */
/* stats                                                               */

static long long stat_now(struct __test_metadata *_metadata,
			  struct ramfuse *rf, const char *name)
{
	long long v;

	if (stats_refresh(rf)) {
		TH_LOG("%s", rf->err);
		return -1;
	}
	v = stats_get(rf, name);
	if (v < 0)
		TH_LOG("stats file has no line '%s'", name);
	return v;
}

/* Refresh until backing.open == backing.close (RELEASE is asynchronous),
 * at most 5 s; the last values read go to *opened / *closed. */
static void wait_balanced(struct __test_metadata *_metadata,
			  struct ramfuse *rf, long long *opened,
			  long long *closed)
{
	long long end = now_ms() + 5000;

	for (;;) {
		ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
		*opened = stats_get(rf, "backing.open");
		*closed = stats_get(rf, "backing.close");
		ASSERT_LE(0, *opened) TH_LOG("no backing.open line");
		ASSERT_LE(0, *closed) TH_LOG("no backing.close line");
		if (*opened == *closed || now_ms() >= end)
			return;
		sleep_ms(10);
	}
}

/* ------------------------------------------------------------------ */
/* data helpers                                                        */

/* write [off, off+len) with pattern seed, in chunks of at most 1 MiB */
static void write_pattern(struct __test_metadata *_metadata, int fd,
			  unsigned long long off, unsigned long long len,
			  unsigned int seed)
{
	size_t chunk = len < MiB ? (size_t)len : MiB;
	unsigned char *buf = malloc(chunk);

	ASSERT_NE(NULL, buf);
	for (unsigned long long done = 0; done < len;) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		ssize_t w;

		pattern_fill(buf, n, off + done, seed);
		w = pwrite_all(fd, buf, n, (off_t)(off + done));
		if (w != (ssize_t)n) {
			int e = errno;

			free(buf);
			ASSERT_EQ((ssize_t)n, w)
				TH_LOG("pwrite %zu at %llu: %s", n, off + done,
				       strerror(e));
		}
		done += n;
	}
	free(buf);
}

/* -1 when [off, off+len) of fd holds pattern seed, else the first bad
 * offset; a short read counts as a mismatch at its end */
static long long check_pattern_fd(int fd, unsigned long long off,
				  unsigned long long len, unsigned int seed,
				  bool direct)
{
	size_t chunk = len < MiB ? (size_t)len : MiB;
	void *mem = NULL;
	long long bad = -1;

	if (posix_memalign(&mem, 4096, chunk ? chunk : 1))
		return (long long)off;
	for (unsigned long long done = 0; done < len && bad < 0;) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		/* O_DIRECT wants whole blocks: read them, look at n */
		size_t rd = direct ? (n + 4095) & ~(size_t)4095 : n;
		ssize_t got;
		long long m;

		if (rd > chunk) {
			free(mem);
			if (posix_memalign(&mem, 4096, rd))
				return (long long)(off + done);
			chunk = rd;
		}
		got = pread_all(fd, mem, rd, (off_t)(off + done));
		if (got < (ssize_t)n) {
			bad = (long long)(off + done) + (got > 0 ? got : 0);
			break;
		}
		m = pattern_check(mem, n, off + done, seed);
		if (m >= 0)
			bad = (long long)(off + done) + m;
		done += n;
	}
	free(mem);
	return bad;
}

#define EXPECT_PATTERN(fd, off, len, seed, what)				\
	do {								\
		long long _bad = check_pattern_fd(fd, off, len, seed, false); \
		EXPECT_EQ(-1, _bad)					\
			TH_LOG("%s: [%llu, +%llu) is not pattern %u (first bad byte or short read at %lld)", \
			       what, (unsigned long long)(off),		\
			       (unsigned long long)(len), (unsigned)(seed), _bad); \
	} while (0)

/* ------------------------------------------------------------------ */
/* peers: another process holding its own open of a file              */

enum peer_op { PEER_PREAD = 1, PEER_PWRITE, PEER_MMAP_READ, PEER_QUIT };

struct peer_cmd {
	int op;
	unsigned int seed;
	unsigned long long off, len;
};

struct peer_res {
	long long ret;		/* 0, or -errno, or (reads) first bad offset + 1 */
};

struct peer {
	pid_t pid;
	int to, from;
};

static long long peer_exec(int fd, bool direct, const struct peer_cmd *c)
{
	switch (c->op) {
	case PEER_PREAD: {
		long long bad = check_pattern_fd(fd, c->off, c->len, c->seed, direct);

		return bad < 0 ? 0 : bad + 1;
	}
	case PEER_PWRITE: {
		size_t n = (size_t)c->len;
		size_t alloc = (n + 4095) & ~(size_t)4095;
		void *mem = NULL;
		ssize_t w;

		if (posix_memalign(&mem, 4096, alloc ? alloc : 4096))
			return -ENOMEM;
		pattern_fill(mem, n, c->off, c->seed);
		w = pwrite_all(fd, mem, n, (off_t)c->off);
		free(mem);
		return w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
	}
	case PEER_MMAP_READ: {
		size_t n = (size_t)c->len;
		off_t base = (off_t)(c->off & ~4095ULL);
		size_t mlen = n + (size_t)(c->off - (unsigned long long)base);
		unsigned char *m = mmap(NULL, mlen, PROT_READ, MAP_SHARED, fd, base);
		long long bad;

		if (m == MAP_FAILED)
			return -errno;
		bad = pattern_check(m + (c->off - (unsigned long long)base), n,
				    c->off, c->seed);
		munmap(m, mlen);
		return bad < 0 ? 0 : (long long)c->off + bad + 1;
	}
	default:
		return -EINVAL;
	}
}

static void peer_main(const char *path, int flags, int in, int out)
{
	struct peer_cmd c;
	struct peer_res r;
	int fd = open(path, flags | O_CLOEXEC);

	r.ret = fd < 0 ? -errno : 0;
	if (write(out, &r, sizeof(r)) != sizeof(r) || fd < 0)
		_exit(1);
	while (read(in, &c, sizeof(c)) == sizeof(c)) {
		if (c.op == PEER_QUIT)
			break;
		r.ret = peer_exec(fd, flags & O_DIRECT, &c);
		if (write(out, &r, sizeof(r)) != sizeof(r))
			_exit(1);
	}
	close(fd);
	_exit(0);
}

/* Start a process that opens path with flags; returns the open's result
 * (0 or -errno).  *pid_slot (fixture memory) lets the teardown kill it. */
static int peer_start(struct __test_metadata *_metadata, struct peer *p,
		      pid_t *pid_slot, const char *path, int flags)
{
	int to[2], from[2];
	struct peer_res r;

	p->pid = 0;
	ASSERT_EQ(0, pipe2(to, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	p->pid = fork();
	ASSERT_LE(0, p->pid);
	if (p->pid == 0) {
		/* keep nothing of the test's open files but our two pipes */
		int in = fcntl(to[0], F_DUPFD, 100);
		int out = fcntl(from[1], F_DUPFD, 100);

		if (in < 0 || out < 0 || dup2(in, 3) != 3 || dup2(out, 4) != 4)
			_exit(1);
		close_fds_from(5);
		peer_main(path, flags, 3, 4);
	}
	*pid_slot = p->pid;
	close(to[0]);
	close(from[1]);
	p->to = to[1];
	p->from = from[0];
	ASSERT_EQ((ssize_t)sizeof(r), read(p->from, &r, sizeof(r)))
		TH_LOG("peer died before opening %s", path);
	return (int)r.ret;
}

static long long peer_do(struct __test_metadata *_metadata, struct peer *p,
			 int op, unsigned long long off, unsigned long long len,
			 unsigned int seed)
{
	struct peer_cmd c = { .op = op, .seed = seed, .off = off, .len = len };
	struct peer_res r = { .ret = -EPIPE };

	ASSERT_EQ((ssize_t)sizeof(c), write(p->to, &c, sizeof(c)));
	ASSERT_EQ((ssize_t)sizeof(r), read(p->from, &r, sizeof(r)))
		TH_LOG("peer %d died", (int)p->pid);
	return r.ret;
}

static void peer_stop(struct __test_metadata *_metadata, struct peer *p,
		      pid_t *pid_slot)
{
	struct peer_cmd c = { .op = PEER_QUIT };
	int status = -1;

	if (p->pid <= 0)
		return;
	EXPECT_EQ((ssize_t)sizeof(c), write(p->to, &c, sizeof(c)));
	close(p->to);
	close(p->from);
	EXPECT_EQ(p->pid, waitpid(p->pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("peer exit status 0x%x", status);
	p->pid = 0;
	*pid_slot = 0;
}

/* "peer read [off, +len) is pattern seed" as a readable expectation */
#define EXPECT_PEER_READ(p, op, off, len, seed, what)			\
	do {								\
		long long _r = peer_do(_metadata, p, op, off, len, seed); \
		EXPECT_EQ(0, _r)					\
			TH_LOG("%s: peer sees %s", what, _r < 0 ?	\
			       strerror((int)-_r) : "other data");	\
		if (_r > 0)						\
			TH_LOG("%s: first bad byte at %lld", what, _r - 1); \
	} while (0)

/* ------------------------------------------------------------------ */
/* the fixture                                                         */

FIXTURE(pt) {
	struct ramfuse rf;	/* the mount under test */
	struct ramfuse aux;	/* probe mount, or a second (size=8m) mount */
	struct probe probe;
	pid_t peers[NPEERS];
	char tmpfs[64];
	char file[256];
};

FIXTURE_VARIANT(pt) {
	const char *opts;
	bool passthrough;
};

FIXTURE_VARIANT_ADD(pt, on) { .opts = "passthrough=on", .passthrough = true };
FIXTURE_VARIANT_ADD(pt, off) { .opts = "passthrough=off", .passthrough = false };

FIXTURE_SETUP(pt)
{
	char why[512];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	if (variant->passthrough) {
		ASSERT_EQ(0, probe_kernel(&self->aux, &self->probe, why, sizeof(why)))
			TH_LOG("%s", why);
		if (!self->probe.passthrough) {
			no_passthrough_reason(&self->probe, why, sizeof(why));
			SKIP(return, "%s", why);
		}
	}
	ASSERT_EQ(0, mount_ramfuse(&self->rf, variant->opts)) TH_LOG("%s", self->rf.err);
	ASSERT_EQ(variant->passthrough ? 1 : 0, stats_get(&self->rf, "passthrough"))
		TH_LOG("passthrough line of the stats file after -o %s", variant->opts);
	snprintf(self->file, sizeof(self->file), "%s/file", self->rf.mnt);
}

FIXTURE_TEARDOWN(pt)
{
	for (int i = 0; i < NPEERS; i++) {
		if (self->peers[i] > 0) {
			kill(self->peers[i], SIGKILL);
			waitpid(self->peers[i], NULL, 0);
			self->peers[i] = 0;
		}
	}
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	EXPECT_EQ(0, rf_cleanup(&self->aux)) TH_LOG("%s", self->aux.err);
	if (self->tmpfs[0]) {
		tmpfs_umount(self->tmpfs);
		self->tmpfs[0] = 0;
	}
}

/* READ/WRITE counts as the variant wants them: none with passthrough */
static void check_rw_ops(struct __test_metadata *_metadata, struct ramfuse *rf,
			 bool passthrough, const char *what)
{
	long long rd = stat_now(_metadata, rf, "op.READ");
	long long wr = stat_now(_metadata, rf, "op.WRITE");

	if (passthrough) {
		EXPECT_EQ(0, rd) TH_LOG("%s: READ requests reached the daemon", what);
		EXPECT_EQ(0, wr) TH_LOG("%s: WRITE requests reached the daemon", what);
	} else {
		EXPECT_LT(0, rd) TH_LOG("%s: no READ request with passthrough=off", what);
		EXPECT_LT(0, wr) TH_LOG("%s: no WRITE request with passthrough=off", what);
	}
}

static void check_backing_balanced(struct __test_metadata *_metadata,
				   struct ramfuse *rf, bool passthrough,
				   const char *what)
{
	long long opened = -1, closed = -1;

	wait_balanced(_metadata, rf, &opened, &closed);
	EXPECT_EQ(opened, closed)
		TH_LOG("%s: backing ids leaked: %lld opened, %lld closed", what,
		       opened, closed);
	if (passthrough) {
		EXPECT_LT(0, opened) TH_LOG("%s: no backing id was ever opened", what);
	} else {
		EXPECT_EQ(0, opened) TH_LOG("%s: backing ids with passthrough=off", what);
	}
}

/* A 64 MiB file written and read back: the data path in either mode. */
TEST_F_TIMEOUT(pt, data_64m, 120)
{
	const unsigned long long size = 64 * MiB;
	struct stat st;
	int fd;

	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	write_pattern(_metadata, fd, 0, size, 7);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)size, st.st_size);
	EXPECT_PATTERN(fd, 0, size, 7, "same fd");
	ASSERT_EQ(0, close(fd));

	/* a fresh open, with the page cache dropped so that without
	 * passthrough the data has to come from the daemon */
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_PATTERN(fd, 0, size, 7, "reopened");
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ((off_t)size, st.st_size);
	EXPECT_EQ((blkcnt_t)(size / 512), st.st_blocks);

	EXPECT_LE((long long)size, stat_now(_metadata, &self->rf, "bytes"));
	check_rw_ops(_metadata, &self->rf, variant->passthrough, "64 MiB file");
	check_backing_balanced(_metadata, &self->rf, variant->passthrough,
			       "64 MiB file closed");
}

/* What was just written stays in the page cache: the first read after a
 * write, even after the kernel fetched the new attributes (mtime moved),
 * needs no READ.  Without passthrough the kernel sees every change to the
 * data, so ramfuse does not ask it to drop its pages when mtime changes
 * (no FUSE_AUTO_INVAL_DATA); with passthrough there is no page cache. */
TEST_F(pt, read_after_write_cached)
{
	const size_t size = 4 * MiB;
	struct stat st;
	int fd;

	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	write_pattern(_metadata, fd, 0, size, 3);
	ASSERT_EQ(0, close(fd));
	long long reads = stat_now(_metadata, &self->rf, "op.READ");
	long long getattrs = stat_now(_metadata, &self->rf, "op.GETATTR");
	/* the write left the attributes stale: this asks the daemon */
	ASSERT_EQ(0, stat(self->file, &st));
	EXPECT_EQ((off_t)size, st.st_size);
	EXPECT_LT(getattrs, stat_now(_metadata, &self->rf, "op.GETATTR"))
		TH_LOG("stat after a write did not ask the daemon: the test proves nothing");
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_PATTERN(fd, 0, size, 3, "first read after the write");
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(reads, stat_now(_metadata, &self->rf, "op.READ"))
		TH_LOG("the first read after a write went to the daemon");
}

/* A file created for writing gets passthrough at once (its creator's
 * writes need no WRITE requests); one created read-only, which cannot be
 * written through that open, gets no store file and no backing id. */
TEST_F(pt, create_backing)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/ro", self->rf.mnt);
	fd = open(path, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("create read-only: %s", strerror(errno));
	EXPECT_EQ(0, stat_now(_metadata, &self->rf, "backing.open"))
		TH_LOG("a read-only create got a backing id");
	ASSERT_EQ(0, close(fd));

	fd = open(self->file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("create for writing: %s", strerror(errno));
	EXPECT_EQ(variant->passthrough ? 1 : 0, stat_now(_metadata, &self->rf, "backing.open"))
		TH_LOG("backing ids after one create for writing");
	ASSERT_EQ(4, write(fd, "data", 4));
	ASSERT_EQ(0, close(fd));
	check_backing_balanced(_metadata, &self->rf, variant->passthrough, "creates closed");
	EXPECT_EQ(variant->passthrough ? 0 : 1, stat_now(_metadata, &self->rf, "op.WRITE"))
		TH_LOG("WRITE requests for the creator's write");
}

/* ------------------------------------------------------------------ */
/* attribute coherence against tmpfs                                   */

enum step {
	STEP_CREATE, STEP_WRITE, STEP_OVERWRITE, STEP_WRITE_FAR, STEP_FTRUNC_SHRINK,
	STEP_FTRUNC_SAME, STEP_TRUNC_GROW, STEP_TRUNC_SAME, STEP_TRUNC_SHRINK,
	STEP_FALLOC, STEP_FALLOC_KEEP, STEP_PUNCH, STEP_WRITE_HOLE, STEP_FTRUNC_ZERO,
	STEP_FTRUNC_ZERO_SAME, STEP_TRUNC_ZERO_SAME,
	STEP_WRITE_AGAIN, STEP_CLOSE, STEP_OPEN_TRUNC, STEP_CLOSE2, STEP_OPEN_TRUNC_EMPTY,
	STEP_NR
};

static const char *const step_names[STEP_NR] = {
	"create", "pwrite 10000 @0", "overwrite 10000 @0", "pwrite 1 @1MiB+5",
	"ftruncate 5000", "ftruncate 5000 again", "truncate(path) 200000",
	"truncate(path) 200000 again", "truncate(path) 3000",
	"fallocate 64k @300000", "fallocate KEEP_SIZE 8k @400000",
	"punch hole 8k @0", "pwrite 4096 @0 (into the hole)", "ftruncate 0",
	"ftruncate 0 again (no data)", "truncate(path) 0 again (no data)",
	"pwrite 5000 @0", "close", "open O_TRUNC", "close again",
	"open O_TRUNC (already empty)",
};

struct seen {
	long long size, blocks;
	struct timespec mtime;
	int err;		/* errno of the step, 0 if it worked */
};

static int do_step(int step, const char *path, int *fd)
{
	unsigned char buf[10000];
	int r = 0;

	memset(buf, 0x5a, sizeof(buf));
	switch (step) {
	case STEP_CREATE:
		*fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
		r = *fd < 0 ? -1 : 0;
		break;
	case STEP_WRITE:
	case STEP_OVERWRITE:
		r = pwrite_all(*fd, buf, 10000, 0) == 10000 ? 0 : -1;
		break;
	case STEP_WRITE_FAR:
		r = pwrite_all(*fd, buf, 1, (off_t)(MiB + 5)) == 1 ? 0 : -1;
		break;
	case STEP_FTRUNC_SHRINK:
	case STEP_FTRUNC_SAME:
		r = ftruncate(*fd, 5000);
		break;
	case STEP_TRUNC_GROW:
	case STEP_TRUNC_SAME:
		r = truncate(path, 200000);
		break;
	case STEP_TRUNC_SHRINK:
		r = truncate(path, 3000);
		break;
	case STEP_FALLOC:
		r = fallocate(*fd, 0, 300000, 65536);
		break;
	case STEP_FALLOC_KEEP:
		r = fallocate(*fd, FALLOC_FL_KEEP_SIZE, 400000, 8192);
		break;
	case STEP_PUNCH:
		r = fallocate(*fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 8192);
		break;
	case STEP_WRITE_HOLE:
		r = pwrite_all(*fd, buf, 4096, 0) == 4096 ? 0 : -1;
		break;
	case STEP_FTRUNC_ZERO:
	case STEP_FTRUNC_ZERO_SAME:
		r = ftruncate(*fd, 0);
		break;
	case STEP_TRUNC_ZERO_SAME:
		r = truncate(path, 0);
		break;
	case STEP_WRITE_AGAIN:
		r = pwrite_all(*fd, buf, 5000, 0) == 5000 ? 0 : -1;
		break;
	case STEP_CLOSE:
	case STEP_CLOSE2:
		r = close(*fd);
		*fd = -1;
		break;
	case STEP_OPEN_TRUNC:
	case STEP_OPEN_TRUNC_EMPTY:
		*fd = open(path, O_RDWR | O_TRUNC | O_CLOEXEC);
		r = *fd < 0 ? -1 : 0;
		break;
	}
	return r ? (errno ? errno : EIO) : 0;
}

/* Run all steps on dir/name, stat(2) by path after each. */
static void run_steps(struct __test_metadata *_metadata, const char *dir,
		      struct seen seen[STEP_NR])
{
	char path[300];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/attr", dir);
	for (int s = 0; s < STEP_NR; s++) {
		struct stat st;

		/* a later change must get a later stamp */
		coarse_clock_tick();
		errno = 0;
		seen[s].err = do_step(s, path, &fd);
		memset(&st, 0, sizeof(st));
		EXPECT_EQ(0, stat(path, &st)) TH_LOG("stat %s: %s", path, strerror(errno));
		seen[s].size = st.st_size;
		seen[s].blocks = st.st_blocks;
		seen[s].mtime = st.st_mtim;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

TEST_F(pt, attr_coherence)
{
	struct seen want[STEP_NR], got[STEP_NR];
	int bad = 0;

	ASSERT_EQ(0, tmpfs_mount(self->tmpfs, sizeof(self->tmpfs), "size=64m"))
		TH_LOG("tmpfs: %s", strerror(errno));
	run_steps(_metadata, self->tmpfs, want);
	run_steps(_metadata, self->rf.mnt, got);
	for (int s = 0; s < STEP_NR; s++) {
		const char *n = step_names[s];

		EXPECT_EQ(want[s].err, got[s].err)
		{
			TH_LOG("step '%s': tmpfs says %s, ramfuse %s", n,
			       strerror(want[s].err), strerror(got[s].err));
			bad++;
		}
		EXPECT_EQ(want[s].size, got[s].size)
		{
			TH_LOG("step '%s': st_size", n);
			bad++;
		}
		EXPECT_EQ(want[s].blocks, got[s].blocks)
		{
			TH_LOG("step '%s': st_blocks", n);
			bad++;
		}
		if (s > 0) {
			bool wm = !ts_eq(want[s].mtime, want[s - 1].mtime);
			bool gm = !ts_eq(got[s].mtime, got[s - 1].mtime);

			EXPECT_EQ(wm, gm)
			{
				TH_LOG("step '%s': tmpfs %s mtime, ramfuse %s it", n,
				       wm ? "changes" : "keeps", gm ? "changes" : "keeps");
				bad++;
			}
		}
	}
	if (bad) {
		TH_LOG("%-32s %9s %7s %3s | %9s %7s %3s", "step (tmpfs | ramfuse)",
		       "size", "blocks", "mt", "size", "blocks", "mt");
		for (int s = 0; s < STEP_NR; s++)
			TH_LOG("%-32s %9lld %7lld %3s | %9lld %7lld %3s", step_names[s],
			       want[s].size, want[s].blocks,
			       s && !ts_eq(want[s].mtime, want[s - 1].mtime) ? "new" : "-",
			       got[s].size, got[s].blocks,
			       s && !ts_eq(got[s].mtime, got[s - 1].mtime) ? "new" : "-");
	}
	if (variant->passthrough) {
		EXPECT_EQ(0, stat_now(_metadata, &self->rf, "op.WRITE"))
			TH_LOG("writes reached the daemon with passthrough=on");
	}
	check_backing_balanced(_metadata, &self->rf, variant->passthrough,
			       "after the attribute steps");
}

/* ------------------------------------------------------------------ */
/* mmap                                                                */

/*
 * A shared mapping's write by a process that then exits (fstests
 * generic/215, xfs_io mmap + mwrite): the next stat shows new times.  With
 * passthrough nothing tells the daemon or the kernel's FUSE inode of such
 * writes, so a file open for writing with passthrough keeps no cached
 * attributes, and its open drops those cached before it.
 */
TEST_F(pt, mmap_write_then_exit_moves_times)
{
	const struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat before, after;
	int status;
	pid_t kid;

	static const char zeros[4096];
	int fd = open(self->file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	ASSERT_LE(0, fd);
	ASSERT_EQ(4096, pwrite_all(fd, zeros, 4096, 0));
	close(fd);
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->file, old, 0));
	ASSERT_EQ(0, stat(self->file, &before)); /* the kernel caches this */
	kid = fork();
	ASSERT_LE(0, kid);
	if (kid == 0) {
		char *m;

		fd = open(self->file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						     MAP_SHARED, fd, 0);

		if (m == MAP_FAILED)
			_exit(1);
		memset(m, 'x', 4096);
		_exit(0); /* no munmap, no close: as xfs_io */
	}
	ASSERT_EQ(kid, waitpid(kid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, stat(self->file, &after));
	EXPECT_LT(before.st_mtim.tv_sec, after.st_mtim.tv_sec) TH_LOG("mtime not moved");
	EXPECT_LT(before.st_ctim.tv_sec, after.st_ctim.tv_sec + 1) TH_LOG("ctime went back");
}

TEST_F(pt, mmap_shared_private)
{
	const size_t size = MiB, part = 64 * KiB;
	struct peer p = { 0 };
	unsigned char *m, *priv;
	struct stat st;
	int fd, fd2;

	fd = open(self->file, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	write_pattern(_metadata, fd, 0, size, 1);
	ASSERT_EQ(0, close(fd));

	/* MAP_SHARED write of [0, 64k) with pattern 2 */
	fd = open(self->file, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m) TH_LOG("mmap shared: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(m, size, 0, 1)) TH_LOG("map shows other data");
	pattern_fill(m, part, 0, 2);
	EXPECT_EQ(0, msync(m, size, MS_SYNC));
	EXPECT_EQ(0, munmap(m, size));

	/* read(2) on the same fd, and another process's fresh open */
	EXPECT_PATTERN(fd, 0, part, 2, "read(2) after MAP_SHARED write");
	EXPECT_PATTERN(fd, part, size - part, 1, "read(2) past the mapped write");
	ASSERT_EQ(0, peer_start(_metadata, &p, &self->peers[0], self->file, O_RDONLY));
	EXPECT_PEER_READ(&p, PEER_PREAD, 0, part, 2, "other opener, read(2)");
	EXPECT_PEER_READ(&p, PEER_PREAD, part, size - part, 1, "other opener, read(2) rest");
	EXPECT_PEER_READ(&p, PEER_MMAP_READ, 0, part, 2, "other opener, mmap");

	/* MAP_PRIVATE: reads the file; its writes stay private */
	fd2 = open(self->file, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	priv = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd2, 0);
	ASSERT_NE(MAP_FAILED, priv) TH_LOG("mmap private: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(priv, part, 0, 2)) TH_LOG("MAP_PRIVATE read");
	EXPECT_EQ(-1, pattern_check(priv + part, size - part, part, 1))
		TH_LOG("MAP_PRIVATE read past the shared write");
	pattern_fill(priv + part, part, part, 3);
	EXPECT_EQ(-1, pattern_check(priv + part, part, part, 3))
		TH_LOG("MAP_PRIVATE does not see its own write");
	EXPECT_EQ(0, msync(priv, size, MS_SYNC));
	EXPECT_PATTERN(fd, part, part, 1, "read(2) after a MAP_PRIVATE write");
	EXPECT_PATTERN(fd2, part, part, 1, "read(2) of the private map's fd");
	EXPECT_PEER_READ(&p, PEER_PREAD, part, part, 1, "other opener after MAP_PRIVATE write");
	EXPECT_PEER_READ(&p, PEER_MMAP_READ, part, part, 1,
			 "other opener's map after MAP_PRIVATE write");
	EXPECT_EQ(0, munmap(priv, size));
	EXPECT_EQ(0, close(fd2));
	peer_stop(_metadata, &p, &self->peers[0]);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)size, st.st_size);
	EXPECT_EQ(0, close(fd));

	/* everything closed: a fresh open still has pattern 2 then 1 */
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_PATTERN(fd, 0, part, 2, "reopened");
	EXPECT_PATTERN(fd, part, size - part, 1, "reopened, rest");
	EXPECT_EQ(0, close(fd));

	if (variant->passthrough)
		check_rw_ops(_metadata, &self->rf, true, "mmap");
	check_backing_balanced(_metadata, &self->rf, variant->passthrough, "mmap");
}

/* ------------------------------------------------------------------ */
/* O_DIRECT next to a cached/passthrough open                          */

/*
 * One process holds an ordinary open, another an O_DIRECT one, of the same
 * file at the same time, in both orders of opening.  Observed on 6.18:
 * the kernel accepts both opens in either order.  ramfuse answers the
 * O_DIRECT open with FOPEN_PASSTHROUGH too (it never sets FOPEN_DIRECT_IO),
 * so both files share the inode's one backing file and the kernel's
 * "passthrough vs. cached io mode" conflict (EBUSY/EIO from
 * fuse_file_io_open) cannot arise; O_DIRECT reads and writes go to the
 * store's tmpfs file, which accepts O_DIRECT since 6.6.  Without
 * passthrough, O_DIRECT I/O goes to the daemon and the kernel invalidates
 * the cached pages it overwrites.  Either way every writer's bytes are seen
 * by the other opener at once.
 */
static void mixed_round(struct __test_metadata *_metadata,
			FIXTURE_DATA(pt) *self, bool direct_first)
{
	const unsigned long long size = MiB, blk = 64 * KiB;
	struct peer p = { 0 };
	int fd = -1, err;

	fd = open(self->file, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	write_pattern(_metadata, fd, 0, size, 1);
	if (direct_first) {
		ASSERT_EQ(0, close(fd));
		fd = -1;
	}
	err = peer_start(_metadata, &p, &self->peers[0], self->file,
			 O_RDWR | O_DIRECT);
	ASSERT_EQ(0, err)
		TH_LOG("O_DIRECT open %s the other open: %s",
		       direct_first ? "before" : "next to", strerror(-err));
	if (direct_first) {
		fd = open(self->file, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("plain open after O_DIRECT open: %s",
					strerror(errno));
	}
	/* direct reader sees what the plain writer wrote */
	EXPECT_PEER_READ(&p, PEER_PREAD, 0, size, 1, "O_DIRECT read of plain writes");
	/* direct write [64k, 128k) with pattern 2: plain reader sees it */
	EXPECT_EQ(0, peer_do(_metadata, &p, PEER_PWRITE, blk, blk, 2))
		TH_LOG("O_DIRECT write");
	EXPECT_PATTERN(fd, blk, blk, 2, "plain read after O_DIRECT write");
	EXPECT_PATTERN(fd, 0, blk, 1, "plain read before the O_DIRECT write");
	/* plain write [256k, 260k) pattern 3: direct reader sees it */
	write_pattern(_metadata, fd, 4 * blk, 4096, 3);
	EXPECT_PEER_READ(&p, PEER_PREAD, 4 * blk, 4096, 3, "O_DIRECT read of a plain write");
	EXPECT_PEER_READ(&p, PEER_PREAD, blk, blk, 2, "O_DIRECT read of its own write");
	/* and through a plain mapping */
	{
		unsigned char *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(-1, pattern_check(m + blk, blk, blk, 2))
			TH_LOG("mapping misses the O_DIRECT write");
		munmap(m, size);
	}
	peer_stop(_metadata, &p, &self->peers[0]);
	EXPECT_EQ(0, close(fd));
}

TEST_F(pt, mixed_odirect)
{
	mixed_round(_metadata, self, false);
	mixed_round(_metadata, self, true);
	/* with passthrough the O_DIRECT opens are passthrough opens too */
	if (variant->passthrough)
		check_rw_ops(_metadata, &self->rf, true, "plain and O_DIRECT opens");
	check_backing_balanced(_metadata, &self->rf, variant->passthrough,
			       "plain and O_DIRECT opens closed");
}

/* ------------------------------------------------------------------ */
/* size= limit                                                         */

TEST_F_TIMEOUT(pt, enospc, 60)
{
	const unsigned long long limit = 8 * MiB, want = 16 * MiB;
	char o[64], path[300];
	unsigned char *buf;
	unsigned long long written = 0;
	long long before, used_stat, after;
	struct statfs sf;
	int fd, err = 0;

	/* the fixture's mount has no limit: this one has */
	snprintf(o, sizeof(o), "size=8m,%s", variant->opts);
	ASSERT_EQ(0, mount_ramfuse(&self->aux, o)) TH_LOG("%s", self->aux.err);
	before = stat_now(_metadata, &self->aux, "bytes");
	ASSERT_LE(0, before);
	snprintf(path, sizeof(path), "%s/big", self->aux.mnt);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	buf = malloc(MiB);
	ASSERT_NE(NULL, buf);
	while (written < want) {
		ssize_t n;

		pattern_fill(buf, MiB - written % MiB, written, 5);
		n = pwrite(fd, buf, MiB - written % MiB, (off_t)written);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		ASSERT_LT(0, n) TH_LOG("pwrite returned 0 at %llu", written);
		written += (unsigned long long)n;
	}
	free(buf);
	EXPECT_EQ(ENOSPC, err)
		TH_LOG("16 MiB into size=8m: wrote %llu bytes, then %s", written,
		       err ? strerror(err) : "no error");
	EXPECT_GE(limit, written);
	EXPECT_LE(limit / 2, written) TH_LOG("stopped far below the limit");
	EXPECT_FALSE(pid_gone(self->aux.pid)) TH_LOG("the daemon died");

	/* what was written is there (in the daemon, not only in the page
	 * cache), and counted */
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_PATTERN(fd, 0, written, 5, "written before ENOSPC");
	ASSERT_EQ(0, fstatfs(fd, &sf));
	EXPECT_EQ(limit, (unsigned long long)sf.f_blocks * sf.f_bsize);
	EXPECT_LE(written & ~4095ULL,
		  (unsigned long long)(sf.f_blocks - sf.f_bfree) * sf.f_bsize)
		TH_LOG("statfs shows less in use than was written");
	used_stat = stat_now(_metadata, &self->aux, "bytes");
	EXPECT_LE((long long)(written & ~4095ULL), used_stat);
	EXPECT_EQ(0, close(fd));

	/* deleting frees it */
	EXPECT_EQ(0, unlink(path));
	after = stats_wait_le(&self->aux, "bytes", before, 5000);
	EXPECT_EQ(before, after) TH_LOG("bytes stayed %lld after unlink (was %lld full)",
					after, used_stat);
	ASSERT_EQ(0, statfs(self->aux.mnt, &sf));
	EXPECT_EQ(sf.f_blocks, sf.f_bfree) TH_LOG("statfs after unlink");

	/* and the space can be used again */
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	write_pattern(_metadata, fd, 0, 4 * MiB, 6);
	EXPECT_PATTERN(fd, 0, 4 * MiB, 6, "rewritten after freeing");
	EXPECT_EQ(0, close(fd));
	check_rw_ops(_metadata, &self->aux, variant->passthrough, "size=8m mount");
	check_backing_balanced(_metadata, &self->aux, variant->passthrough,
			       "size=8m mount");
	EXPECT_EQ(0, rf_cleanup(&self->aux)) TH_LOG("%s", self->aux.err);
}

/* ------------------------------------------------------------------ */
/* no backing id leaks under parallel open/close                      */

#define NFILES 200
#define NWORKERS 4
#define ROUNDS 3
#define RING 8

/* one worker: ROUNDS passes over all files, in its own order, holding up
 * to RING opens (of mixed access modes) at a time; exit 0 or a step code */
static int churn(const char *dir, int w)
{
	int ring[RING], pos = 0;
	char path[300];

	for (int i = 0; i < RING; i++)
		ring[i] = -1;
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < NFILES; k++) {
			/* distinct strides: workers meet on the same files */
			int f = (k * (2 * w + 1) + r * 17) % NFILES;
			int modes[3] = { O_RDONLY, O_RDWR, O_WRONLY };
			int mode = modes[(k + w + r) % 3];
			unsigned int val = 0;

			snprintf(path, sizeof(path), "%s/f%03d", dir, f);
			if (ring[pos] >= 0 && close(ring[pos]))
				return 10;
			ring[pos] = open(path, mode | O_CLOEXEC);
			if (ring[pos] < 0) {
				fprintf(stderr, "# worker %d: open %s: %s\n", w, path,
					strerror(errno));
				return 11;
			}
			if (mode != O_WRONLY &&
			    (pread(ring[pos], &val, sizeof(val), 0) != sizeof(val) ||
			     val != (unsigned int)f)) {
				fprintf(stderr, "# worker %d: %s holds %u\n", w, path, val);
				return 12;
			}
			if (mode != O_RDONLY &&
			    pwrite(ring[pos], &val, sizeof(val), 64) != sizeof(val))
				return 13;
			pos = (pos + 1) % RING;
		}
	}
	for (int i = 0; i < RING; i++)
		if (ring[i] >= 0)
			close(ring[i]);
	return 0;
}

TEST_F_TIMEOUT(pt, parallel_open_close, 120)
{
	pid_t pids[NWORKERS];
	char path[300];

	for (unsigned int f = 0; f < NFILES; f++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%03u", self->rf.mnt, f);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd) TH_LOG("create %s: %s", path, strerror(errno));
		ASSERT_EQ((ssize_t)sizeof(f), pwrite(fd, &f, sizeof(f), 0));
		ASSERT_EQ(0, close(fd));
	}
	for (int w = 0; w < NWORKERS; w++) {
		pids[w] = fork_clean();
		ASSERT_LE(0, pids[w]);
		if (pids[w] == 0)
			_exit(churn(self->rf.mnt, w));
		self->peers[w] = pids[w];
	}
	for (int w = 0; w < NWORKERS; w++) {
		int status = -1;

		EXPECT_EQ(pids[w], waitpid(pids[w], &status, 0));
		self->peers[w] = 0;
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("worker %d: status 0x%x", w, status);
	}
	check_backing_balanced(_metadata, &self->rf, variant->passthrough,
			       "4 processes x 200 files");
	if (variant->passthrough) {
		/* one id per inode at a time: at least one per file */
		EXPECT_LE(NFILES, stat_now(_metadata, &self->rf, "backing.open"));
		check_rw_ops(_metadata, &self->rf, true, "parallel opens");
	}
	/* every file still reads back right through a fresh open */
	for (unsigned int f = 0; f < NFILES; f++) {
		unsigned int val = ~0U;
		int fd;

		snprintf(path, sizeof(path), "%s/f%03u", self->rf.mnt, f);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		EXPECT_EQ((ssize_t)sizeof(val), pread(fd, &val, sizeof(val), 0));
		EXPECT_EQ(f, val);
		close(fd);
	}
	check_backing_balanced(_metadata, &self->rf, variant->passthrough,
			       "after the read-back");
}

/* ------------------------------------------------------------------ */
/* passthrough=auto and passthrough=on against what the kernel offers   */

FIXTURE(mode) {
	struct ramfuse rf;
	struct probe probe;
};

FIXTURE_SETUP(mode)
{
	char why[512];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, probe_kernel(&self->rf, &self->probe, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(mode)
{
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
}

/* Kernels without passthrough (6.1): passthrough=on must not start. */
TEST_F(mode, passthrough_on_unsupported)
{
	char o[300], out[4096];
	const char *argv[6];
	int rc;

	if (self->probe.passthrough)
		SKIP(return,
		     "kernel offers FUSE_PASSTHROUGH (FUSE 7.%d): passthrough=on starts here; this test is for kernels without it",
		     self->probe.minor);
	ASSERT_EQ(0, rf_prepare(&self->rf)) TH_LOG("%s", self->rf.err);
	snprintf(o, sizeof(o), "stats=%s,passthrough=on", self->rf.stats);
	argv[0] = "ramfuse";
	argv[1] = "-o";
	argv[2] = o;
	argv[3] = self->rf.mnt;
	argv[4] = NULL;
	rc = rf_run(ramfuse_path(), argv, 10000, out, sizeof(out));
	/* should it have mounted after all, let the teardown unmount it */
	self->rf.mounted = is_mounted(self->rf.mnt);
	if (self->rf.mounted)
		self->rf.pid = (pid_t)stats_get(&self->rf, "pid");
	EXPECT_NE(-1, rc) TH_LOG("ramfuse -o passthrough=on hung");
	EXPECT_NE(0, rc) TH_LOG("ramfuse -o passthrough=on started without passthrough");
	EXPECT_FALSE(self->rf.mounted) TH_LOG("a mount was left at %s", self->rf.mnt);
	EXPECT_NE(NULL, strstr(out, "passthrough=on"))
		TH_LOG("message does not name the option: \"%s\"", out);
	if (self->probe.minor < PASSTHROUGH_MINOR) {
		EXPECT_NE(NULL, strstr(out, "does not offer FUSE_PASSTHROUGH"))
			TH_LOG("message does not say why: \"%s\"", out);
	} else {
		EXPECT_TRUE(strstr(out, "FUSE_PASSTHROUGH") || strstr(out, "CAP_SYS_ADMIN"))
			TH_LOG("message does not say why: \"%s\"", out);
	}
}

/* passthrough=auto uses passthrough exactly where the kernel offers it,
 * and serves data either way. */
TEST_F(mode, auto_follows_kernel)
{
	char path[300];
	int fd;

	ASSERT_EQ(0, mount_ramfuse(&self->rf, "passthrough=auto")) TH_LOG("%s", self->rf.err);
	EXPECT_EQ(self->probe.passthrough, stats_get(&self->rf, "passthrough"));
	snprintf(path, sizeof(path), "%s/f", self->rf.mnt);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	write_pattern(_metadata, fd, 0, 4 * MiB, 9);
	EXPECT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	EXPECT_PATTERN(fd, 0, 4 * MiB, 9, "auto");
	if (self->probe.passthrough) {
		EXPECT_LT(0, stat_now(_metadata, &self->rf, "backing.open"))
			TH_LOG("auto with passthrough offered opened no backing id");
	}
	EXPECT_EQ(0, close(fd));
	check_rw_ops(_metadata, &self->rf, self->probe.passthrough, "auto");
	check_backing_balanced(_metadata, &self->rf, self->probe.passthrough, "auto");
}

/* ------------------------------------------------------------------ */
/* set-id bits and the inode's io mode                                 */

/*
 * The kernel refuses (EIO) an open whose io mode, passthrough or cached,
 * differs from that of the inode's other opens.  A set-id change, or a
 * write that drops the bits, must not make later opens, execs or maps of
 * the same file fail.  Each scenario is a sequence of steps run on a tmpfs
 * and on ramfuse (both mounted suid); every step's result and the mode
 * after it must be the same.  The file is a copy of this test binary, so
 * that it can be executed: run with PT_SETID_CHILD set, it only reports its
 * effective uid (exit 40 + euid==0) or waits to be killed.
 */
#define SETID_USER 65534
#define EXIT_AS_USER 40
#define EXIT_AS_ROOT 41

__attribute__((constructor)) static void setid_child(void)
{
	const char *what = getenv("PT_SETID_CHILD");

	if (!what)
		return;
	if (!strcmp(what, "hold")) { /* running: tell the test, then wait */
		(void)!write(3, "x", 1);
		pause();
	}
	_exit(geteuid() == 0 ? EXIT_AS_ROOT : EXIT_AS_USER);
}

enum setid_op {
	S_END, S_CHMOD, S_OPEN_R, S_OPEN_RW, S_CLOSE, S_MMAP, S_MUNMAP,
	S_READ, S_EXEC_USER, S_EXEC_ROOT, S_HOLD_EXEC, S_END_HOLD,
	S_WRITE_USER, S_WRITE_ROOT, S_WRITE_USER_FD,
};

struct setid_step {
	enum setid_op op;
	int arg;	/* mode for S_CHMOD, else an fd slot */
};

struct setid_scenario {
	const char *name;
	struct setid_step step[12];
};

static const struct setid_scenario setid_scenarios[] = {
	{ "open, chmod u+s, open again", {
		{ S_OPEN_R, 0 }, { S_CHMOD, 04755 }, { S_READ, 0 }, { S_EXEC_USER, 0 },
		{ S_CLOSE, 0 }, { S_READ, 0 }, { S_EXEC_USER, 0 } } },
	{ "open, chmod g+s, exec", {
		{ S_OPEN_R, 0 }, { S_CHMOD, 02755 }, { S_EXEC_ROOT, 0 }, { S_READ, 0 },
		{ S_CLOSE, 0 } } },
	{ "set-uid running, chmod u-s, exec", {
		{ S_CHMOD, 04755 }, { S_HOLD_EXEC, 0 }, { S_CHMOD, 0755 },
		{ S_EXEC_USER, 0 }, { S_READ, 0 }, { S_END_HOLD, 0 }, { S_EXEC_USER, 0 } } },
	{ "set-uid open, chmod u-s, open, chmod u+s", {
		{ S_CHMOD, 04755 }, { S_OPEN_R, 0 }, { S_CHMOD, 0755 },
		{ S_OPEN_R, 1 }, { S_CHMOD, 04755 }, { S_READ, 0 }, { S_CLOSE, 0 },
		{ S_EXEC_USER, 0 }, { S_CLOSE, 1 } } },
	{ "shared map, chmod u+s, exec", {
		{ S_OPEN_RW, 0 }, { S_MMAP, 0 }, { S_CHMOD, 04755 },
		{ S_EXEC_USER, 0 }, { S_READ, 0 }, { S_MUNMAP, 0 }, { S_CLOSE, 0 } } },
	{ "set-uid mapped, chmod u-s, map again", {
		{ S_CHMOD, 04755 }, { S_OPEN_R, 0 }, { S_MMAP, 0 },
		{ S_CHMOD, 0755 }, { S_OPEN_R, 1 }, { S_MMAP, 1 },
		{ S_EXEC_USER, 0 }, { S_MUNMAP, 0 }, { S_MUNMAP, 1 } } },
	{ "user's write drops set-id, then exec", {
		{ S_CHMOD, 06777 }, { S_OPEN_R, 0 }, { S_WRITE_USER, 0 },
		{ S_EXEC_USER, 0 }, { S_READ, 0 }, { S_CLOSE, 0 } } },
	{ "root's write keeps set-id", {
		{ S_CHMOD, 06777 }, { S_WRITE_ROOT, 0 }, { S_EXEC_USER, 0 }, { S_READ, 0 } } },
	{ "open for write, chmod u+s, user writes through it", {
		{ S_OPEN_RW, 0 }, { S_CHMOD, 04777 }, { S_WRITE_USER_FD, 0 },
		{ S_EXEC_USER, 0 }, { S_READ, 0 }, { S_CLOSE, 0 } } },
};

#define SETID_MAX_STEPS 12
#define SETID_SLOTS 2

struct setid_run {
	const char *path;
	size_t size;		/* of the file as the scenario starts */
	int fd[SETID_SLOTS];
	void *map[SETID_SLOTS];
	pid_t holder;
	int result[SETID_MAX_STEPS];	/* 0, -errno, or an exit status */
	unsigned mode[SETID_MAX_STEPS];
};

/* fork, become uid (if not 0), run fn; its return value is the exit code */
static int as_user(int uid, int (*fn)(struct setid_run *, int), struct setid_run *r,
		   int arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(99);
		_exit(fn(r, arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int exec_file(struct setid_run *r, int hold)
{
	char *const argv[] = { (char *)r->path, NULL };
	char *const envp[] = { hold ? "PT_SETID_CHILD=hold" : "PT_SETID_CHILD=exit", NULL };

	execve(r->path, argv, envp);
	return 100 + errno;
}

/* append one byte: a write by whoever runs this */
static int append_byte(struct setid_run *r, int slot)
{
	int fd = slot >= 0 ? r->fd[slot] : open(r->path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0)
		return 100 + errno;
	if (slot >= 0 && lseek(fd, 0, SEEK_END) < 0)
		return 100 + errno;
	return write(fd, "", 1) == 1 ? 0 : 100 + errno;
}

/* a fresh open reads the file's first bytes: what was copied in */
static int read_fresh(const char *path, size_t size)
{
	char head[4];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		err = -EIO;
	else if (memcmp(head, "\177ELF", 4))
		err = -EBADMSG;
	else if (fstat(fd, &st) || (size_t)st.st_size < size)
		err = -ERANGE;
	close(fd);
	return err;
}

static int setid_hold_start(struct setid_run *r)
{
	int p[2], got;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	r->holder = fork();
	if (r->holder < 0)
		return -errno;
	if (r->holder == 0) {
		dup2(p[1], 3); /* dup2 clears close-on-exec on 3 */
		_exit(exec_file(r, 1));
	}
	close(p[1]);
	got = (int)read(p[0], &c, 1);
	close(p[0]);
	return got == 1 ? 0 : -ECHILD; /* the exec failed: its status tells */
}

static void setid_hold_end(struct setid_run *r)
{
	if (r->holder <= 0)
		return;
	kill(r->holder, SIGKILL);
	waitpid(r->holder, NULL, 0);
	r->holder = 0;
}

static int setid_do(struct setid_run *r, const struct setid_step *s)
{
	int k = s->arg;
	size_t len = r->size;

	switch (s->op) {
	case S_CHMOD:
		return chmod(r->path, s->arg) ? -errno : 0;
	case S_OPEN_R:
	case S_OPEN_RW:
		r->fd[k] = open(r->path, (s->op == S_OPEN_R ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		return r->fd[k] < 0 ? -errno : 0;
	case S_CLOSE:
		close(r->fd[k]);
		r->fd[k] = -1;
		return 0;
	case S_MMAP:
		r->map[k] = mmap(NULL, len, PROT_READ, MAP_SHARED, r->fd[k], 0);
		if (r->map[k] == MAP_FAILED) {
			r->map[k] = NULL;
			return -errno;
		}
		return memcmp(r->map[k], "\177ELF", 4) ? -EBADMSG : 0;
	case S_MUNMAP:
		if (r->map[k])
			munmap(r->map[k], len);
		r->map[k] = NULL;
		close(r->fd[k]);
		r->fd[k] = -1;
		return 0;
	case S_READ:
		return read_fresh(r->path, r->size);
	case S_EXEC_USER:
		return as_user(SETID_USER, exec_file, r, 0);
	case S_EXEC_ROOT:
		return as_user(0, exec_file, r, 0);
	case S_HOLD_EXEC:
		return setid_hold_start(r);
	case S_END_HOLD:
		setid_hold_end(r);
		return 0;
	case S_WRITE_USER:
		return as_user(SETID_USER, append_byte, r, -1);
	case S_WRITE_ROOT:
		return as_user(0, append_byte, r, -1);
	case S_WRITE_USER_FD:
		return as_user(SETID_USER, append_byte, r, k);
	case S_END:
		break;
	}
	return -EINVAL;
}

/* copy this test binary to path: an executable the steps can run */
static int copy_self(const char *path, size_t *size)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out, err = 0;

	if (in < 0)
		return -errno;
	out = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0755);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	*size = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
		*size += (size_t)n;
	}
	if (n < 0)
		err = -errno;
	close(in);
	if (close(out) && !err)
		err = -errno;
	return err;
}

static void setid_run(struct __test_metadata *_metadata, const char *dir,
		      const struct setid_scenario *sc, struct setid_run *r)
{
	static char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/setid-exe", dir);
	memset(r, 0, sizeof(*r));
	r->path = path;
	for (int k = 0; k < SETID_SLOTS; k++)
		r->fd[k] = -1;
	unlink(path);
	ASSERT_EQ(0, copy_self(path, &r->size)) TH_LOG("copy to %s", path);
	for (int i = 0; i < SETID_MAX_STEPS && sc->step[i].op != S_END; i++) {
		r->result[i] = setid_do(r, &sc->step[i]);
		r->mode[i] = stat(path, &st) ? 0 : st.st_mode & 07777;
	}
	setid_hold_end(r);
	for (int k = 0; k < SETID_SLOTS; k++) {
		if (r->map[k])
			munmap(r->map[k], r->size);
		if (r->fd[k] >= 0)
			close(r->fd[k]);
	}
	EXPECT_EQ(0, unlink(path));
}

static const char *setid_op_name(enum setid_op op)
{
	static const char *const names[] = {
		"end", "chmod", "open r", "open rw", "close", "mmap shared",
		"munmap+close", "open+read", "exec as user", "exec as root",
		"exec, keep running", "end the running one", "write as user",
		"write as root", "write as user via fd",
	};
	return names[op];
}

TEST_F(pt, setid_io_mode)
{
	struct setid_run want, got;
	char opts[128];
	int bad = 0;

	/* both suid: exec of a set-uid file really changes the euid */
	ASSERT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	snprintf(opts, sizeof(opts), "%s,suid,allow_other", variant->opts);
	ASSERT_EQ(0, mount_ramfuse(&self->rf, opts)) TH_LOG("%s", self->rf.err);
	ASSERT_EQ(0, chmod(self->rf.base, 0755));
	snprintf(self->tmpfs, sizeof(self->tmpfs), "/tmp/ramfuse-tmpfs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->tmpfs));
	ASSERT_EQ(0, chmod(self->tmpfs, 0755));
	ASSERT_EQ(0, mount("tmpfs", self->tmpfs, "tmpfs", 0, "size=64m"))
		TH_LOG("tmpfs: %s", strerror(errno));

	for (size_t n = 0; n < sizeof(setid_scenarios) / sizeof(setid_scenarios[0]); n++) {
		const struct setid_scenario *sc = &setid_scenarios[n];

		setid_run(_metadata, self->tmpfs, sc, &want);
		setid_run(_metadata, self->rf.mnt, sc, &got);
		for (int i = 0; i < SETID_MAX_STEPS && sc->step[i].op != S_END; i++) {
			const char *op = setid_op_name(sc->step[i].op);

			EXPECT_EQ(want.result[i], got.result[i])
			{
				TH_LOG("'%s', step %d (%s): tmpfs %d, ramfuse %d (<0: -errno)",
				       sc->name, i + 1, op, want.result[i], got.result[i]);
				bad++;
			}
			EXPECT_EQ(want.mode[i], got.mode[i])
			{
				TH_LOG("'%s', step %d (%s): mode after it: tmpfs %04o, ramfuse %04o",
				       sc->name, i + 1, op, want.mode[i], got.mode[i]);
				bad++;
			}
		}
	}
	EXPECT_EQ(0, bad);
	/* the set-id files were served by the kernel's passthrough (or not
	 * at all by it), never half and half */
	if (variant->passthrough)
		check_rw_ops(_metadata, &self->rf, true, "set-id scenarios");
	check_backing_balanced(_metadata, &self->rf, variant->passthrough,
			       "set-id scenarios");
}

TEST_HARNESS_MAIN
