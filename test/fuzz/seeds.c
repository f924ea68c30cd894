// SPDX-License-Identifier: MIT
/*
 * Writes the fuzzer's seed corpus: well-formed request sequences, one file
 * per opcode and configuration, in the format of fuzz.h.  Each builds a
 * small tree (a directory, a file with data and an xattr, a symlink) and
 * then sends the opcode it is named after, so that every opcode starts
 * from a request the server accepts.
 *
 *     seeds DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse_abi.h"
#include "fuzz.h"

static unsigned char buf[1 << 16];
static size_t len;

static void rec(uint32_t op, uint8_t flags, uint8_t node, const void *arg, size_t arglen)
{
	if (len + FZ_REC_HEAD + arglen > sizeof(buf))
		return;
	buf[len++] = (uint8_t)op;
	buf[len++] = flags;
	buf[len++] = node;
	buf[len++] = (uint8_t)arglen;
	buf[len++] = (uint8_t)(arglen >> 8);
	memcpy(buf + len, arg, arglen);
	len += arglen;
}

/* fixed arguments followed by one or two NUL-terminated strings */
static void rec_names(uint32_t op, uint8_t node, const void *fixed, size_t fixedlen,
		      const char *a, const char *b)
{
	unsigned char arg[512];
	size_t n = fixedlen;
	memcpy(arg, fixed, fixedlen);
	memcpy(arg + n, a, strlen(a) + 1);
	n += strlen(a) + 1;
	if (b) {
		memcpy(arg + n, b, strlen(b) + 1);
		n += strlen(b) + 1;
	}
	rec(op, 0, node, arg, n);
}

/* Nodes held by the model, in order: 0 root, 1 "d", 2 "f", 3 "l". */
enum { ROOT, DIR_D, FILE_F, LINK_L };

static void setup(void)
{
	struct fuse_mkdir_in mk = { .mode = 0755 };
	rec_names(FUSE_MKDIR, ROOT, &mk, sizeof(mk), "d", NULL);
	struct fuse_create_in cr = { .flags = O_RDWR, .mode = 0644 };
	rec_names(FUSE_CREATE, ROOT, &cr, sizeof(cr), "f", NULL);
	struct {
		struct fuse_write_in in;
		char data[5000];
	} wr = { .in = { .size = sizeof(wr.data) } };
	memset(wr.data, 'x', sizeof(wr.data));
	rec(FUSE_WRITE, 0, FILE_F, &wr, sizeof(wr));
	rec_names(FUSE_SYMLINK, ROOT, NULL, 0, "l", "f");
	struct fuse_setxattr_in sx = { .size = 3 };
	unsigned char x[64];
	memcpy(x, &sx, sizeof(sx));
	memcpy(x + sizeof(sx), "user.a\0val", 10);
	rec(FUSE_SETXATTR, 0, FILE_F, x, sizeof(sx) + 10);
}

