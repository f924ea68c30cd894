#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"

int mount_check_point(const char *mnt, char *err, size_t errlen)
{
	struct stat st;
	if (stat(mnt, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", mnt,
			 e == ENOENT ? "mountpoint does not exist" : strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: mountpoint is not a directory", mnt);
		return -ENOTDIR;
	}
	return 0;
}

int mount_fuse(const struct options *o, const char *mnt, int fd, char *err, size_t errlen)
{
	char type[256], data[512];
	int n = snprintf(type, sizeof(type), "fuse%s%s", *o->subtype ? "." : "", o->subtype);
	if (n < 0 || (size_t)n >= sizeof(type)) {
		snprintf(err, errlen, "subtype '%s' is too long", o->subtype);
		return -EINVAL;
	}
	n = snprintf(data, sizeof(data), "fd=%d,rootmode=%o,user_id=%u,group_id=%u%s%s",
		     fd, S_IFDIR | o->mode, (unsigned)getuid(), (unsigned)getgid(),
		     o->default_permissions ? ",default_permissions" : "",
		     o->allow_other ? ",allow_other" : "");
	if (o->max_read && n > 0 && (size_t)n < sizeof(data))
		n += snprintf(data + n, sizeof(data) - n, ",max_read=%u", o->max_read);
	if (n < 0 || (size_t)n >= sizeof(data)) {
		snprintf(err, errlen, "mount options too long");
		return -EINVAL;
	}
	if (mount(o->fsname, mnt, type, o->mount_flags, data) == 0)
		return 0;
	int e = errno;
	const char *why = strerror(e);
	if (e == EPERM)
		why = "permission denied (mounting needs root or CAP_SYS_ADMIN)";
	else if (e == ENODEV)
		why = "the kernel has no FUSE filesystem (is the fuse module loaded?)";
	snprintf(err, errlen, "mount %s on %s: %s", type, mnt, why);
	return -e;
}

/* Unmounts, lazily if something still uses the filesystem. */
int mount_remove(const char *mnt)
{
	if (umount2(mnt, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno == EBUSY && umount2(mnt, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		return 1;
	return -errno;
}

int mount_remount(const struct options *o, const char *mnt, char *err, size_t errlen)
{
	/* the kernel ignores FUSE's own options on remount through mount(2) */
	if (mount(NULL, mnt, NULL, MS_REMOUNT | o->mount_flags, NULL) == 0)
		return 0;
	int e = errno;
	snprintf(err, errlen, "remount %s: %s", mnt, strerror(e));
	return -e;
}
