/* Reply fields by name, for faults that edit a correct reply before it is
 * sent: set=FIELD=V, set=FIELD+=V, set=FIELD-=V.  The table is built from
 * fuse_abi.h with offsetof and sizeof, so it cannot drift from the wire. */
#ifndef RAMFUSE_FIELDS_H
#define RAMFUSE_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "fuse_abi.h"

struct out;

enum edit_op { EDIT_SET, EDIT_ADD, EDIT_SUB };

struct edit {
	uint16_t off;  /* in the header, the body, or each directory entry */
	uint8_t size;  /* 1, 2, 4 or 8 bytes */
	uint8_t op;    /* enum edit_op */
	uint8_t where; /* 0 header, 1 body, 2 each dirent, 3 each direntplus */
	uint64_t value;
};

/* Parses "FIELD=V", "FIELD+=V" or "FIELD-=V" for opcode's reply. */
int field_parse(uint32_t opcode, const char *s, struct edit *e);
/* Edits a reply in place: its header, and len bytes of body. */
void field_apply(const struct edit *e, unsigned n, struct fuse_out_header *h,
		 char *body, size_t len);
/* ramfuse --list-fields: the tables of the README, in Markdown. */
void fields_print(struct out *f);

#endif
