/* A FUSE request names the caller's uid, gid and pid, not its other groups:
 * those are read from /proc, and only when a permission check needs them
 * (default_permissions off, caller neither owner nor in the file's group). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"

static int proc_dir = AT_FDCWD;

void cred_open_proc(void)
{
	/* switch_root moves /proc away from the daemon's root: keep it */
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		proc_dir = fd;
}

bool cred_in_group(const struct memfs_cred *cr, uint32_t gid)
{
	if (cr->gid == gid)
		return true;
	char path[32], buf[4096];
	snprintf(path, sizeof(path), "%s%u/status", proc_dir == AT_FDCWD ? "/proc/" : "",
		 cr->pid);
	int fd = openat(proc_dir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	char *p = strstr(buf, "\nGroups:");
	if (!p)
		return false;
	p += 8;
	for (;;) {
		char *end;
		unsigned long g = strtoul(p, &end, 10);
		if (end == p)
			return false;
		if (g == gid)
			return true;
		p = end;
	}
}
