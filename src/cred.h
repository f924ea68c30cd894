/* Who asks: the requesting process's supplementary groups and capabilities. */
#ifndef RAMFUSE_CRED_H
#define RAMFUSE_CRED_H

#include <stdbool.h>
#include <stdint.h>

#include "memfs.h"

/* capability numbers, as linux/capability.h */
enum {
	CRED_CAP_CHOWN = 0, CRED_CAP_DAC_OVERRIDE = 1, CRED_CAP_DAC_READ_SEARCH = 2,
	CRED_CAP_FOWNER = 3, CRED_CAP_FSETID = 4, CRED_CAP_SYS_ADMIN = 21,
};

/* Opens /proc now, to read callers' status after switch_root too. */
void cred_open_proc(void);
bool cred_in_group(const struct memfs_cred *cr, uint32_t gid);
/* Whether the caller has cap in its effective set, in our user namespace.
 * Fails closed: a process gone, reused or out of sight has none. */
bool cred_capable(const struct memfs_cred *cr, int cap);

#endif
