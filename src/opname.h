/* Opcode names, for logs, the stats file and fault specs. */
#ifndef RAMFUSE_OPNAME_H
#define RAMFUSE_OPNAME_H

#include <stdint.h>

/* NULL for an opcode without a name. */
const char *opcode_name(uint32_t opcode);

#endif
