/* mount(2) and umount2(2) of a FUSE filesystem, without fusermount. */
#ifndef RAMFUSE_MOUNT_H
#define RAMFUSE_MOUNT_H

#include <stddef.h>

#include "opts.h"

int mount_check_point(const char *mnt, char *err, size_t errlen);
int mount_fuse(const struct options *o, const char *mnt, int fd, char *err, size_t errlen);
/* Through the set-uid fusermount3: *fd is the mount's /dev/fuse fd. */
int mount_fusermount(const struct options *o, const char *mnt, int *fd, char *err, size_t errlen);
int mount_remove(const char *mnt);

#endif
