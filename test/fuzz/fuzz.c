// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: sequences of requests through the real dispatch path
 * (src/ops.c, the memory filesystem, the store) with the device's writes
 * and ioctls replaced by a capture that plays the kernel (src/dev.h's
 * dev_set_sys).  The input format is in fuzz.h.
 *
 * Each request sits in a buffer of exactly its length.  After each one:
 *   - exactly one reply to its unique (none for FORGET, BATCH_FORGET and
 *     NOTIFY_REPLY;
 *     none or EAGAIN for INTERRUPT), no reply to another unique, and only
 *     FUSE_NOTIFY_INVAL_INODE as a notification;
 *   - an error is in -511..-1 and carries no payload;
 *   - the payload has the size the kernel expects for the opcode (exact
 *     for fixed replies, at most what was asked for variable ones), and
 *     what the kernel checks in it holds (entry types, sizes, backing ids);
 *   - backing ids are closed only while registered, and once;
 *   - the inodes the modelled kernel holds (lookups handed out by accepted
 *     replies, minus FORGETs) still exist, with the same generation;
 *   - memfs_check(): the inode counter equals the inodes really kept.
 * Replies flagged "refused" fail as the kernel's would (ENOENT or EINVAL),
 * so the undo paths run.  At the end the model releases and forgets all it
 * holds: then no backing id stays registered, the inode and byte counters
 * match the tree, and no descriptor is left open once the fs is freed.
 *
 * A failed check prints why and aborts: libFuzzer saves the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuzz.h"
#include "opname.h"
#include "session.h"

#define OUT_SIZE (1u << 20)
#define MAX_REPLIES 8
#define MAX_NODES 512
#define MAX_OPENS 512
#define MAX_BACKING 512
#define FH_PASSTHROUGH 1 /* src/ops.c's fh for passthrough opens */

static int report_fd = 2;

/* libFuzzer may close stderr (-close_fd_mask=2): keep our own copy. */
__attribute__((constructor)) static void keep_stderr(void)
{
	int fd = dup(2);
	if (fd >= 0)
		report_fd = fd;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t r = write(report_fd, "fuzz: ", 6);
	r = write(report_fd, line, (size_t)n);
	(void)r;
	abort();
}

/* What the kernel holds. */
struct node {
	uint64_t nodeid, generation, nlookup;
	uint32_t type; /* S_IFMT bits */
};

struct open_file {
	uint64_t nodeid, fh;
	bool dir;
};

struct reply {
	uint64_t unique;
	int32_t error;
	uint32_t len; /* payload bytes */
	char *data;
};

static struct {
	/* the capture */
	struct reply replies[MAX_REPLIES];
	unsigned nreplies, notifications;
	bool refuse; /* the current request's reply is refused */
	int refuse_errno;
	bool backing[MAX_BACKING]; /* registered ids */
	int next_backing;
	/* the model */
	struct node nodes[MAX_NODES];
	unsigned nnodes;
	struct open_file opens[MAX_OPENS];
	unsigned nopens;
	uint64_t unique;
	/* the session the requests go to */
	struct session s;
	struct worker w;
} fz;

