/* SPDX-License-Identifier: MIT */
/*
 * fuse_util.h - helpers shared by the ramfuse tests (linked into every
 * test binary).  None of these use the harness; they return 0 / -1 (or a
 * value) and leave a human-readable reason in rf->err or the caller's buffer,
 * so tests can say  ASSERT_EQ(0, mount_ramfuse(&rf, "size=1m")) TH_LOG("%s", rf.err);
 *
 * Locating the binary: $RAMFUSE, else <dir of /proc/self/exe>/../ramfuse
 * (build/test/x_test -> build/ramfuse), else /bin/ramfuse.
 *
 * Nothing we spawn inherits our descriptors: every child closes fds >= 3
 * before exec, and all fds opened here are O_CLOEXEC, so no daemon or worker
 * keeps another mount (or the test's files on it) alive.
 */
#ifndef RAMFUSE_TEST_FUSE_UTIL_H
#define RAMFUSE_TEST_FUSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RF_PATH 200

/*
 * One ramfuse instance.  Plain data only (no pointers), so it can live in
 * harness fixture memory and be torn down from another process.
 */
struct ramfuse {
	char base[64];		/* mkdtemp()ed directory holding the rest */
	char mnt[RF_PATH];	/* base/mnt: the mountpoint */
	char stats[RF_PATH];	/* base/stats: -o stats=... */
	char log[RF_PATH];	/* base/log: the daemon's stdout+stderr */
	pid_t pid;		/* daemon pid (from the stats file) */
	pid_t child;		/* foreground mode: our child (== pid) */
	int mounted;
	int exit_status;	/* foreground: wait status after unmount, else -1 */
	char err[1024];		/* reason of the last failure */
};

/* Path of the ramfuse binary (static storage). */
const char *ramfuse_path(void);

/* 0 when tests can mount: root, /dev/fuse usable, binary present.
 * Otherwise -1 with the reason (for SKIP) in why. */
int rf_can_mount(char *why, size_t len);

/* Create base/mnt (fresh mkdtemp under /tmp) without mounting. */
int rf_prepare(struct ramfuse *rf);

/*
 * Daemonized mount: prepare, run "ramfuse -o stats=<stats>[,opts] <mnt>",
 * require the parent to exit 0, then read the daemon pid from the stats
 * file (waiting up to 5 s for it to appear) and check the mount exists.
 * extra_args (NULL-terminated, may be NULL) go before "-o".
 */
int mount_ramfuse(struct ramfuse *rf, const char *opts);
int mount_ramfuse_args(struct ramfuse *rf, const char *const extra_args[],
		       const char *opts);

/* $RAMFUSE_EXTRA_OPTS, which every mount above adds to its options ("" if
 * unset): make check-uring runs the suite with uring=on. */
const char *rf_extra_opts(void);

/* Foreground mount: flag is "-f" or "-d"; we fork the daemon ourselves,
 * rf->child is its pid and umount_ramfuse() collects its exit status. */
int mount_ramfuse_fg(struct ramfuse *rf, const char *flag, const char *opts);

/*
 * umount2(mnt, 0), falling back to MNT_DETACH when busy, then wait up to
 * 5 s for the daemon to exit (polling kill(pid, 0); zombies count as gone;
 * foreground: waitpid, exit status in rf->exit_status).  A daemon that does
 * not exit is sent SIGTERM, then SIGKILL, and -1 is returned.  Removes the
 * mountpoint directory; base (stats, log) stays until rf_cleanup().
 */
int umount_ramfuse(struct ramfuse *rf);

/* Wait (bounded) for an already-unmounted/terminated daemon to vanish. */
int rf_wait_exit(struct ramfuse *rf, int timeout_ms);

/* Idempotent teardown: unmount if mounted, kill leftovers, remove base.
 * Returns the result of the unmount (0 if nothing to do). */
int rf_cleanup(struct ramfuse *rf);

