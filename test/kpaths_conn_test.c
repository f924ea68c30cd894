// SPDX-License-Identifier: MIT
/*
 * kpaths_conn_test - callers and connections that go away:
 *   intr.*     FUSE_INTERRUPT: handled signals and SIGKILL of callers
 *              blocked in a delayed request
 *   conn.*     fusectl abort, daemon death, lazy unmount while busy (and
 *              FORGET on the detached mount); threads=1 passthrough=off,
 *              threads=4 passthrough=auto
 *
 * Each test drives the kernel through paths FUSE bugs live in, on purpose
 * and repeatably, against the real ramfuse binary, and proves the path was
 * taken (stats file, fusectl, the daemon's -d log).  Variants: threads=1
 * and threads=4.
 */
#include "harness.h"
#include "fuse_util.h"
#include "kpaths.h"

#include <sys/statfs.h>

/* ================================================================== */
/* intr: FUSE_INTERRUPT                                                */

KP_FIXTURE_THREADS(intr)

/*
 * A caller blocked in a delayed MKDIR gets a handled signal (no
 * SA_RESTART).  The kernel sends FUSE_INTERRUPT and keeps waiting for the
 * answer.
 *  threads=4: another worker reads the INTERRUPT, finds the request
 *    (interrupt.found) and wakes its worker, which answers EINTR without
 *    doing anything: the caller gets EINTR long before the delay is over,
 *    and the directory does not exist.
 *  threads=1: the only worker reads on during its delay and finds the
 *    INTERRUPT itself: the same result (intr1_test covers that worker).
 */
TEST_F_TIMEOUT(intr, handled_signal, 20)
{
	struct ramfuse *rf = &self->rf;
	int delay = 5000;
	long long t0, took, intr0, found0;
	char opts[128], p[300];
	struct stat st;
	pid_t kid;
	int rc;

	snprintf(opts, sizeof(opts), "fault=MKDIR:delay=%d:count=1", delay);
	ASSERT_EQ(0, kp_mount(rf, variant->threads, opts)) TH_LOG("%s", rf->err);
	intr0 = refreshed(_metadata, rf, "op.INTERRUPT");
	found0 = stats_get(rf, "interrupt.found");
	snprintf(p, sizeof(p), "%s/slow", rf->mnt);
	kid = start_kid(self->kids, KID_MKDIR, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000)) TH_LOG("MKDIR never arrived");
	sleep_ms(100);
	t0 = now_ms();
	ASSERT_EQ(0, kill(kid, SIGUSR1));
	rc = reap(self->kids, kid, delay + 4000);
	took = now_ms() - t0;
	ASSERT_NE(-1, rc) TH_LOG("caller still blocked %lld ms after the signal", took);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	TH_LOG("threads=%d: mkdir -> %s after %lld ms; op.INTERRUPT %lld->%lld, "
	       "interrupt.found %lld->%lld, reply.enoent %lld", variant->threads,
	       rc ? strerror(rc) : "0", took, intr0, stats_get(rf, "op.INTERRUPT"),
	       found0, stats_get(rf, "interrupt.found"), stats_get(rf, "reply.enoent"));
	EXPECT_EQ(EINTR, rc);
	EXPECT_GT(delay / 2, took) TH_LOG("EINTR only after %lld ms", took);
	EXPECT_LT(intr0, stats_get(rf, "op.INTERRUPT"));
	EXPECT_LT(found0, stats_get(rf, "interrupt.found"));
	errno = 0;
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOENT, errno) TH_LOG("an interrupted mkdir left its directory");
	still_serves(_metadata, rf, "intr");
}

/*
 * SIGKILL of a caller blocked in a delayed MKDIR that the daemon already
 * read.  The kernel cannot take a sent request back: it sends INTERRUPT
 * and the dying caller waits (uninterruptibly) for the answer.
 *  The INTERRUPT wakes the worker (threads=4: through another worker;
 *  threads=1: the lone worker reads it during its delay), it answers EINTR,
 *  the kernel takes that answer (the request is still waited for), the
 *  caller dies promptly, no directory.
 * Either way the kernel refuses nothing (reply.enoent and reply.error stay
 * 0: the "late reply refused" case does not happen for a killed caller,
 * only after an abort - see conn.abort) and the daemon goes on serving.
 */