static ssize_t capture_writev(int fd, const struct iovec *iov, int iovcnt)
{
	(void)fd;
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < sizeof(struct fuse_out_header) || iov[0].iov_len != sizeof(struct fuse_out_header))
		fail("a write of %zu bytes, header in %zu: not a reply", len, iov[0].iov_len);
	const struct fuse_out_header *oh = iov[0].iov_base;
	if (oh->len != len)
		fail("reply header says %u bytes, %zu written", oh->len, len);
	if (oh->unique == 0) { /* a notification */
		if (oh->error != FUSE_NOTIFY_INVAL_INODE ||
		    len != sizeof(*oh) + sizeof(struct fuse_notify_inval_inode_out))
			fail("notification code %d, %zu bytes", oh->error, len);
		fz.notifications++;
		return (ssize_t)len;
	}
	if (fz.nreplies == MAX_REPLIES)
		fail("more than %d replies to one request", MAX_REPLIES);
	struct reply *r = &fz.replies[fz.nreplies++];
	r->unique = oh->unique;
	r->error = oh->error;
	r->len = (uint32_t)(len - sizeof(*oh));
	r->data = malloc(r->len ? r->len : 1);
	if (!r->data)
		fail("out of memory");
	size_t off = 0;
	for (int i = 1; i < iovcnt; i++) {
		memcpy(r->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (fz.refuse) {
		errno = fz.refuse_errno;
		return -1;
	}
	return (ssize_t)len;
}

static int capture_ioctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	if (request == FUSE_DEV_IOC_BACKING_OPEN) {
		const struct fuse_backing_map *map = arg;
		struct stat st;
		if (fstat(map->fd, &st) < 0 || !S_ISREG(st.st_mode))
			fail("BACKING_OPEN of fd %d: not a regular file", map->fd);
		if (fz.next_backing == MAX_BACKING) {
			errno = ENOSPC;
			return -1;
		}
		int id = fz.next_backing++;
		fz.backing[id] = true;
		return id;
	}
	if (request == FUSE_DEV_IOC_BACKING_CLOSE) {
		uint32_t id = *(const uint32_t *)arg;
		if (id == 0 || id >= MAX_BACKING || !fz.backing[id])
			fail("BACKING_CLOSE of id %u, which is not registered", id);
		fz.backing[id] = false;
		return 0;
	}
	fail("ioctl 0x%lx", request);
}

static const struct dev_sys capture = { .writev = capture_writev, .ioctl = capture_ioctl };

static struct node *find_node(uint64_t nodeid)
{
	for (unsigned i = 0; i < fz.nnodes; i++)
		if (fz.nodes[i].nodeid == nodeid)
			return &fz.nodes[i];
	return NULL;
}

static unsigned opens_of(uint64_t nodeid)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fz.nopens; i++)
		n += fz.opens[i].nodeid == nodeid;
	return n;
}

static bool valid_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK:
	case S_IFIFO: case S_IFSOCK:
		return true;
	}
	return false;
}

/* What fuse_invalid_attr() and fuse_iget() check of attributes. */
static void check_attr(const char *what, uint64_t nodeid, const struct fuse_attr *a)
{
	if (!valid_type(a->mode))
		fail("%s: node %llu: mode 0%o", what, (unsigned long long)nodeid, a->mode);
	if (a->size > INT64_MAX)
		fail("%s: node %llu: size %llu", what, (unsigned long long)nodeid,
		     (unsigned long long)a->size);
	struct node *n = find_node(nodeid);
	if (n && n->type != (a->mode & S_IFMT))
		fail("%s: node %llu changed type 0%o -> 0%o", what, (unsigned long long)nodeid,
		     n->type, a->mode & S_IFMT);
}

/* An entry the kernel took in: one more lookup on its node. */
static void take_entry(const char *what, const struct fuse_entry_out *e, bool accepted)
{
	check_attr(what, e->nodeid, &e->attr);
	struct node *n = find_node(e->nodeid);
	if (n && n->generation != e->generation)
		fail("%s: node %llu generation %llu, but the kernel holds generation %llu",
		     what, (unsigned long long)e->nodeid, (unsigned long long)e->generation,
		     (unsigned long long)n->generation);
	if (!accepted)
		return;
	if (!n) {
		if (fz.nnodes == MAX_NODES)
			fail("more than %d nodes held", MAX_NODES);
		n = &fz.nodes[fz.nnodes++];
		*n = (struct node){ .nodeid = e->nodeid, .generation = e->generation,
				    .type = e->attr.mode & S_IFMT };
	}
	n->nlookup++;
}

static void take_open(const char *what, uint64_t nodeid, const struct fuse_open_out *o,
		      bool dir, bool accepted)
{
	if (o->open_flags & FOPEN_PASSTHROUGH) {
		if (dir || !(fz.s.flags & FUSE_PASSTHROUGH))
			fail("%s: FOPEN_PASSTHROUGH not negotiated or on a directory", what);
		/* checked after dispatch: a refused reply's undo closed it since */
		if (o->backing_id <= 0 || o->backing_id >= MAX_BACKING ||
		    (accepted && !fz.backing[o->backing_id]))
			fail("%s: backing id %d is not registered", what, o->backing_id);
	}
	if (!accepted)
		return;
	if (fz.nopens == MAX_OPENS)
		fail("more than %d opens", MAX_OPENS);
	fz.opens[fz.nopens++] = (struct open_file){ .nodeid = nodeid, .fh = o->fh, .dir = dir };
}