static void the_op(uint32_t op)
{
	switch (op) {
	case FUSE_LOOKUP:
		rec_names(op, ROOT, NULL, 0, "f", NULL);
		rec_names(op, ROOT, NULL, 0, "missing", NULL);
		break;
	case FUSE_FORGET: {
		struct fuse_forget_in in = { .nlookup = 1 };
		rec(op, 0, 1, &in, sizeof(in));
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_getattr_in in = { 0 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_SETATTR: {
		struct fuse_setattr_in in = { .valid = 1 << 0 /* FATTR_MODE */, .mode = 04755 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		in = (struct fuse_setattr_in){ .valid = 1 << 3 /* FATTR_SIZE */, .size = 100 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		in = (struct fuse_setattr_in){ 0 }; /* chown(-1, -1) */
		rec(op, 1 << FZ_REC_CALLER_SHIFT, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_READLINK:
		rec(op, 0, LINK_L, NULL, 0);
		break;
	case FUSE_SYMLINK:
		rec_names(op, DIR_D, NULL, 0, "s", "../f");
		break;
	case FUSE_MKNOD: {
		struct fuse_mknod_in in = { .mode = S_IFIFO | 0644 };
		rec_names(op, DIR_D, &in, sizeof(in), "p", NULL);
		break;
	}
	case FUSE_MKDIR: {
		struct fuse_mkdir_in in = { .mode = 01777 };
		rec_names(op, DIR_D, &in, sizeof(in), "sub", NULL);
		break;
	}
	case FUSE_UNLINK:
		rec_names(op, ROOT, NULL, 0, "f", NULL);
		break;
	case FUSE_RMDIR:
		rec_names(op, ROOT, NULL, 0, "d", NULL);
		break;
	case FUSE_RENAME: {
		struct fuse_rename_in in = { .newdir = DIR_D };
		rec_names(op, ROOT, &in, sizeof(in), "f", "g");
		break;
	}
	case FUSE_RENAME2: {
		struct fuse_rename2_in in = { .newdir = ROOT, .flags = 2 /* EXCHANGE */ };
		rec_names(op, ROOT, &in, sizeof(in), "f", "l");
		break;
	}
	case FUSE_LINK: {
		struct fuse_link_in in = { .oldnodeid = FILE_F };
		rec_names(op, DIR_D, &in, sizeof(in), "hard", NULL);
		break;
	}
	case FUSE_OPEN: case FUSE_OPENDIR: {
		struct fuse_open_in in = { .flags = O_RDONLY };
		rec(op, 0, op == FUSE_OPEN ? FILE_F : DIR_D, &in, sizeof(in));
		break;
	}
	case FUSE_READ: case FUSE_READDIR: case FUSE_READDIRPLUS: {
		struct fuse_read_in in = { .size = 4096 };
		rec(op, 0, op == FUSE_READ ? FILE_F : ROOT, &in, sizeof(in));
		break;
	}
	case FUSE_WRITE: {
		struct {
			struct fuse_write_in in;
			char data[8];
		} in = { .in = { .offset = 1 << 20, .size = 8,
				 .write_flags = FUSE_WRITE_KILL_SUIDGID } };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_STATFS: case FUSE_DESTROY:
		rec(op, 0, ROOT, NULL, 0);
		break;
	case FUSE_RELEASE: case FUSE_RELEASEDIR: {
		struct fuse_open_in in = { .flags = O_RDONLY };
		if (op == FUSE_RELEASEDIR)
			rec(FUSE_OPENDIR, 0, DIR_D, &in, sizeof(in));
		rec(op, 0, 0, NULL, 0);
		break;
	}
	case FUSE_FSYNC: case FUSE_FSYNCDIR: case FUSE_FLUSH: {
		struct fuse_flush_in in = { 0 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_SETXATTR: {
		struct fuse_setxattr_in in = { .size = 4, .flags = 1 /* CREATE */ };
		unsigned char x[64];
		memcpy(x, &in, sizeof(in));
		memcpy(x + sizeof(in), "trusted.t\0abcd", 14);
		rec(op, 0, DIR_D, x, sizeof(in) + 14);
		break;
	}
	case FUSE_GETXATTR: {
		struct fuse_getxattr_in in = { .size = 0 };
		rec_names(op, FILE_F, &in, sizeof(in), "user.a", NULL);
		in.size = 64;
		rec_names(op, FILE_F, &in, sizeof(in), "user.a", NULL);
		break;
	}
	case FUSE_LISTXATTR: {
		struct fuse_getxattr_in in = { .size = 256 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_REMOVEXATTR:
		rec_names(op, FILE_F, NULL, 0, "user.a", NULL);
		break;
	case FUSE_GETLK: case FUSE_SETLK: case FUSE_SETLKW: {
		struct fuse_lk_in in = { 0 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_ACCESS: {
		struct fuse_access_in in = { .mask = 7 };
		rec(op, 2 << FZ_REC_CALLER_SHIFT, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_CREATE: {
		struct fuse_create_in in = { .flags = O_WRONLY | O_TRUNC, .mode = 02755 };
		rec_names(op, DIR_D, &in, sizeof(in), "new", NULL);
		break;
	}
	case FUSE_INTERRUPT: {
		struct fuse_interrupt_in in = { .unique = 2 };
		rec(op, 0, ROOT, &in, sizeof(in));
		break;
	}
	case FUSE_BMAP: case FUSE_POLL: case FUSE_NOTIFY_REPLY: case FUSE_SETUPMAPPING:
	case FUSE_REMOVEMAPPING: {
		char in[64] = { 0 };
		rec(op, 0, FILE_F, in, sizeof(in));
		break;
	}
	case FUSE_IOCTL: {
		struct {
			struct fuse_ioctl_in in;
			uint32_t flags;
		} in = { .in = { .cmd = 0x40086602u /* FS_IOC_SETFLAGS */, .in_size = 4 },
			 .flags = 0x20 /* append only */ };
		rec(op, 0, FILE_F, &in, sizeof(in));
		in.in = (struct fuse_ioctl_in){ .cmd = 0x80086601u, .out_size = 4 };
		rec(op, 0, FILE_F, &in.in, sizeof(in.in));
		break;
	}
	case FUSE_BATCH_FORGET: {
		unsigned char pick[3] = { 0, 1, 2 };
		rec(op, 0, 0, pick, sizeof(pick));
		break;
	}
	case FUSE_FALLOCATE: {
		struct fuse_fallocate_in in = { .offset = 4096, .length = 1 << 16 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_LSEEK: {
		struct fuse_lseek_in in = { .offset = 1, .whence = 3 /* SEEK_DATA */ };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_COPY_FILE_RANGE: case FUSE_COPY_FILE_RANGE_64: {
		struct fuse_create_in cr = { .flags = O_RDWR, .mode = 0600 };
		rec_names(FUSE_CREATE, DIR_D, &cr, sizeof(cr), "copy", NULL);
		struct fuse_copy_file_range_in in = { .nodeid_out = 4, .len = 3000, .off_in = 7 };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	case FUSE_SYNCFS: {
		struct fuse_syncfs_in in = { 0 };
		rec(op, 0, ROOT, &in, sizeof(in));
		break;
	}
	case FUSE_TMPFILE: {
		struct fuse_create_in in = { .flags = O_RDWR, .mode = 0600 };
		rec(op, 0, DIR_D, &in, sizeof(in));
		struct fuse_link_in ln = { .oldnodeid = 4 };
		rec_names(FUSE_LINK, ROOT, &ln, sizeof(ln), "linked", NULL);
		break;
	}
	case FUSE_STATX: {
		struct fuse_statx_in in = { .sx_mask = 0xfff };
		rec(op, 0, FILE_F, &in, sizeof(in));
		break;
	}
	default: { /* opcodes nobody serves: ENOSYS */
		char in[16] = { 0 };
		rec(op, 0, ROOT, in, sizeof(in));
	}
	}
}

int main(int argc, char **argv)
{
	/* every permission mode, passthrough on and off, both stores */
	static const uint8_t cfgs[] = {
		0, FZ_CFG_CHECK_PERMS, FZ_CFG_PASSTHROUGH | FZ_CFG_SETXATTR_EXT,
		FZ_CFG_MEMFD | FZ_CFG_CHECK_PERMS | FZ_CFG_PASSTHROUGH,
		(1 << FZ_CFG_LIMITS_SHIFT) | FZ_CFG_MEMFD | FZ_CFG_REFUSE_EINVAL,
	};
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	unsigned files = 0;
	for (uint32_t op = 1; op <= FUSE_COPY_FILE_RANGE_64; op++) {
		for (size_t c = 0; c < sizeof(cfgs); c++) {
			len = 0;
			buf[len++] = cfgs[c];
			setup();
			the_op(op);
			/* and once more with its reply refused */
			if (op != FUSE_FORGET && op != FUSE_BATCH_FORGET && c == 1) {
				size_t mark = len;
				the_op(op);
				buf[mark + 1] |= FZ_REC_REFUSE;
			}
			char path[4096];
			snprintf(path, sizeof(path), "%s/op%02u-cfg%02x", argv[1], op, cfgs[c]);
			FILE *f = fopen(path, "w");
			if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
				perror(path);
				return 1;
			}
			files++;
		}
	}
	printf("seeds: %u inputs in %s\n", files, argv[1]);
	return 0;
}
