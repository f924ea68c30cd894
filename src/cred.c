/* A FUSE request names the caller's uid, gid and pid, not its other groups
 * or its capabilities: those are read from /proc/PID/status, and only when
 * a permission check needs them (default_permissions off, or a rule the
 * kernel leaves to us).  The pid may be gone, reused, or 0 (a process in a
 * pid namespace we cannot see): anything that does not match the request's
 * credentials grants nothing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "fmt.h"
#include "scan.h"

/* /proc as opened at start: switch_root moves /proc away from the
 * daemon's root (README "Paths"); without it, the path. */
static int proc_dir = AT_FDCWD;
#define PROC(rel) (proc_dir == AT_FDCWD ? "/proc/" rel : rel)

void cred_open_proc(void)
{
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		proc_dir = fd;
}

/* Where "\nKEY" starts in a status file (strstr would bring musl's
 * two-way search along: 1 KiB for three fixed keys). */
static const char *line_of(const char *buf, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = buf; (p = strchr(p, '\n')); p++)
		if (!strncmp(p, key, n))
			return p;
	return NULL;
}

/* The fourth number after "\nKEY:": the fs id of "Uid:"/"Gid:" lines
 * (real, effective, saved, fs). */
static bool fs_id_is(const char *buf, const char *key, uint32_t want)
{
	const char *p = line_of(buf, key);
	if (!p)
		return false;
	p += strlen(key);
	unsigned long id = 0;
	for (int k = 0; k < 4; k++) {
		char *end;
		id = scan_ull(p, &end, 10);
		if (end == p)
			return false;
		p = end;
	}
	return id == want;
}

/* The caller's status, if its pid still names a process with the
 * request's fsuid and fsgid; else 0. */
static size_t read_status(const struct memfs_cred *cr, char *buf, size_t size)
{
	char path[32];
	if (!cr->pid)
		return 0;
	sfmt(path, sizeof(path), PROC("%u/status"), cr->pid);
	int fd = openat(proc_dir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* the fs ids are what the kernel sent */
	if (!fs_id_is(buf, "\nUid:", cr->uid) || !fs_id_is(buf, "\nGid:", cr->gid))
		return 0;
	return (size_t)n;
}

bool cred_in_group(const struct memfs_cred *cr, uint32_t gid)
{
	if (cr->gid == gid)
		return true;
	char buf[4096];
	if (!read_status(cr, buf, sizeof(buf)))
		return false;
	const char *p = line_of(buf, "\nGroups:");
	if (!p)
		return false;
	p += 8;
	for (;;) {
		char *end;
		unsigned long g = scan_ull(p, &end, 10);
		if (end == p)
			return false;
		if (g == gid)
			return true;
		p = end;
	}
}

/* Capabilities count only in our user namespace: CapEff of a process in
 * another one is about its own. */
static bool same_user_ns(uint32_t pid)
{
	char path[40], theirs[64], ours[64];
	sfmt(path, sizeof(path), PROC("%u/ns/user"), pid);
	ssize_t a = readlinkat(proc_dir, path, theirs, sizeof(theirs));
	ssize_t b = readlinkat(proc_dir, PROC("self/ns/user"), ours, sizeof(ours));
	return a > 0 && a == b && !memcmp(theirs, ours, (size_t)a);
}

bool cred_capable(const struct memfs_cred *cr, int cap)
{
	char buf[4096];
	if (!read_status(cr, buf, sizeof(buf)))
		return false;
	const char *p = line_of(buf, "\nCapEff:");
	if (!p)
		return false;
	char *end;
	unsigned long long eff = scan_ull(p + 8, &end, 16);
	if (end == p + 8 || !((eff >> cap) & 1))
		return false;
	/* the status read above and this check name the same process only
	 * if it still has the ids: read again after */
	return same_user_ns(cr->pid) && read_status(cr, buf, sizeof(buf));
}
