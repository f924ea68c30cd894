/* errno names, for fault specs and control answers ("EIO" <-> 5). */
#ifndef RAMFUSE_ERRNAME_H
#define RAMFUSE_ERRNAME_H

#include <stdint.h>

/* A name from the table or a number 1..4095: 0, or -EINVAL. */
int errname_parse(const char *s, uint32_t *out);
/* The name of e (> 0), or NULL when the table has none. */
const char *errname(int e);

#endif