static const char *opname(uint32_t op)
{
	return opcode_name(op) ? opcode_name(op) : "UNKNOWN";
}

/* The payload a reply to op must have, as fs/fuse/ checks it; takes in
 * what an accepted reply hands the kernel. */
static void check_payload(const struct fuse_in_header *h, const char *arg,
			  const struct reply *r, bool accepted)
{
	const char *what = opname(h->opcode);
	size_t want = 0, len = r->len;
	bool var = false; /* up to want */
	uint32_t asked = 0;
	switch (h->opcode) {
	case FUSE_LOOKUP: case FUSE_MKNOD: case FUSE_MKDIR: case FUSE_SYMLINK:
	case FUSE_LINK:
		want = sizeof(struct fuse_entry_out);
		break;
	case FUSE_CREATE: case FUSE_TMPFILE:
		want = sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out);
		break;
	case FUSE_GETATTR: case FUSE_SETATTR:
		want = sizeof(struct fuse_attr_out);
		break;
	case FUSE_OPEN: case FUSE_OPENDIR:
		want = sizeof(struct fuse_open_out);
		break;
	case FUSE_READ: case FUSE_READDIR: case FUSE_READDIRPLUS:
		want = ((const struct fuse_read_in *)arg)->size;
		var = true;
		break;
	case FUSE_READLINK: /* fuse_readlink_folio(): one page less its NUL */
		want = 4095;
		var = true;
		break;
	case FUSE_WRITE: case FUSE_COPY_FILE_RANGE:
		want = sizeof(struct fuse_write_out);
		break;
	case FUSE_COPY_FILE_RANGE_64:
		want = sizeof(struct fuse_copy_file_range_out);
		break;
	case FUSE_STATFS:
		want = sizeof(struct fuse_statfs_out);
		break;
	case FUSE_GETXATTR: case FUSE_LISTXATTR:
		asked = ((const struct fuse_getxattr_in *)arg)->size;
		want = asked ? asked : sizeof(struct fuse_getxattr_out);
		var = asked != 0;
		break;
	case FUSE_LSEEK:
		want = sizeof(struct fuse_lseek_out);
		break;
	case FUSE_STATX:
		want = sizeof(struct fuse_statx_out);
		break;
	case FUSE_IOCTL:
		want = sizeof(struct fuse_ioctl_out) + ((const struct fuse_ioctl_in *)arg)->out_size;
		var = true;
		if (len < sizeof(struct fuse_ioctl_out))
			fail("IOCTL: reply of %zu bytes", len);
		break;
	default:
		want = 0;
	}
	if (var ? len > want : len != want)
		fail("%s: reply payload %zu bytes, the kernel takes %s%zu", what, len,
		     var ? "at most " : "", want);

	switch (h->opcode) {
	case FUSE_LOOKUP: case FUSE_MKNOD: case FUSE_MKDIR: case FUSE_SYMLINK:
	case FUSE_LINK: case FUSE_CREATE: case FUSE_TMPFILE: {
		const struct fuse_entry_out *e = (const void *)r->data;
		if (!e->nodeid) {
			if (h->opcode != FUSE_LOOKUP)
				fail("%s: entry with nodeid 0", what);
			return; /* a negative entry */
		}
		uint32_t type = e->attr.mode & S_IFMT, asked_type = 0;
		if (h->opcode == FUSE_MKDIR)
			asked_type = S_IFDIR;
		else if (h->opcode == FUSE_MKNOD && valid_type(((const struct fuse_mknod_in *)arg)->mode))
			asked_type = ((const struct fuse_mknod_in *)arg)->mode & S_IFMT;
		else if (h->opcode == FUSE_SYMLINK)
			asked_type = S_IFLNK;
		else if (h->opcode == FUSE_CREATE || h->opcode == FUSE_TMPFILE)
			asked_type = S_IFREG;
		if (asked_type && type != asked_type)
			fail("%s: made type 0%o, asked for 0%o", what, type, asked_type);
		take_entry(what, e, accepted);
		if (h->opcode == FUSE_CREATE || h->opcode == FUSE_TMPFILE)
			take_open(what, e->nodeid, (const void *)(e + 1), false, accepted);
		return;
	}
	case FUSE_GETATTR: case FUSE_SETATTR:
		check_attr(what, h->nodeid, &((const struct fuse_attr_out *)(const void *)r->data)->attr);
		return;
	case FUSE_OPEN: case FUSE_OPENDIR:
		take_open(what, h->nodeid, (const void *)r->data, h->opcode == FUSE_OPENDIR, accepted);
		return;
	case FUSE_WRITE:
		if (((const struct fuse_write_out *)(const void *)r->data)->size >
		    ((const struct fuse_write_in *)arg)->size)
			fail("WRITE: wrote more than was sent");
		return;
	case FUSE_READDIR: case FUSE_READDIRPLUS: {
		bool plus = h->opcode == FUSE_READDIRPLUS;
		for (size_t off = 0; off < len;) {
			size_t head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);
			if (len - off < head)
				fail("%s: a partial entry at %zu", what, off);
			const struct fuse_dirent *d = plus
				? &((const struct fuse_direntplus *)(const void *)(r->data + off))->dirent
				: (const void *)(r->data + off);
			size_t rec = FUSE_DIRENT_ALIGN(head + d->namelen);
			if (!d->namelen || d->namelen > 255 || rec > len - off)
				fail("%s: entry of name length %u at %zu", what, d->namelen, off);
			if (plus) {
				const struct fuse_direntplus *dp = (const void *)(r->data + off);
				bool dots = (d->namelen == 1 && d->name[0] == '.') ||
					    (d->namelen == 2 && !memcmp(d->name, "..", 2));
				/* fuse_direntplus_link() takes no lookup for the dots */
				if (dp->entry_out.nodeid && !dots)
					take_entry(what, &dp->entry_out, accepted);
			}
			off += rec;
		}
		return;
	}
	default:
		return;
	}
}

