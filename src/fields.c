/* The reply-field table.  Each reply struct lists its members with offsetof
 * and sizeof; a nested struct (attr. in fuse_entry_out) is listed once and
 * reached through its prefix. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "fmt.h"
#include "opname.h"
#include "scan.h"

struct rstruct;

struct field {
	const char *name;
	uint16_t off;
	uint8_t size;              /* 0: the nested struct sub, name its prefix */
	const struct rstruct *sub;
};

struct rstruct {
	const char *name;
	const struct field *f;
	uint16_t n, size;
};

#define FLD(T, m) { #m, offsetof(struct T, m), sizeof(((struct T *)0)->m), NULL }
#define SUB(prefix, T, m, s) { prefix, offsetof(struct T, m), 0, &s }
#define RSTRUCT(var, T, label, ...)                                       \
	static const struct field var##_f[] = { __VA_ARGS__ };            \
	static const struct rstruct var = { label, var##_f,               \
		sizeof(var##_f) / sizeof(var##_f[0]), sizeof(struct T) }

RSTRUCT(header_r, fuse_out_header, "fuse_out_header", FLD(fuse_out_header, len), FLD(fuse_out_header, error),
	FLD(fuse_out_header, unique));
RSTRUCT(attr_r, fuse_attr, "fuse_attr", FLD(fuse_attr, ino), FLD(fuse_attr, size), FLD(fuse_attr, blocks),
	FLD(fuse_attr, atime), FLD(fuse_attr, mtime), FLD(fuse_attr, ctime),
	FLD(fuse_attr, atimensec), FLD(fuse_attr, mtimensec), FLD(fuse_attr, ctimensec),
	FLD(fuse_attr, mode), FLD(fuse_attr, nlink), FLD(fuse_attr, uid), FLD(fuse_attr, gid),
	FLD(fuse_attr, rdev), FLD(fuse_attr, blksize), FLD(fuse_attr, flags));
RSTRUCT(entry_r, fuse_entry_out, "fuse_entry_out", FLD(fuse_entry_out, nodeid), FLD(fuse_entry_out, generation),
	FLD(fuse_entry_out, entry_valid), FLD(fuse_entry_out, attr_valid),
	FLD(fuse_entry_out, entry_valid_nsec), FLD(fuse_entry_out, attr_valid_nsec),
	SUB("attr.", fuse_entry_out, attr, attr_r));
RSTRUCT(attr_out_r, fuse_attr_out, "fuse_attr_out", FLD(fuse_attr_out, attr_valid),
	FLD(fuse_attr_out, attr_valid_nsec), FLD(fuse_attr_out, dummy),
	SUB("attr.", fuse_attr_out, attr, attr_r));
RSTRUCT(open_r, fuse_open_out, "fuse_open_out", FLD(fuse_open_out, fh), FLD(fuse_open_out, open_flags),
	FLD(fuse_open_out, backing_id));
/* CREATE and TMPFILE answer with both, one after the other. */
struct create_out {
	struct fuse_entry_out entry;
	struct fuse_open_out open;
};
RSTRUCT(create_r, create_out, "fuse_entry_out+fuse_open_out", SUB("", create_out, entry, entry_r),
	SUB("", create_out, open, open_r));
RSTRUCT(write_r, fuse_write_out, "fuse_write_out", FLD(fuse_write_out, size), FLD(fuse_write_out, padding));
RSTRUCT(statfs_r, fuse_statfs_out, "fuse_statfs_out", FLD(fuse_statfs_out, st.blocks), FLD(fuse_statfs_out, st.bfree),
	FLD(fuse_statfs_out, st.bavail), FLD(fuse_statfs_out, st.files),
	FLD(fuse_statfs_out, st.ffree), FLD(fuse_statfs_out, st.bsize),
	FLD(fuse_statfs_out, st.namelen), FLD(fuse_statfs_out, st.frsize),
	FLD(fuse_statfs_out, st.padding));
RSTRUCT(dirent_r, fuse_dirent, "fuse_dirent", FLD(fuse_dirent, ino), FLD(fuse_dirent, off),
	FLD(fuse_dirent, namelen), FLD(fuse_dirent, type));
RSTRUCT(dirents_r, fuse_dirent, "fuse_dirent[]", { "dirent.", 0, 0, &dirent_r });
RSTRUCT(direntplus_r, fuse_direntplus, "fuse_direntplus[]", SUB("entry.", fuse_direntplus, entry_out, entry_r),
	SUB("dirent.", fuse_direntplus, dirent, dirent_r));
RSTRUCT(xattr_r, fuse_getxattr_out, "fuse_getxattr_out", FLD(fuse_getxattr_out, size), FLD(fuse_getxattr_out, padding));
RSTRUCT(lseek_r, fuse_lseek_out, "fuse_lseek_out", FLD(fuse_lseek_out, offset));
RSTRUCT(ioctl_r, fuse_ioctl_out, "fuse_ioctl_out", FLD(fuse_ioctl_out, result), FLD(fuse_ioctl_out, flags),
	FLD(fuse_ioctl_out, in_iovs), FLD(fuse_ioctl_out, out_iovs));
RSTRUCT(copy_r, fuse_copy_file_range_out, "fuse_copy_file_range_out", FLD(fuse_copy_file_range_out, bytes_copied));
RSTRUCT(sx_time_r, fuse_sx_time, "fuse_sx_time", FLD(fuse_sx_time, tv_sec), FLD(fuse_sx_time, tv_nsec));
RSTRUCT(sx_r, fuse_statx, "fuse_statx", FLD(fuse_statx, mask), FLD(fuse_statx, blksize),
	FLD(fuse_statx, attributes), FLD(fuse_statx, nlink), FLD(fuse_statx, uid),
	FLD(fuse_statx, gid), FLD(fuse_statx, mode), FLD(fuse_statx, ino), FLD(fuse_statx, size),
	FLD(fuse_statx, blocks), FLD(fuse_statx, attributes_mask),
	SUB("atime.", fuse_statx, atime, sx_time_r), SUB("btime.", fuse_statx, btime, sx_time_r),
	SUB("ctime.", fuse_statx, ctime, sx_time_r), SUB("mtime.", fuse_statx, mtime, sx_time_r),
	FLD(fuse_statx, rdev_major), FLD(fuse_statx, rdev_minor), FLD(fuse_statx, dev_major),
	FLD(fuse_statx, dev_minor));
RSTRUCT(statx_r, fuse_statx_out, "fuse_statx_out", FLD(fuse_statx_out, attr_valid),
	FLD(fuse_statx_out, attr_valid_nsec), FLD(fuse_statx_out, flags),
	SUB("stat.", fuse_statx_out, stat, sx_r));

enum { IN_HEADER, IN_BODY, EACH_DIRENT, EACH_DIRENTPLUS };

/* What each opcode answers with, when it succeeds. */
static const struct { uint8_t opcode, where; const struct rstruct *s; } replies[] = {
	{ FUSE_LOOKUP, IN_BODY, &entry_r }, { FUSE_MKNOD, IN_BODY, &entry_r },
	{ FUSE_MKDIR, IN_BODY, &entry_r }, { FUSE_SYMLINK, IN_BODY, &entry_r },
	{ FUSE_LINK, IN_BODY, &entry_r },
	{ FUSE_GETATTR, IN_BODY, &attr_out_r }, { FUSE_SETATTR, IN_BODY, &attr_out_r },
	{ FUSE_OPEN, IN_BODY, &open_r }, { FUSE_OPENDIR, IN_BODY, &open_r },
	{ FUSE_CREATE, IN_BODY, &create_r }, { FUSE_TMPFILE, IN_BODY, &create_r },
	{ FUSE_WRITE, IN_BODY, &write_r }, { FUSE_COPY_FILE_RANGE, IN_BODY, &write_r },
	{ FUSE_STATFS, IN_BODY, &statfs_r },
	{ FUSE_READDIR, EACH_DIRENT, &dirents_r },
	{ FUSE_READDIRPLUS, EACH_DIRENTPLUS, &direntplus_r },
	{ FUSE_GETXATTR, IN_BODY, &xattr_r }, { FUSE_LISTXATTR, IN_BODY, &xattr_r },
	{ FUSE_LSEEK, IN_BODY, &lseek_r }, { FUSE_IOCTL, IN_BODY, &ioctl_r },
	{ FUSE_STATX, IN_BODY, &statx_r }, { FUSE_COPY_FILE_RANGE_64, IN_BODY, &copy_r },
};
#define NREPLIES (sizeof(replies) / sizeof(replies[0]))

/* name in s (nested through prefixes): its offset and size, or NULL. */
static const struct field *find(const struct rstruct *s, const char *name, size_t len,
				unsigned *off)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct field *f = &s->f[i];
		size_t n = strlen(f->name);
		if (f->size && n == len && !memcmp(f->name, name, len)) {
			*off += f->off;
			return f;
		}
		if (!f->size && n <= len && !memcmp(f->name, name, n)) {
			unsigned sub = *off + f->off;
			const struct field *got = find(f->sub, name + n, len - n, &sub);
			if (got) {
				*off = sub;
				return got;
			}
		}
	}
	return NULL;
}

