/* errno names, for fault specs and control answers ("EIO" <-> 5). */
#ifndef RAMFUSE_ERRNAME_H
#define RAMFUSE_ERRNAME_H

#include <stdint.h>

/* The kernel takes a reply's error only in -511..-1 (fs/fuse/dev.c refuses
 * -512 and below, the restart codes): a larger one would leave the caller
 * waiting until the connection ends. */
#define ERRNAME_MAX 511

/* A name from the table or a number 1..ERRNAME_MAX: 0, or -EINVAL. */
int errname_parse(const char *s, uint32_t *out);
/* The name of e (> 0), or NULL when the table has none. */
const char *errname(int e);

#endif