/* The node a record names: one the kernel holds, or a raw number. */
static uint64_t pick_node(uint8_t sel, bool raw)
{
	if (raw)
		return sel;
	return fz.nodes[sel % fz.nnodes].nodeid;
}

static void map_node_field(char *arg, size_t arglen, size_t off)
{
	uint64_t v;
	if (arglen < off + sizeof(v))
		return;
	memcpy(&v, arg + off, sizeof(v));
	if (v < 256) {
		v = pick_node((uint8_t)v, false);
		memcpy(arg + off, &v, sizeof(v));
	}
}

static void clear_replies(void)
{
	for (unsigned i = 0; i < fz.nreplies; i++)
		free(fz.replies[i].data);
	fz.nreplies = 0;
}

static void held(void *ctx, uint64_t ino, uint64_t *nlookup, uint32_t *nopen)
{
	(void)ctx;
	const struct node *n = find_node(ino);
	*nlookup = n ? n->nlookup : 0;
	*nopen = 0;
	for (unsigned i = 0; i < fz.nopens; i++)
		*nopen += fz.opens[i].nodeid == ino && !fz.opens[i].dir;
}

/* The inodes the kernel holds must still be there, as it knows them. */
static void check_held(void)
{
	for (unsigned i = 0; i < fz.nnodes; i++) {
		const struct node *n = &fz.nodes[i];
		struct memfs_attr a;
		int err = memfs_getattr(fz.s.fs, n->nodeid, &a);
		if (err)
			fail("node %llu (%u lookups, %u opens): getattr says %d",
			     (unsigned long long)n->nodeid, (unsigned)n->nlookup,
			     opens_of(n->nodeid), err);
		if (a.generation != n->generation || (a.mode & S_IFMT) != n->type)
			fail("node %llu: generation %llu type 0%o, the kernel holds %llu 0%o",
			     (unsigned long long)n->nodeid, (unsigned long long)a.generation,
			     a.mode & S_IFMT, (unsigned long long)n->generation, n->type);
	}
	char why[256];
	if (memfs_check(fz.s.fs, held, NULL, why, sizeof(why)))
		fail("memfs_check: %s", why);
}