int field_parse(uint32_t opcode, const char *s, struct edit *e)
{
	size_t len = strcspn(s, "+-=");
	const char *v = s + len;
	*e = (struct edit){ .op = *v == '+' ? EDIT_ADD : *v == '-' ? EDIT_SUB : EDIT_SET };
	if (e->op != EDIT_SET)
		v++;
	if (*v++ != '=' || !*v)
		return -EINVAL;
	char *end;
	errno = 0;
	e->value = *v == '-' ? (uint64_t)scan_ll(v, &end, 0) : scan_ull(v, &end, 0);
	if (*end || errno)
		return -EINVAL;
	unsigned off = 0;
	const struct field *f = NULL;
	if (len > 4 && !memcmp(s, "out.", 4)) {
		f = find(&header_r, s + 4, len - 4, &off);
		e->where = IN_HEADER;
	}
	for (size_t i = 0; !f && i < NREPLIES; i++)
		if (replies[i].opcode == opcode) {
			f = find(replies[i].s, s, len, &off);
			e->where = replies[i].where;
		}
	if (!f)
		return -ENOENT;
	e->off = (uint16_t)off;
	e->size = f->size;
	return 0;
}

static void edit_at(char *p, const struct edit *e)
{
	uint64_t v = 0; /* little-endian, as the wire */
	memcpy(&v, p, e->size);
	v = e->op == EDIT_SET ? e->value : e->op == EDIT_ADD ? v + e->value : v - e->value;
	memcpy(p, &v, e->size);
}

