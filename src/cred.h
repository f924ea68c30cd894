/* Who asks: the requesting process's supplementary groups. */
#ifndef RAMFUSE_CRED_H
#define RAMFUSE_CRED_H

#include <stdbool.h>
#include <stdint.h>

#include "memfs.h"

/* Opens /proc now, to read callers' groups after switch_root too. */
void cred_open_proc(void);
bool cred_in_group(const struct memfs_cred *cr, uint32_t gid);

#endif