/* Sends one request of exactly its length and checks what came back. */
static void send_request(uint32_t opcode, uint64_t nodeid, uint8_t flags, const char *arg,
			 size_t arglen)
{
	static const uint32_t uids[4] = { 0, 1000, 1001, 1000 };
	unsigned caller = (flags & FZ_REC_CALLER) >> FZ_REC_CALLER_SHIFT;
	size_t len = sizeof(struct fuse_in_header) + arglen;
	char *buf = malloc(len);
	if (!buf)
		fail("out of memory");
	fz.unique += 2;
	struct fuse_in_header h = {
		.len = (uint32_t)len, .opcode = opcode, .unique = fz.unique, .nodeid = nodeid,
		.uid = uids[caller], .gid = uids[caller],
		/* caller 3: a process already gone */
		.pid = caller == 3 ? 0x3ffffff0u : (uint32_t)getpid(),
		.total_extlen = (uint16_t)((flags & FZ_REC_EXT) >> FZ_REC_EXT_SHIFT),
	};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), arg, arglen);
	fz.refuse = flags & FZ_REC_REFUSE;
	fz.w.in = buf;
	dispatch(&fz.w, len);
	fz.w.in = NULL;
	fz.refuse = false;

	/* the arguments as the op saw them: without the extensions */
	size_t ext = (size_t)h.total_extlen * 8;
	size_t oparglen = ext <= arglen ? arglen - ext : 0;
	const char *what = opname(opcode);
	/* NOTIFY_REPLY is the kernel's answer to a RETRIEVE: none goes back */
	bool no_reply = opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET ||
			opcode == FUSE_NOTIFY_REPLY;
	unsigned mine = 0;
	for (unsigned i = 0; i < fz.nreplies; i++) {
		const struct reply *r = &fz.replies[i];
		if (r->unique != h.unique)
			fail("%s unique %llu: a reply to unique %llu", what,
			     (unsigned long long)h.unique, (unsigned long long)r->unique);
		mine++;
		if (r->error > 0 || r->error <= -512)
			fail("%s: error %d, the kernel takes -511..0", what, r->error);
		if (r->error && r->len)
			fail("%s: error %d with %u bytes of payload", what, r->error, r->len);
		if (opcode == FUSE_INTERRUPT && r->error != -EAGAIN)
			fail("INTERRUPT answered %d", r->error);
		if (!r->error)
			check_payload(&h, buf + sizeof(h), r, !(flags & FZ_REC_REFUSE));
		(void)oparglen;
	}
	if (no_reply ? mine != 0 : opcode == FUSE_INTERRUPT ? mine > 1 : mine != 1)
		fail("%s: %u replies", what, mine);
	clear_replies();
	free(buf);
	check_held();
}

static void drop_lookups(struct node *n, uint64_t count)
{
	n->nlookup -= count;
	if (!n->nlookup) {
		*n = fz.nodes[--fz.nnodes];
	}
}

/* FORGET: the kernel forgets a node it holds, never below its opens. */
static void send_forget(uint8_t sel, const char *arg, size_t arglen)
{
	unsigned cand[MAX_NODES], nc = 0;
	for (unsigned i = 1; i < fz.nnodes; i++) /* not the root */
		cand[nc++] = i;
	if (!nc)
		return;
	struct node *n = &fz.nodes[cand[sel % nc]];
	uint64_t count = arglen ? 1 + (uint8_t)arg[0] % n->nlookup : n->nlookup;
	if (count == n->nlookup && opens_of(n->nodeid))
		count--;
	if (!count)
		return;
	struct fuse_forget_in in = { .nlookup = count };
	uint64_t nodeid = n->nodeid;
	drop_lookups(n, count);
	send_request(FUSE_FORGET, nodeid, 0, (const char *)&in, sizeof(in));
}

static void send_batch_forget(const char *arg, size_t arglen)
{
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one[8];
	} req = { 0 };
	for (size_t k = 0; k < arglen && req.in.count < 8; k++) {
		if (fz.nnodes < 2)
			break;
		struct node *n = &fz.nodes[1 + (uint8_t)arg[k] % (fz.nnodes - 1)];
		uint64_t count = n->nlookup - (opens_of(n->nodeid) ? 1 : 0);
		if (!count)
			continue;
		req.one[req.in.count++] = (struct fuse_forget_one){ n->nodeid, count };
		drop_lookups(n, count);
	}
	if (!req.in.count)
		return;
	send_request(FUSE_BATCH_FORGET, 0, 0, (const char *)&req,
		     sizeof(req.in) + req.in.count * sizeof(req.one[0]));
}

