/* SPDX-License-Identifier: MIT */
/*
 * kpaths.h - what the kpaths_*_test binaries share: a fixture that keeps
 * everything a test may leave behind (the mount, child processes blocked
 * in calls, a fusectl mount of ours) as plain data, and helpers to start,
 * watch and reap those children.  kpaths.c holds the helpers (no harness);
 * the fixture parts below need a kselftest harness included first.
 */
#ifndef RAMFUSE_TEST_KPATHS_H
#define RAMFUSE_TEST_KPATHS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fuse_util.h"

#define NKIDS 72

/* everything a test may leave behind, as plain data */
#define KP_DATA			\
	struct ramfuse rf;	\
	pid_t kids[NKIDS];	\
	int fusectl_ours

/* in a child: a handler without SA_RESTART, so blocked calls may EINTR */
void catch_signal(int sig);
int add_kid(pid_t *kids, pid_t pid);
void forget_kid(pid_t *kids, pid_t pid);
/* wait (bounded) for one kid: exit code, 128+signal, or -1 on timeout */
int reap(pid_t *kids, pid_t pid, int ms);
bool kid_running(pid_t pid);
void kill_kids(pid_t *kids, int ms);
/*
 * The fusectl directory of rf's connection into dir, in a fusectl mount of
 * our own (fusectl_path(), *ours set): tests running beside us may mount
 * and unmount /sys/fs/fuse/connections.  0, or -1 with the reason in why.
 */
int conn_dir(const struct ramfuse *rf, int *ours, char *dir, size_t len,
	     char *why, size_t wlen);
/* where conn_dir() mounts fusectl: rf->base/fusectl */
void fusectl_path(const struct ramfuse *rf, char *buf, size_t len);
long long read_num(const char *path);
int write_str(const char *path, const char *s);
/* mount "threads=N[,more]" */
int kp_mount(struct ramfuse *rf, int threads, const char *more);
int kp_mount_fg(struct ramfuse *rf, const char *flag, int threads,
		const char *more);
/* /proc/PID/stat state letter, or 0 */
char proc_state(pid_t pid);
/* wait (bounded) until pid sleeps in the kernel */
void wait_sleeping(pid_t pid, int ms);
/*
 * Wait (bounded) until every worker of daemon pid (all threads but the
 * main one) sleeps in the FUSE device read, so that a signal now can only
 * interrupt a read.  Returns true when that was seen; otherwise (e.g. a
 * kernel whose wchan names nothing) false after ms, with the wchans seen.
 */
bool wait_workers_in_read(pid_t pid, int ms, char *seen, size_t seenlen);

/* a child doing one call on path and exiting with its errno (0: done) */
enum kid_op { KID_MKDIR, KID_STATFS, KID_STAT, KID_READ };
pid_t start_kid(pid_t *kids, enum kid_op op, const char *path);

#ifdef FIXTURE
static inline void teardown(struct __test_metadata *_metadata, struct ramfuse *rf,
			    pid_t *kids, int *fusectl_ours)
{
	/* kids blocked in a request the daemon still serves die once it is
	 * answered or the connection goes: kill, unmount, reap */
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	if (*fusectl_ours) { /* before rf_cleanup removes rf->base */
		char ctl[RF_PATH];

		fusectl_path(rf, ctl, sizeof(ctl));
		if (umount2(ctl, 0))
			umount2(ctl, MNT_DETACH);
		*fusectl_ours = 0;
	}
	EXPECT_EQ(0, rf_cleanup(rf)) TH_LOG("%s", rf->err);
	kill_kids(kids, 3000);
}

#define KP_FIXTURE(fname)						\
	FIXTURE(fname) { KP_DATA; };					\
	FIXTURE_SETUP(fname)						\
	{								\
		char why[256];						\
									\
		if (rf_can_mount(why, sizeof(why)))			\
			SKIP(return, "%s", why);			\
	}								\
	FIXTURE_TEARDOWN(fname)						\
	{								\
		teardown(_metadata, &self->rf, self->kids,		\
			 &self->fusectl_ours);				\
	}

static inline long long refreshed(struct __test_metadata *_metadata, struct ramfuse *rf,
				  const char *name)
{
	ASSERT_EQ(0, stats_refresh(rf)) TH_LOG("%s", rf->err);
	return stats_get(rf, name);
}

/* the connection still serves: mkdir, stat, rmdir of a fresh name */
static inline void still_serves(struct __test_metadata *_metadata, struct ramfuse *rf,
				const char *tag)
{
	char p[300];
	struct stat st;

	snprintf(p, sizeof(p), "%s/alive-%s", rf->mnt, tag);
	ASSERT_EQ(0, mkdir(p, 0755)) TH_LOG("%s: mkdir: %s", tag, strerror(errno));
	ASSERT_EQ(0, stat(p, &st)) TH_LOG("%s: stat: %s", tag, strerror(errno));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(0, rmdir(p)) TH_LOG("%s: rmdir: %s", tag, strerror(errno));
}

/* a file of len pattern bytes (seed) */
static inline void make_file(struct __test_metadata *_metadata, const char *p,
			     size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len);
	int fd;

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, len, 0, seed);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", p, strerror(errno));
	ASSERT_EQ((ssize_t)len, pwrite_all(fd, buf, len, 0));
	close(fd);
	free(buf);
}

/* the fixture with variants threads1 and threads4 */
#define KP_FIXTURE_THREADS(fname)					\
	KP_FIXTURE(fname)						\
	FIXTURE_VARIANT(fname) { int threads; };			\
	FIXTURE_VARIANT_ADD(fname, threads1) { .threads = 1 };		\
	FIXTURE_VARIANT_ADD(fname, threads4) { .threads = 4 };
#endif

#endif /* RAMFUSE_TEST_KPATHS_H */