void field_apply(const struct edit *e, unsigned n, struct fuse_out_header *h, char *body,
		 size_t len)
{
	size_t fixed = 0;
	for (unsigned i = 0; i < n; i++)
		if (e[i].where == IN_HEADER)
			edit_at((char *)h + e[i].off, &e[i]);
		else if (e[i].where == IN_BODY && e[i].off + e[i].size <= len)
			edit_at(body + e[i].off, &e[i]);
		else if (e[i].where != IN_BODY)
			fixed = e[i].where == EACH_DIRENT ? sizeof(struct fuse_dirent)
							  : sizeof(struct fuse_direntplus);
	/* Each entry's length is taken before its namelen may change. */
	for (size_t at = 0; fixed && at + fixed <= len;) {
		uint32_t namelen;
		memcpy(&namelen, body + at + fixed - sizeof(struct fuse_dirent) +
		       offsetof(struct fuse_dirent, namelen), sizeof(namelen));
		for (unsigned i = 0; i < n; i++)
			if (e[i].where >= EACH_DIRENT)
				edit_at(body + at + e[i].off, &e[i]);
		at += FUSE_DIRENT_ALIGN(fixed + namelen);
	}
}

/* A struct's own fields; a nested one is one row, listed on its own. */
static void print_fields(struct out *out, const struct rstruct *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct field *f = &s->f[i];
		if (f->size)
			outf(out, "| %s | `%s` | %u | %u |\n", s->name, f->name, f->off, f->size);
		else if (*f->name)
			outf(out, "| %s | `%s` + %s | %u | %u |\n", s->name, f->name,
				f->sub->name, f->off, f->sub->size);
		else
			outf(out, "| %s | %s's fields | %u | %u |\n", s->name,
				f->sub->name, f->off, f->sub->size);
	}
}

void fields_print(struct out *out)
{
	static const struct rstruct *const nested[] = { &attr_r, &dirent_r, &sx_time_r, &sx_r };
	out_puts(out, "| opcode | reply edited by `set=` |\n| --- | --- |\n"
		 "| every opcode | `out.` + fuse_out_header |\n");
	for (size_t i = 0, j; i < NREPLIES; i = j) {
		out_puts(out, "|");
		for (j = i; j < NREPLIES && replies[j].s == replies[i].s; j++)
			outf(out, " %s", opcode_name(replies[j].opcode));
		outf(out, " | %s |\n", replies[i].s->name);
	}
	out_puts(out, "\n| reply | field | offset | size |\n| --- | --- | --- | --- |\n");
	print_fields(out, &header_r);
	for (size_t i = 0; i < NREPLIES; i++)
		if (!i || replies[i].s != replies[i - 1].s)
			print_fields(out, replies[i].s);
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++)
		print_fields(out, nested[i]);
}
