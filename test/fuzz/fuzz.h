/* SPDX-License-Identifier: MIT */
/*
 * The fuzzer's input format, shared by the target (fuzz.c) and the seed
 * corpus generator (seeds.c).
 *
 * byte 0: configuration (FZ_CFG_*)
 * then records, until the input ends:
 *     u8 opcode, u8 flags (FZ_REC_*), u8 node, u16 arglen (little endian),
 *     arglen bytes: the request's arguments (after the header)
 *
 * node picks the request's nodeid among the inodes the modelled kernel
 * holds (index modulo their count, the root first), or is the nodeid
 * itself with FZ_REC_RAW_NODE.  Nodeids inside the arguments (LINK's
 * oldnodeid, RENAME's newdir, COPY_FILE_RANGE's nodeid_out) below 256 are
 * mapped the same way.  FORGET, BATCH_FORGET, RELEASE and RELEASEDIR are
 * made by the target from its model (the kernel forgets only what it
 * holds and releases only what it opened); their argument bytes only
 * choose among those.
 */
#ifndef RAMFUSE_FUZZ_H
#define RAMFUSE_FUZZ_H

enum {
	FZ_CFG_CHECK_PERMS = 1 << 0,	/* nodefault_permissions */
	FZ_CFG_PASSTHROUGH = 1 << 1,	/* FUSE_PASSTHROUGH negotiated */
	FZ_CFG_MEMFD = 1 << 2,		/* data in memfds, not a private tmpfs */
	FZ_CFG_LIMITS = 3 << 3,		/* which size= and nr_inodes= */
	FZ_CFG_LIMITS_SHIFT = 3,
	FZ_CFG_SETXATTR_EXT = 1 << 5,	/* FUSE_SETXATTR_EXT negotiated */
	FZ_CFG_REFUSE_EINVAL = 1 << 6,	/* refusals say EINVAL, not ENOENT */
};

enum {
	FZ_REC_REFUSE = 1 << 0,		/* the kernel refuses this reply */
	FZ_REC_CALLER = 3 << 1,		/* root, uid 1000, uid 1001, a gone pid */
	FZ_REC_CALLER_SHIFT = 1,
	FZ_REC_RAW_NODE = 1 << 3,	/* node is the nodeid itself */
	FZ_REC_EXT = 3 << 4,		/* 0..3 words of extensions at the end */
	FZ_REC_EXT_SHIFT = 4,
};

#define FZ_REC_HEAD 5

#endif