/* RELEASE and RELEASEDIR: of a file the kernel opened. */
static void send_release(bool dir, uint8_t sel, uint8_t flags)
{
	unsigned cand[MAX_OPENS], nc = 0;
	for (unsigned i = 0; i < fz.nopens; i++)
		if (fz.opens[i].dir == dir)
			cand[nc++] = i;
	if (!nc)
		return;
	unsigned k = cand[sel % nc];
	struct fuse_release_in in = { .fh = fz.opens[k].fh, .flags = O_RDWR };
	uint64_t nodeid = fz.opens[k].nodeid;
	fz.opens[k] = fz.opens[--fz.nopens];
	send_request(dir ? FUSE_RELEASEDIR : FUSE_RELEASE, nodeid,
		     flags & ~(FZ_REC_REFUSE | FZ_REC_EXT), (const char *)&in, sizeof(in));
}

struct walk {
	uint64_t names, bytes;
	uint64_t seen[MAX_NODES * 4];
	unsigned nseen;
	uint64_t dirs[MAX_NODES * 4];
	unsigned ndirs;
};

static bool count_entry(void *ctx, const char *name, size_t namelen, uint32_t mode,
			uint64_t ino, uint64_t next_off, const struct memfs_attr *attr)
{
	struct walk *wk = ctx;
	(void)next_off;
	(void)attr;
	if ((namelen == 1 && name[0] == '.') || (namelen == 2 && !memcmp(name, "..", 2)))
		return true;
	wk->names++;
	if (S_ISDIR(mode) && wk->ndirs < sizeof(wk->dirs) / sizeof(wk->dirs[0]))
		wk->dirs[wk->ndirs++] = ino;
	for (unsigned i = 0; i < wk->nseen; i++)
		if (wk->seen[i] == ino)
			return true;
	if (wk->nseen < sizeof(wk->seen) / sizeof(wk->seen[0]))
		wk->seen[wk->nseen++] = ino;
	struct memfs_attr a;
	if (S_ISREG(mode) && !memfs_getattr(fz.s.fs, ino, &a))
		wk->bytes += a.blocks * 512;
	return true;
}

/* Everything released and forgotten: the counters describe the tree. */
static void check_end(void)
{
	while (fz.nopens)
		send_release(fz.opens[0].dir, 0, 0);
	while (fz.nnodes > 1) {
		struct node *n = &fz.nodes[1];
		struct fuse_forget_in in = { .nlookup = n->nlookup };
		uint64_t nodeid = n->nodeid;
		drop_lookups(n, n->nlookup);
		send_request(FUSE_FORGET, nodeid, 0, (const char *)&in, sizeof(in));
	}
	for (int id = 1; id < MAX_BACKING; id++)
		if (fz.backing[id])
			fail("backing id %d still registered with nothing open", id);
	static struct walk wk;
	memset(&wk, 0, sizeof(wk));
	wk.dirs[wk.ndirs++] = MEMFS_ROOT;
	for (unsigned d = 0; d < wk.ndirs; d++) {
		/* one entry per call: no buffer to outgrow */
		if (memfs_readdir(fz.s.fs, wk.dirs[d], 0, 0, count_entry, &wk, false))
			fail("readdir of directory %llu", (unsigned long long)wk.dirs[d]);
	}
	/* nr_inodes counts the root and every name (tmpfs counts links) */
	uint64_t inodes = memfs_inode_count(fz.s.fs);
	if (inodes != 1 + wk.names)
		fail("%llu inodes counted, the tree has 1 + %llu names",
		     (unsigned long long)inodes, (unsigned long long)wk.names);
	if (memfs_byte_count(fz.s.fs) != wk.bytes)
		fail("%llu bytes counted, the tree's files hold %llu",
		     (unsigned long long)memfs_byte_count(fz.s.fs), (unsigned long long)wk.bytes);
}