TEST_F_TIMEOUT(intr, sigkill_caller, 20)
{
	struct ramfuse *rf = &self->rf;
	int delay = 5000;
	long long t0, took, found0;
	char opts[128], p[300];
	struct stat st;
	pid_t kid;
	int rc;

	snprintf(opts, sizeof(opts), "fault=MKDIR:delay=%d:count=1", delay);
	ASSERT_EQ(0, kp_mount(rf, variant->threads, opts)) TH_LOG("%s", rf->err);
	found0 = refreshed(_metadata, rf, "interrupt.found");
	snprintf(p, sizeof(p), "%s/killed", rf->mnt);
	kid = start_kid(self->kids, KID_MKDIR, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000)) TH_LOG("MKDIR never arrived");
	sleep_ms(100);
	t0 = now_ms();
	ASSERT_EQ(0, kill(kid, SIGKILL));
	rc = reap(self->kids, kid, delay + 4000);
	took = now_ms() - t0;
	ASSERT_EQ(128 + SIGKILL, rc) TH_LOG("caller not dead %lld ms after SIGKILL", took);
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	TH_LOG("threads=%d: killed caller gone after %lld ms; op.INTERRUPT %lld, "
	       "interrupt.found %lld, reply.enoent %lld, reply.error %lld",
	       variant->threads, took, stats_get(rf, "op.INTERRUPT"),
	       stats_get(rf, "interrupt.found"), stats_get(rf, "reply.enoent"),
	       stats_get(rf, "reply.error"));
	EXPECT_GT(delay / 2, took);
	EXPECT_LT(found0, stats_get(rf, "interrupt.found"));
	errno = 0;
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, stats_get(rf, "reply.enoent"));
	EXPECT_EQ(0, stats_get(rf, "reply.error"));
	still_serves(_metadata, rf, "sigkill");
}

/* ================================================================== */
/* conn: abort, daemon death, lazy unmount                             */

KP_FIXTURE(conn)
FIXTURE_VARIANT(conn) { int threads; const char *opts; };
FIXTURE_VARIANT_ADD(conn, threads1_pt_off) { .threads = 1, .opts = "passthrough=off" };
FIXTURE_VARIANT_ADD(conn, threads4_pt_auto) { .threads = 4, .opts = "passthrough=auto" };

/*
 * echo 1 > /sys/fs/fuse/connections/N/abort while a MKDIR sits delayed in
 * the daemon: the waiting caller and every new call fail; the daemon's
 * reads end (ENODEV), the late MKDIR reply is refused (reply.enoent in the
 * final stats), the daemon exits 0 saying the connection was aborted, and
 * umount still works.
 *
 * The errors, as the kernel gives them: the pending caller ECONNABORTED
 * (requests ended by the abort), new calls ENOTCONN.  Over io_uring the late
 * commit is refused with ENOTCONN, which just ends the queue: nothing is
 * counted in reply.enoent there.
 */
