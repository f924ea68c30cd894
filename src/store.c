#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "store.h"

/* The new mount API's constants (linux/mount.h). */
#define FSOPEN_CLOEXEC 0x1
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#define FSCONFIG_CMD_RECONFIGURE 7
#define FSPICK_CLOEXEC 0x1
#define FSPICK_EMPTY_PATH 0x8
#define FSMOUNT_CLOEXEC 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOEXEC 0x8
#define MOUNT_ATTR_STRICTATIME 0x20

static int set(int fsfd, const char *key, const char *value)
{
	return (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, value, 0);
}

int store_init(struct store *st, uint64_t max_bytes, bool memfd)
{
	st->mnt_fd = -1;
	st->max_bytes = max_bytes;
	if (memfd)
		return 0;
	int fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		debug("fsopen tmpfs: %m: file data goes to memfds");
		return 0;
	}
	char size[32];
	/* tmpfs reads 0 as "no limit", as we do */
	sfmt(size, sizeof(size), "%llu",
		 max_bytes == UINT64_MAX ? 0ULL : (unsigned long long)max_bytes);
	if (set(fsfd, "size", size) < 0 || set(fsfd, "nr_inodes", "0") < 0 ||
	    set(fsfd, "mode", "0700") < 0 ||
	    syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		debug("configuring the private tmpfs: %m: file data goes to memfds");
		close(fsfd);
		return 0;
	}
	st->mnt_fd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC,
				  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
				  MOUNT_ATTR_STRICTATIME); /* memfs_set_atime() filters */
	if (st->mnt_fd < 0)
		debug("fsmount: %m: file data goes to memfds");
	close(fsfd);
	return 0;
}

int store_set_size(struct store *st, uint64_t max_bytes)
{
	if (st->mnt_fd < 0) {
		st->max_bytes = max_bytes;
		return 0;
	}
	int fsfd = (int)syscall(SYS_fspick, st->mnt_fd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	char size[32];
	sfmt(size, sizeof(size), "%llu",
		 max_bytes == UINT64_MAX ? 0ULL : (unsigned long long)max_bytes);
	int res = set(fsfd, "size", size) < 0 ||
		  syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0 ? -errno : 0;
	close(fsfd);
	if (!res)
		st->max_bytes = max_bytes;
	/* tmpfs: "too small for current use" (EINVAL), or an unlimited
	 * instance cannot be limited afterwards */
	return res == -EINVAL ? -EBUSY : res;
}

void store_fini(struct store *st)
{
	if (st->mnt_fd >= 0)
		close(st->mnt_fd);
	st->mnt_fd = -1;
}

bool store_limits_itself(const struct store *st)
{
	return st->mnt_fd >= 0;
}

static void file_name(char *buf, size_t len, uint64_t ino, uint64_t generation)
{
	sfmt(buf, len, "%llx.%llx", (unsigned long long)ino, (unsigned long long)generation);
}

/* Named files, not O_TMPFILE ones, so that a file's fd can be closed and
 * the file opened again by name. */
int store_create(struct store *st, uint64_t ino, uint64_t generation)
{
	int fd;
	if (st->mnt_fd >= 0) {
		char name[40];
		file_name(name, sizeof(name), ino, generation);
		fd = openat(st->mnt_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	} else {
		fd = memfd_create("ramfuse", MFD_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	return errno == EMFILE || errno == ENFILE ? -ENOSPC : -errno;
}

bool store_can_reopen(const struct store *st)
{
	return st->mnt_fd >= 0;
}

int store_reopen(struct store *st, uint64_t ino, uint64_t generation)
{
	if (st->mnt_fd < 0)
		return -ENOSYS;
	char name[40];
	file_name(name, sizeof(name), ino, generation);
	int fd = openat(st->mnt_fd, name, O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

/* fd may be -1: the file was closed to save descriptors. */
void store_remove(struct store *st, int fd, uint64_t ino, uint64_t generation)
{
	if (fd >= 0)
		close(fd);
	if (st->mnt_fd >= 0) {
		char name[40];
		file_name(name, sizeof(name), ino, generation);
		unlinkat(st->mnt_fd, name, 0);
	}
}

uint64_t store_used(const struct store *st)
{
	struct statfs sf;
	if (st->mnt_fd < 0 || fstatfs(st->mnt_fd, &sf) < 0 || sf.f_blocks == 0)
		return UINT64_MAX; /* no limit: tmpfs then counts nothing */
	return (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
}