/* Read the daemon log (stdout+stderr) into buf; returns its length. */
size_t rf_log(const struct ramfuse *rf, char *buf, size_t len);

/*
 * Stats file.  stats_refresh() sends SIGUSR1 and waits (5 s) until "seq"
 * grows.  stats_get() reads the current file and returns the value of the
 * line "name value" (decimal, or hex with 0x), or -1 when the file or the
 * line is missing.  stats_wait_ge() refreshes until name >= min (or the
 * timeout) and returns the last value read.
 */
int stats_refresh(struct ramfuse *rf);
long long stats_get(const struct ramfuse *rf, const char *name);
unsigned long long stats_get_u64(const struct ramfuse *rf, const char *name,
				 bool *found);
long long stats_wait_ge(struct ramfuse *rf, const char *name, long long min,
			int timeout_ms);
long long stats_wait_le(struct ramfuse *rf, const char *name, long long max,
			int timeout_ms);
/* the raw value text of line "name ..." into buf; 0, or -1 if absent */
int stats_get_str(const struct ramfuse *rf, const char *name, char *buf,
		  size_t len);
/* true when the mount serves over FUSE-over-io_uring (stats "transport uring") */
bool rf_on_ring(const struct ramfuse *rf);
/* Sum of op.NAME over the names given (NULL-terminated). */
long long stats_sum(const struct ramfuse *rf, const char *const names[]);

/*
 * Run a program with argv, stdin /dev/null, stdout+stderr to a temp file
 * (not a pipe: a daemonizing child may keep it open), at most timeout_ms.
 * Returns the exit code, 128+signal, or -1 (timeout: killed; or spawn
 * failure).  The captured output (NUL-terminated, truncated) goes to out.
 * exe is the file executed, argv[0] is passed as is.
 */
int rf_run(const char *exe, const char *const argv[], int timeout_ms,
	   char *out, size_t outlen);

/* mountinfo entry of the mount at path (the last one if stacked). */
struct mountinfo {
	char mnt_opts[256];
	char fstype[64];
	char source[128];
	char super_opts[512];
	unsigned major, minor;	/* the device: a FUSE mount's minor names its fusectl directory */
};
int mountinfo_get(const char *path, struct mountinfo *mi);
bool is_mounted(const char *path);
/* true if comma-separated list contains exactly opt */
bool opt_has(const char *list, const char *opt);

/* wait (bounded) for a child: its exit code, 128+signal, or -1 (errno
 * ETIMEDOUT: it still runs; ECHILD: not ours to wait for) */
int wait_child(pid_t pid, int timeout_ms);

/* true once pid has exited (no process, or a zombie) */
bool pid_gone(pid_t pid);
int wait_pid_gone(pid_t pid, int timeout_ms);

/* echo what > /proc/sys/vm/drop_caches (after sync).  That is global: it
 * would empty the caches a test running beside this one relies on (cached
 * pages and attributes, notifications), so it first waits for every test
 * that called caches_keep() (run-tests -j runs binaries side by side).
 * (at most 10 s).  caches_keep()'s lock lasts until the calling process
 * exits and is not inherited by its children: call it in a fixture's
 * setup, which runs in the test's own process. */
int drop_caches(int what);
void caches_keep(void);

/* close every fd >= from */
void close_fds_from(int from);

/* fork(); the child closes fds >= 3 and resets signal mask/handlers.
 * Use for worker processes of a test. */
pid_t fork_clean(void);

/*
 * Metadata load: nproc (at most 16) fork_clean()ed processes stat() names
 * under dir (mostly missing: one LOOKUP each with entry_timeout=0) until
 * stat_load_stop() or for at most max_ms.  Tests start it, wait for what
 * they want to see (stats_wait_ge, stats_wait_fds) and stop it, so the load
 * lasts as long as that takes.
 */
