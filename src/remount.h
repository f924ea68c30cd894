/* Options changed on a mounted ramfuse (mount -o remount, control "remount"). */
#ifndef RAMFUSE_REMOUNT_H
#define RAMFUSE_REMOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "memfs.h"

/* Whether opt may be given on remount (mount flags, the kernel's words,
 * the options that change live). */
bool remount_known(const char *opt);
/* Whether list has options only the daemon can change (size=, ...). */
bool remount_has_live(const char *list);
/* Applies size=, nr_inodes=, mode=, uid=, gid= from a remount's options,
 * ignoring mount flags and the kernel's own; -EBUSY below what is used,
 * -EINVAL for what cannot change.  err says why. */
int remount_apply(struct memfs *fs, const char *list, char *err, size_t errlen);

#endif
