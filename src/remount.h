/* Options changed on a mounted ramfuse (mount -o remount, control "remount"). */
#ifndef RAMFUSE_REMOUNT_H
#define RAMFUSE_REMOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "memfs.h"

/* Whether opt may be given on remount (mount flags, the kernel's words,
 * the options that change live). */
bool remount_known(const char *opt);
/* Whether list has options only the daemon can change or check (size=,
 * ..., volume). */
bool remount_has_live(const char *list);
/* Whether a remount's list changes anything only the daemon can: 1 yes, 0
 * when its size=, nr_inodes=, mode=, uid=, gid= are what statfs and stat of
 * mnt show already (fstab's options, repeated by mount(8) on every
 * remount, need no control socket).  -EINVAL (err says why) for a bad
 * value. */
int remount_needs_daemon(const char *mnt, const char *list, char *err, size_t errlen);
/* Applies size=, nr_inodes=, mode=, uid=, gid= from a remount's options,
 * ignoring mount flags and the kernel's own; volume[=NAME] (fstab's
 * options come again on remount) must say what is true of the mount, whose
 * volume is volume (NULL: none).  -EBUSY below what is used, -EINVAL for
 * what cannot change.  err says why. */
int remount_apply(struct memfs *fs, const char *volume, const char *list, char *err,
		  size_t errlen);

#endif