struct stat_load {
	pid_t pid[16];
	int n;
	int *stop;	/* shared with the children */
};
int stat_load_start(struct stat_load *l, const char *dir, int nproc, int max_ms);
/* Tell the children to stop, reap them (killing any that hang past 5 s);
 * returns how many did not exit 0.  Safe to call twice. */
int stat_load_stop(struct stat_load *l);
/* Refresh until each of fd.0 .. fd.(nfds-1) counts at least min requests
 * (or the timeout); returns how many do. */
int stats_wait_fds(struct ramfuse *rf, int nfds, long long min, int timeout_ms);

/* mount a tmpfs on a fresh temp dir (dir gets the path) / undo it */
int tmpfs_mount(char *dir, size_t len, const char *opts);
void tmpfs_umount(const char *dir);
/* tmpfs keeps user.* xattrs only since Linux 6.6 (test/oracle.c) */
bool tmpfs_has_user_xattrs(const char *tmp);

/* fill buf with a position-dependent byte pattern for file offset off */
void pattern_fill(unsigned char *buf, size_t len, unsigned long long off,
		  unsigned int seed);
/* offset of the first mismatch, or -1 when buf matches the pattern */
long long pattern_check(const unsigned char *buf, size_t len,
			unsigned long long off, unsigned int seed);

/* printf at the end of the NUL-terminated text in buf (len bytes in all);
 * what does not fit is cut */
void strappendf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

long long now_ms(void);
void sleep_ms(int ms);
/* Return once the kernel's coarse clock (the one file timestamps come
 * from: one tick, 1-10 ms) has passed the fine clock's reading at the
 * call, so the next change gets a later stamp than any taken before, fine
 * or coarse.  Waits for the tick itself, not a fixed time: under emulation
 * a tick can come late.  At most 1 s. */
void coarse_clock_tick(void);

/* write a whole buffer / read exactly len (short at EOF): bytes or -1 */
ssize_t pwrite_all(int fd, const void *buf, size_t len, off_t off);
ssize_t pread_all(int fd, void *buf, size_t len, off_t off);

#ifdef FIXTURE /* a kselftest harness (ours or the kernel's) is included */
/*
 * A ready-made fixture: FIXTURE(name) holding one mounted ramfuse
 * (self->rf), with variants threads1 and threads2.  Each setup mounts
 * "threads=N,<variant->opts or base_opts>".  Skips when mounting is
 * impossible (not root, no /dev/fuse, no binary).
 */
#define RAMFUSE_FIXTURE(fname, base_opts)				\
	FIXTURE(fname) {						\
		struct ramfuse rf;					\
	};								\
	FIXTURE_VARIANT(fname) {					\
		int threads;						\
	};								\
	FIXTURE_VARIANT_ADD(fname, threads1) { .threads = 1 };		\
	FIXTURE_VARIANT_ADD(fname, threads2) { .threads = 2 };		\
	FIXTURE_SETUP(fname)						\
	{								\
		char why[256], o[512];					\
									\
		if (rf_can_mount(why, sizeof(why)))			\
			SKIP(return, "%s", why);			\
		snprintf(o, sizeof(o), "threads=%d%s%s", variant->threads, \
			 (base_opts)[0] ? "," : "", (base_opts));	\
		ASSERT_EQ(0, mount_ramfuse(&self->rf, o))		\
			TH_LOG("%s", self->rf.err);			\
	}								\
	FIXTURE_TEARDOWN(fname)						\
	{								\
		EXPECT_EQ(0, rf_cleanup(&self->rf))			\
			TH_LOG("%s", self->rf.err);			\
	}

/* SKIP unless we can mount at all (for TESTs that mount by themselves) */
#define REQUIRE_MOUNT()							\
	do {								\
		char _why[256];						\
		if (rf_can_mount(_why, sizeof(_why)))			\
			SKIP(return, "%s", _why);			\
	} while (0)
#endif

#endif /* RAMFUSE_TEST_FUSE_UTIL_H */