TEST_F_TIMEOUT(conn, abort, 20)
{
	struct ramfuse *rf = &self->rf;
	char o[200], dir[128], why[256], path[200], p[300], log[8192];
	struct statfs sfs;
	long long t0;
	pid_t kid;
	int rc;

	snprintf(o, sizeof(o), "%s,fault=MKDIR:delay=10000", variant->opts);
	ASSERT_EQ(0, kp_mount_fg(rf, "-f", variant->threads, o)) TH_LOG("%s", rf->err);
	if (conn_dir(rf, &self->fusectl_ours, dir, sizeof(dir), why, sizeof(why)))
		SKIP(return, "%s", why);
	snprintf(p, sizeof(p), "%s/pending", rf->mnt);
	kid = start_kid(self->kids, KID_MKDIR, p);
	ASSERT_LT(0, kid);
	ASSERT_LE(1, stats_wait_ge(rf, "op.MKDIR", 1, 3000));
	snprintf(path, sizeof(path), "%s/waiting", dir);
	EXPECT_LE(1, read_num(path));
	snprintf(path, sizeof(path), "%s/abort", dir);
	t0 = now_ms();
	ASSERT_EQ(0, write_str(path, "1")) TH_LOG("%s: %s", path, strerror(errno));
	rc = reap(self->kids, kid, 2000);
	TH_LOG("pending mkdir -> %s after %lld ms", rc > 0 ? strerror(rc) : "?",
	       now_ms() - t0);
	EXPECT_EQ(ECONNABORTED, rc);
	snprintf(p, sizeof(p), "%s/new", rf->mnt);
	errno = 0;
	EXPECT_EQ(-1, mkdir(p, 0755));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("new call: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, statfs(rf->mnt, &sfs));	/* never from a cache */
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("statfs: %s", strerror(errno));
	/* the daemon ends by itself, at once: its delayed worker sees the
	 * connection end (POLLERR), answers late and is refused */
	ASSERT_EQ(0, rf_wait_exit(rf, 2500)) TH_LOG("daemon still running after abort");
	EXPECT_TRUE(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == 0)
		TH_LOG("exit status 0x%x", rf->exit_status);
	rf_log(rf, log, sizeof(log));
	EXPECT_NE(NULL, strstr(log, "the connection was aborted")) TH_LOG("log: %s", log);
	TH_LOG("final stats: op.MKDIR %lld reply.enoent %lld reply.error %lld",
	       stats_get(rf, "op.MKDIR"), stats_get(rf, "reply.enoent"),
	       stats_get(rf, "reply.error"));
	if (!rf_on_ring(rf)) {
		EXPECT_LE(1, stats_get(rf, "reply.enoent"));
	}
	EXPECT_EQ(0, stats_get(rf, "reply.error"));
	EXPECT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount after abort: %s", strerror(errno));
	rf->mounted = 0;
	EXPECT_FALSE(is_mounted(rf->mnt));
}

/*
 * SIGKILL of the daemon: its fds close, the kernel aborts the connection,
 * calls fail ENOTCONN; umount works and a new ramfuse serves on the same
 * mountpoint.
 */
TEST_F_TIMEOUT(conn, daemon_death, 20)
{
	struct ramfuse *rf = &self->rf;
	char o[1024], out[512], p[300];
	const char *argv[6];
	struct statfs sfs;
	struct stat st;
	long long pid;

	ASSERT_EQ(0, kp_mount(rf, variant->threads, variant->opts)) TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/before", rf->mnt);
	ASSERT_EQ(0, mkdir(p, 0755));
	ASSERT_EQ(0, kill(rf->pid, SIGKILL));
	ASSERT_EQ(0, wait_pid_gone(rf->pid, 3000));
	/* the main thread is a zombie before the last worker has gone and
	 * the device fd closed: until then calls may still be queued, and
	 * end ECONNABORTED when the closing fd aborts the connection */
	for (long long end = now_ms() + 3000; now_ms() < end; sleep_ms(5)) {
		errno = 0;
		if (statfs(rf->mnt, &sfs) < 0 && errno == ENOTCONN)
			break;
	}
	errno = 0;
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("stat after daemon death: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, statfs(rf->mnt, &sfs));
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("statfs after daemon death: %s", strerror(errno));
	ASSERT_EQ(0, umount2(rf->mnt, 0)) TH_LOG("umount: %s", strerror(errno));
	rf->mounted = 0;
	rf->pid = 0;
	ASSERT_FALSE(is_mounted(rf->mnt));

	/* a new daemon on the very same directory */
	unlink(rf->stats);
	snprintf(o, sizeof(o), "stats=%s,threads=%d,%s", rf->stats, variant->threads,
		 variant->opts);
	argv[0] = "ramfuse";
	argv[1] = "-o";
	argv[2] = o;
	argv[3] = rf->mnt;
	argv[4] = NULL;
	ASSERT_EQ(0, rf_run(ramfuse_path(), argv, 10000, out, sizeof(out)))
		TH_LOG("remount: %s", out);
	rf->mounted = 1;
	for (long long end = now_ms() + 5000; (pid = stats_get(rf, "pid")) <= 0 &&
	     now_ms() < end;)
		sleep_ms(5);
	ASSERT_LT(0, pid);
	rf->pid = (pid_t)pid;
	ASSERT_TRUE(is_mounted(rf->mnt));
	errno = 0;
	EXPECT_EQ(-1, stat(p, &st));
	EXPECT_EQ(ENOENT, errno) TH_LOG("a fresh ramfuse is empty");
	still_serves(_metadata, rf, "remount");
}

/*
 * umount2(MNT_DETACH) while a reader has the file open and reads: the mount
 * leaves the namespace at once, the reader keeps working (data checked,
 * GETATTRs served), a directory fd still reaches the filesystem: files
 * created and unlinked through it come back as FORGET/BATCH_FORGET after
 * drop_caches and the daemon frees them ("inodes" back to its baseline).
 * When the reader closes, the superblock goes and the daemon exits 0.
 */
TEST_F_TIMEOUT(conn, lazy_umount_busy, 20)
{
	struct ramfuse *rf = &self->rf;
	char o[200], p[300], name[32];
	long long base, forgets0, v, ops0, ops1;
	static const char *const forget_ops[] = { "op.FORGET", "op.BATCH_FORGET", NULL };
	static const char *const attr_ops[] = { "op.GETATTR", "op.STATX", "op.READ", NULL };
	pid_t kid;
	int dfd, rc, *stop;

	snprintf(o, sizeof(o), "%s,attr_timeout=0,entry_timeout=0", variant->opts);
	ASSERT_EQ(0, kp_mount_fg(rf, "-f", variant->threads, o)) TH_LOG("%s", rf->err);
	snprintf(p, sizeof(p), "%s/data", rf->mnt);
	make_file(_metadata, p, 1 << 20, 7);
	/* the reader reads until told to stop (at most 10 s); fork_clean
	 * closes every fd, so the word is in shared memory */
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stop);
	kid = fork_clean();
	ASSERT_LE(0, kid);
	if (kid == 0) {
		unsigned char *buf = malloc(65536);
		long long end = now_ms() + 10000;
		struct stat st;
		int fd = open(p, O_RDONLY);

		if (fd < 0 || !buf)
			_exit(2);
		for (unsigned i = 0;
		     now_ms() < end && !__atomic_load_n(stop, __ATOMIC_ACQUIRE); i++) {
			off_t off = (off_t)(i % 16) * 65536;

			if (pread_all(fd, buf, 65536, off) != 65536 ||
			    pattern_check(buf, 65536, (unsigned long long)off, 7) != -1)
				_exit(3);
			if (fstat(fd, &st) || st.st_size != 1 << 20)
				_exit(4);
		}
		close(fd);
		_exit(0);
	}
	add_kid(self->kids, kid);
	dfd = open(rf->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dfd);
	sleep_ms(300);
	ASSERT_TRUE(kid_running(kid));
	base = refreshed(_metadata, rf, "inodes");
	ops0 = stats_sum(rf, attr_ops);
	ASSERT_EQ(0, umount2(rf->mnt, MNT_DETACH)) TH_LOG("%s", strerror(errno));
	rf->mounted = 0;
	EXPECT_FALSE(is_mounted(rf->mnt));

	/* the detached filesystem still works through the fds */
	forgets0 = stats_sum(rf, forget_ops);
	for (int i = 0; i < 40; i++) {
		int fd;

		snprintf(name, sizeof(name), "tmp%d", i);
		fd = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd) TH_LOG("openat %s on the detached mount: %s", name,
					strerror(errno));
		close(fd);
	}
	EXPECT_EQ(base + 40, refreshed(_metadata, rf, "inodes"));
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "tmp%d", i);
		ASSERT_EQ(0, unlinkat(dfd, name, 0));
	}
	close(dfd);
	ASSERT_EQ(0, drop_caches(2));
	v = stats_wait_le(rf, "inodes", base, 5000);
	EXPECT_EQ(base, v) TH_LOG("inodes %lld, baseline %lld", v, base);
	EXPECT_LT(forgets0, stats_sum(rf, forget_ops))
		TH_LOG("FORGET %lld BATCH_FORGET %lld", stats_get(rf, "op.FORGET"),
		       stats_get(rf, "op.BATCH_FORGET"));
	ops1 = stats_sum(rf, attr_ops);
	EXPECT_LT(ops0, ops1) TH_LOG("the reader's calls stopped reaching the daemon");
	EXPECT_FALSE(pid_gone(rf->pid)) TH_LOG("daemon ended while the reader works");
	EXPECT_TRUE(kid_running(kid)) TH_LOG("the reader stopped before it was told to");

	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	rc = reap(self->kids, kid, 5000);
	munmap(stop, sizeof(*stop));
	EXPECT_EQ(0, rc) TH_LOG("reader failed after the detach (exit %d)", rc);
	ASSERT_EQ(0, rf_wait_exit(rf, 5000)) TH_LOG("daemon still running after the last close");
	EXPECT_TRUE(WIFEXITED(rf->exit_status) && WEXITSTATUS(rf->exit_status) == 0)
		TH_LOG("exit status 0x%x", rf->exit_status);
}

TEST_HARNESS_MAIN