static void noop(int sig) { (void)sig; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* op_interrupt() signals the worker it finds busy: ourselves */
	struct sigaction sa = { .sa_handler = noop };
	sigaction(SIGUSR2, &sa, NULL);
	dev_set_sys(&capture);
	fz.w.out = malloc(OUT_SIZE);
	return fz.w.out ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct { uint64_t bytes, inodes; } limits[4] = {
		{ 1u << 20, 64 }, { 64u << 10, 8 }, { 4096, 3 }, { 8u << 20, 4096 },
	};
	if (size < 1)
		return 0;
	uint8_t cfg = data[0];
	int lowest_fd = dup(0);
	close(lowest_fd);

	memset(&fz.replies, 0, sizeof(fz.replies));
	memset(fz.backing, 0, sizeof(fz.backing));
	fz.nreplies = fz.notifications = 0;
	fz.next_backing = 1;
	fz.refuse_errno = cfg & FZ_CFG_REFUSE_EINVAL ? EINVAL : ENOENT;
	fz.nopens = 0;
	fz.unique = 0;
	unsigned lim = (cfg & FZ_CFG_LIMITS) >> FZ_CFG_LIMITS_SHIFT;
	struct memfs_config fc = {
		.max_bytes = limits[lim].bytes, .max_inodes = limits[lim].inodes,
		.root_mode = 01777, .root_uid = 0, .root_gid = 0,
		.check_perms = cfg & FZ_CFG_CHECK_PERMS,
		.memfd_store = cfg & FZ_CFG_MEMFD,
	};
	fz.s = (struct session){
		.cfg = { .threads = 1, .entry_timeout_ns = 1000000000,
			 .attr_timeout_ns = 1000000000 },
		.minor = FUSE_KERNEL_MINOR_VERSION,
		.flags = FUSE_DO_READDIRPLUS | FUSE_HANDLE_KILLPRIV_V2 | FUSE_INIT_EXT |
			 (cfg & FZ_CFG_SETXATTR_EXT ? FUSE_SETXATTR_EXT : 0) |
			 (cfg & FZ_CFG_PASSTHROUGH ? FUSE_PASSTHROUGH : 0),
		.in_size = 0, .out_size = OUT_SIZE,
		.workers = &fz.w, .nworkers = 1, .fd = -1,
	};
	fz.w = (struct worker){ .s = &fz.s, .fd = -1, .thread = pthread_self(), .out = fz.w.out };
	if (memfs_new(&fz.s.fs, &fc))
		fail("memfs_new");
	fz.nnodes = 1;
	fz.nodes[0] = (struct node){ .nodeid = MEMFS_ROOT, .nlookup = 1, .type = S_IFDIR };
	struct memfs_attr root;
	if (memfs_getattr(fz.s.fs, MEMFS_ROOT, &root))
		fail("no root");
	fz.nodes[0].generation = root.generation;

	static char arg[65536 + 64];
	for (size_t off = 1; off + FZ_REC_HEAD <= size;) {
		uint8_t op = data[off], flags = data[off + 1], sel = data[off + 2];
		size_t arglen = data[off + 3] | (size_t)data[off + 4] << 8;
		off += FZ_REC_HEAD;
		if (arglen > size - off)
			arglen = size - off;
		memcpy(arg, data + off, arglen);
		off += arglen;
		switch (op) {
		case FUSE_FORGET:
			send_forget(sel, arg, arglen);
			continue;
		case FUSE_BATCH_FORGET:
			send_batch_forget(arg, arglen);
			continue;
		case FUSE_RELEASE: case FUSE_RELEASEDIR:
			send_release(op == FUSE_RELEASEDIR, sel, flags);
			continue;
		case FUSE_LINK:
			map_node_field(arg, arglen, offsetof(struct fuse_link_in, oldnodeid));
			break;
		case FUSE_RENAME: case FUSE_RENAME2:
			map_node_field(arg, arglen, 0);
			break;
		case FUSE_COPY_FILE_RANGE: case FUSE_COPY_FILE_RANGE_64:
			map_node_field(arg, arglen, offsetof(struct fuse_copy_file_range_in, nodeid_out));
			break;
		case FUSE_INIT:
			continue; /* answered before dispatch ever runs */
		}
		send_request(op, pick_node(sel, flags & FZ_REC_RAW_NODE), flags, arg, arglen);
	}
	check_end();
	memfs_free(fz.s.fs);
	fz.s.fs = NULL;
	int fd = dup(0);
	close(fd);
	if (fd != lowest_fd)
		fail("descriptor %d left open after memfs_free", lowest_fd);
	return 0;
}
