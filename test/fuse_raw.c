// SPDX-License-Identifier: MIT
/*
 * fuse_raw.c - a bare FUSE server for tests and reproducers (fuse_raw.h).
 * Plain libc and src/fuse_abi.h; nothing else of the project.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fuse_raw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUSECTL_DIR "/sys/fs/fuse/connections"
#define FUSECTL_MAGIC 0x65735543	/* FUSE_CTL_SUPER_MAGIC */
#define TREE_TIME 1700000000u		/* every timestamp of the tree */

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms left until end (-1 stays "forever") */
static int left_ms(long long end, int ms)
{
	long long left;

	if (ms < 0)
		return -1;
	left = end - mono_ms();
	return left > 0 ? (int)left : 0;
}

/* The connection number: the mount's st_dev as the kernel names its
 * fusectl directory, from mountinfo (a stat() would send GETATTR). */
static unsigned int conn_of(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[256];
	unsigned int major, minor, conn = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*u %*u %u:%u %*s %255s", &major, &minor, mnt) == 3 &&
		    !strcmp(mnt, dir))
			conn = major << 20 | minor;	/* the kernel's dev_t */
	fclose(f);
	return conn;
}

int fuse_raw_mount(struct fuse_raw *r, const char *opts)
{
	char data[512];
	int fd, n, err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	for (int i = 0; i < FUSE_RAW_MAX_CLONES; i++)
		r->clones[i] = -1;
	r->owner = getpid();
	r->max_write = FUSE_RAW_MAX_WRITE;
	r->bufsize = FUSE_RAW_BUFSIZE(FUSE_RAW_MAX_WRITE);
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,group_id=0%s%s",
		     fd, opts && *opts ? "," : "", opts ? opts : "");
	if (n < 0 || (size_t)n >= sizeof(data)) {
		close(fd);
		return -EINVAL;
	}
	snprintf(r->dir, sizeof(r->dir), "/tmp/fuse_raw.XXXXXX");
	if (!mkdtemp(r->dir)) {
		err = -errno;
		close(fd);
		r->dir[0] = '\0';
		return err;
	}
	if (mount("fuse_raw", r->dir, "fuse.raw", MS_NOSUID | MS_NODEV, data)) {
		err = -errno;
		close(fd);
		rmdir(r->dir);
		r->dir[0] = '\0';
		return err;
	}
	r->fd = fd;
	r->mounted = 1;
	r->conn = conn_of(r->dir);
	return 0;
}

int fuse_raw_init_reply(struct fuse_raw *r, const struct fuse_raw_req *q,
			const struct fuse_raw_init *in)
{
	static const struct fuse_raw_init defaults;
	const struct fuse_init_in *ki = q->arg;
	struct fuse_init_out out = { 0 };
	uint64_t flags;
	size_t size;
	int err;

	if (!in)
		in = &defaults;
	if (q->h->opcode != FUSE_INIT || q->arglen < FUSE_INIT_IN_V1_SIZE)
		return -EPROTO;
	r->kernel_minor = ki->minor;
	r->offered = ki->flags;
	if ((ki->flags & FUSE_INIT_EXT) && q->arglen >= sizeof(*ki))
		r->offered |= (uint64_t)ki->flags2 << 32;
	r->minor = ki->minor < FUSE_KERNEL_MINOR_VERSION ? ki->minor :
		   FUSE_KERNEL_MINOR_VERSION;
	if (in->minor)
		r->minor = in->minor;
	flags = in->flags & r->offered;
	if (flags >> 32)
		flags |= FUSE_INIT_EXT;
	out.major = FUSE_KERNEL_VERSION;
	out.minor = r->minor;
	out.max_readahead = in->max_readahead ? in->max_readahead : ki->max_readahead;
	out.flags = (uint32_t)flags;
	out.flags2 = (uint32_t)(flags >> 32);
	out.max_background = in->max_background ? in->max_background : 16;
	out.congestion_threshold = in->congestion_threshold ?
				   in->congestion_threshold : 12;
	out.max_write = in->max_write ? in->max_write : FUSE_RAW_MAX_WRITE;
	out.time_gran = in->time_gran ? in->time_gran : 1;
	if (flags & FUSE_MAX_PAGES)
		out.max_pages = in->max_pages ? in->max_pages :
				(uint16_t)(out.max_write / 4096 ? out.max_write / 4096 : 1);
	if (flags & FUSE_PASSTHROUGH)
		out.max_stack_depth = in->max_stack_depth ? in->max_stack_depth : 1;
	/* the reply's size grew with the protocol: send what this minor knows */
	size = r->minor < 5 ? 8 : r->minor < 23 ? 24 : sizeof(out);
	err = fuse_raw_reply(q->fd, q->h->unique, 0, &out, size);
	if (err)
		return err;
	r->flags = flags;
	r->max_write = out.max_write;
	r->bufsize = FUSE_RAW_BUFSIZE(out.max_write);
	r->initialized = 1;
	return 0;
}

/* read one request from r->fd into a new buffer of len bytes, described
 * by *q; free((void *)q->h) afterwards.  0 or -errno */
static int next_req(struct fuse_raw *r, size_t len, int ms,
		    struct fuse_raw_req *q)
{
	void *buf = malloc(len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = fuse_raw_read(r->fd, buf, len, ms);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	q->h = buf;
	q->arg = q->h + 1;
	q->arglen = (size_t)n - sizeof(*q->h);
	q->fd = r->fd;
	return 0;
}

int fuse_raw_init(struct fuse_raw *r, const struct fuse_raw_init *in, int ms)
{
	struct fuse_raw_req q;
	/* before INIT the kernel wants 8192 bytes */
	int err = next_req(r, FUSE_RAW_BUFSIZE(0), ms, &q);

	if (err)
		return err;
	err = fuse_raw_init_reply(r, &q, in);
	free((void *)q.h);
	return err;
}

int fuse_raw_wait_in(int fd, int ms, short *revents)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long end = mono_ms() + (ms > 0 ? ms : 0);
	int n;

	for (;;) {
		n = poll(&p, 1, left_ms(end, ms));
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (revents)
		*revents = n > 0 ? p.revents : 0;
	if (n < 0)
		return -errno;
	return n > 0 && (p.revents & POLLIN) ? 1 : 0;
}

ssize_t fuse_raw_read(int fd, void *buf, size_t len, int ms)
{
	const struct fuse_in_header *h = buf;
	long long end = mono_ms() + (ms > 0 ? ms : 0);
	ssize_t n;
	short rev;

	for (;;) {
		int w = fuse_raw_wait_in(fd, left_ms(end, ms), &rev);

		if (w < 0)
			return w;
		/* a dead connection polls POLLERR: read() says why */
		if (w == 0 && !(rev & (POLLERR | POLLHUP)))
			return -ETIMEDOUT;
		n = read(fd, buf, len);
		if (n >= 0)
			break;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		if (ms >= 0 && left_ms(end, ms) == 0)
			return -ETIMEDOUT;
	}
	if ((size_t)n < sizeof(*h) || h->len != (size_t)n)
		return -EPROTO;
	return n;
}

static int write_iov(int fd, const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	ssize_t n;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	do {
		n = writev(fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == total ? 0 : -EIO;
}

int fuse_raw_replyv(int fd, uint64_t unique, int32_t error,
		    const struct iovec *iov, int iovcnt)
{
	struct fuse_out_header oh = { .error = error, .unique = unique };
	struct iovec v[8];
	size_t len = sizeof(oh);

	if (iovcnt < 0 || iovcnt > 7)
		return -EINVAL;
	v[0].iov_base = &oh;
	v[0].iov_len = sizeof(oh);
	for (int i = 0; i < iovcnt; i++) {
		v[i + 1] = iov[i];
		len += iov[i].iov_len;
	}
	oh.len = (uint32_t)len;
	return write_iov(fd, v, iovcnt + 1);
}

int fuse_raw_reply(int fd, uint64_t unique, int32_t error, const void *data,
		   size_t len)
{
	struct iovec v = { (void *)data, len };

	return fuse_raw_replyv(fd, unique, error, &v, len ? 1 : 0);
}

int fuse_raw_reply_len(int fd, uint32_t hdr_len, uint64_t unique,
		       int32_t error, const void *data, size_t len)
{
	struct fuse_out_header oh = { .len = hdr_len, .error = error,
				      .unique = unique };
	struct iovec v[2] = { { &oh, sizeof(oh) }, { (void *)data, len } };

	return write_iov(fd, v, len ? 2 : 1);
}

int fuse_raw_notify(int fd, int32_t code, const void *data, size_t len)
{
	return fuse_raw_reply(fd, 0, code, data, len);
}

int fuse_raw_clone(struct fuse_raw *r)
{
	uint32_t master = (uint32_t)r->fd;
	int slot = -1, fd, err;

	for (int i = 0; i < FUSE_RAW_MAX_CLONES && slot < 0; i++)
		if (r->clones[i] < 0)
			slot = i;
	if (slot < 0)
		return -EMFILE;
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, FUSE_DEV_IOC_CLONE, &master)) {
		err = -errno;
		close(fd);
		return err;
	}
	r->clones[slot] = fd;
	return fd;
}

int fuse_raw_conn_dir(struct fuse_raw *r, char *buf, size_t len)
{
	struct statfs sf;

	if (!r->conn)
		return -ENOENT;
	if (statfs(FUSECTL_DIR, &sf))
		return -ENOENT;		/* no fusectl in this kernel */
	if (sf.f_type != FUSECTL_MAGIC) {
		if (mount("fusectl", FUSECTL_DIR, "fusectl", 0, NULL))
			return -errno;
		r->fusectl_ours = 1;
	}
	if ((size_t)snprintf(buf, len, FUSECTL_DIR "/%u", r->conn) >= len)
		return -ENAMETOOLONG;
	return access(buf, F_OK) ? -errno : 0;
}

int fuse_raw_abort(struct fuse_raw *r)
{
	char p[128];
	int fd, err = fuse_raw_conn_dir(r, p, sizeof(p) - 8);

	if (err)
		return err;
	strcat(p, "/abort");
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return err;
}

void fuse_raw_teardown(struct fuse_raw *r)
{
	bool here = r->owner && r->owner == getpid();

	if (r->mounted && r->dir[0]) {
		/* abort first: callers still waiting (in children we cannot
		 * reach) get ENOTCONN; then the detached mount goes at once */
		fuse_raw_abort(r);
		umount2(r->dir, MNT_DETACH);
	}
	r->mounted = 0;
	if (here) {
		for (int i = 0; i < FUSE_RAW_MAX_CLONES; i++)
			if (r->clones[i] >= 0)
				close(r->clones[i]);
		if (r->fd >= 0)
			close(r->fd);
	}
	for (int i = 0; i < FUSE_RAW_MAX_CLONES; i++)
		r->clones[i] = -1;
	r->fd = -1;
	for (int i = 0; i < FUSE_RAW_MAX_KIDS; i++) {
		if (r->kids[i] <= 0)
			continue;
		kill(r->kids[i], SIGKILL);
		if (here)
			fuse_raw_wait(r, r->kids[i], 2000);
		r->kids[i] = 0;
	}
	if (r->dir[0]) {
		rmdir(r->dir);
		r->dir[0] = '\0';
	}
	if (r->fusectl_ours) {
		umount2(FUSECTL_DIR, MNT_DETACH);
		r->fusectl_ours = 0;
	}
}

pid_t fuse_raw_fork(struct fuse_raw *r)
{
	bool here = r->owner == getpid();
	int slot = -1;
	pid_t pid;

	for (int i = 0; i < FUSE_RAW_MAX_KIDS && slot < 0; i++)
		if (r->kids[i] <= 0)
			slot = i;
	if (slot < 0)
		return -EAGAIN;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* r may be shared memory: read it, never write it here */
		if (here) {
			for (int i = 0; i < FUSE_RAW_MAX_CLONES; i++)
				if (r->clones[i] >= 0)
					close(r->clones[i]);
			if (r->fd >= 0)
				close(r->fd);
		}
		return 0;
	}
	r->kids[slot] = pid;
	return pid;
}

int fuse_raw_wait(struct fuse_raw *r, pid_t pid, int ms)
{
	long long end = mono_ms() + (ms > 0 ? ms : 0);
	int status;
	pid_t w;

	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (w == 0 && left_ms(end, ms) == 0)
			return -ETIMEDOUT;
		if (w == 0)
			poll(NULL, 0, 2);
	}
	for (int i = 0; i < FUSE_RAW_MAX_KIDS; i++)
		if (r->kids[i] == pid)
			r->kids[i] = 0;
	if (w < 0)
		return -ECHILD;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void *fuse_raw_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ------------------------------------------------------------------ */
/* the default tree                                                    */

#define LINK_TARGET "file"

/* the tree: the root, then its entries in readdir order */
static const struct node {
	const char *name;
	uint64_t nodeid;
	uint32_t mode, nlink;
	uint64_t size;
} tree[] = {
	{ "", FUSE_RAW_ROOT, S_IFDIR | 0755, 3, 0 },
	{ "file", FUSE_RAW_FILE, S_IFREG | 0644, 1, FUSE_RAW_FILE_SIZE },
	{ "dir", FUSE_RAW_DIR, S_IFDIR | 0755, 2, 0 },
	{ "link", FUSE_RAW_LINK, S_IFLNK | 0777, 1, sizeof(LINK_TARGET) - 1 },
};
#define NENTRIES (sizeof(tree) / sizeof(tree[0]) - 1)
static const struct node *const root_entries = tree + 1;

int fuse_raw_attr(const struct fuse_raw *r, uint64_t nodeid,
		  struct fuse_attr *a)
{
	const struct node *n = NULL;

	(void)r;
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]) && !n; i++)
		if (tree[i].nodeid == nodeid)
			n = &tree[i];
	if (!n)
		return -ENOENT;
	a->ino = nodeid;
	a->mode = n->mode;
	a->nlink = n->nlink;
	a->size = n->size;
	a->blocks = (a->size + 511) / 512;
	a->blksize = 4096;
	a->atime = a->mtime = a->ctime = TREE_TIME;
	return 0;
}

void fuse_raw_entry(struct fuse_entry_out *e, uint64_t nodeid, uint32_t mode,
		    uint64_t size, uint64_t valid)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = nodeid;
	e->generation = 1;
	e->entry_valid = valid;
	e->attr_valid = valid;
	e->attr.ino = nodeid;
	e->attr.mode = mode;
	e->attr.nlink = S_ISDIR(mode) ? 2 : 1;
	e->attr.size = size;
	e->attr.blocks = (size + 511) / 512;
	e->attr.blksize = 4096;
}

/* a tree entry's fuse_entry_out: 0, or -ENOENT */
static int tree_entry(const struct fuse_raw *r, uint64_t nodeid,
		      struct fuse_entry_out *e)
{
	memset(e, 0, sizeof(*e));
	if (fuse_raw_attr(r, nodeid, &e->attr))
		return -ENOENT;
	e->nodeid = nodeid;
	e->generation = 1;
	e->entry_valid = e->attr_valid = r->valid;
	return 0;
}

static int reply_lookup(struct fuse_raw *r, const struct fuse_raw_req *q)
{
	const char *name = q->arg;
	struct fuse_entry_out e;

	if (!q->arglen || !memchr(name, '\0', q->arglen))
		return fuse_raw_reply(q->fd, q->h->unique, -EINVAL, NULL, 0);
	if (q->h->nodeid == FUSE_RAW_ROOT)
		for (size_t i = 0; i < NENTRIES; i++)
			if (!strcmp(name, root_entries[i].name)) {
				tree_entry(r, root_entries[i].nodeid, &e);
				return fuse_raw_reply(q->fd, q->h->unique, 0,
						      &e, sizeof(e));
			}
	return fuse_raw_reply(q->fd, q->h->unique, -ENOENT, NULL, 0);
}

static int reply_attr(struct fuse_raw *r, const struct fuse_raw_req *q)
{
	struct fuse_attr_out out = { .attr_valid = r->valid };

	if (fuse_raw_attr(r, q->h->nodeid, &out.attr))
		return fuse_raw_reply(q->fd, q->h->unique, -ENOENT, NULL, 0);
	return fuse_raw_reply(q->fd, q->h->unique, 0, &out, sizeof(out));
}

static int reply_read(const struct fuse_raw_req *q)
{
	const struct fuse_read_in *in = q->arg;
	unsigned char data[FUSE_RAW_FILE_SIZE];
	uint64_t n = 0;

	if (q->arglen < sizeof(*in))
		return fuse_raw_reply(q->fd, q->h->unique, -EINVAL, NULL, 0);
	if (q->h->nodeid != FUSE_RAW_FILE)
		return fuse_raw_reply(q->fd, q->h->unique, -EISDIR, NULL, 0);
	if (in->offset < FUSE_RAW_FILE_SIZE) {
		n = FUSE_RAW_FILE_SIZE - in->offset;
		if (n > in->size)
			n = in->size;
	}
	for (uint64_t i = 0; i < n; i++)
		data[i] = fuse_raw_file_byte(in->offset + i);
	return fuse_raw_reply(q->fd, q->h->unique, 0, data, (size_t)n);
}

/* one READDIR(PLUS) record for entry i of dir into buf: its size, 0 if
 * it does not fit in room */
static size_t dir_record(const struct fuse_raw *r, uint64_t dir, size_t i,
			 bool plus, char *buf, size_t room)
{
	const char *name = i == 0 ? "." : i == 1 ? ".." : root_entries[i - 2].name;
	uint64_t nodeid = i == 0 ? dir : i == 1 ? FUSE_RAW_ROOT :
			  root_entries[i - 2].nodeid;
	size_t namelen = strlen(name);
	size_t head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);
	size_t size = FUSE_DIRENT_ALIGN(head + namelen);
	struct fuse_dirent *d;
	struct fuse_attr a;

	if (size > room)
		return 0;
	memset(buf, 0, size);
	fuse_raw_attr(r, nodeid, &a);
	if (plus) {
		struct fuse_direntplus *p = (struct fuse_direntplus *)buf;

		/* the kernel links no dentry for . and ..: no entry for them */
		if (i >= 2)
			tree_entry(r, nodeid, &p->entry_out);
		d = &p->dirent;
	} else {
		d = (struct fuse_dirent *)buf;
	}
	d->ino = nodeid;
	d->off = i + 1;
	d->namelen = (uint32_t)namelen;
	d->type = a.mode >> 12;		/* DT_* */
	memcpy(d->name, name, namelen);
	return size;
}

static int reply_readdir(struct fuse_raw *r, const struct fuse_raw_req *q,
			 bool plus)
{
	const struct fuse_read_in *in = q->arg;
	char buf[4096];
	size_t used = 0, room, n, count;

	if (q->arglen < sizeof(*in))
		return fuse_raw_reply(q->fd, q->h->unique, -EINVAL, NULL, 0);
	if (q->h->nodeid != FUSE_RAW_ROOT && q->h->nodeid != FUSE_RAW_DIR)
		return fuse_raw_reply(q->fd, q->h->unique, -ENOTDIR, NULL, 0);
	count = q->h->nodeid == FUSE_RAW_ROOT ? 2 + NENTRIES : 2;
	room = in->size < sizeof(buf) ? in->size : sizeof(buf);
	for (uint64_t i = in->offset; i < count; i++) {
		n = dir_record(r, q->h->nodeid, (size_t)i, plus, buf + used,
			       room - used);
		if (!n)
			break;
		used += n;
	}
	return fuse_raw_reply(q->fd, q->h->unique, 0, buf, used);
}

int fuse_raw_default(struct fuse_raw *r, const struct fuse_raw_req *q)
{
	const struct fuse_in_header *h = q->h;
	int fd = q->fd, err;
	uint64_t u = h->unique;

	switch (h->opcode) {
	case FUSE_INIT:
		return fuse_raw_init_reply(r, q, NULL);
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return 0;	/* no reply expected */
	case FUSE_LOOKUP:
		err = reply_lookup(r, q);
		break;
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		err = reply_attr(r, q);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out out = { .fh = h->nodeid };

		err = fuse_raw_reply(fd, u, 0, &out, sizeof(out));
		break;
	}
	case FUSE_READ:
		err = reply_read(q);
		break;
	case FUSE_WRITE: {
		const struct fuse_write_in *in = q->arg;
		struct fuse_write_out out = { 0 };

		if (q->arglen < sizeof(*in))
			return fuse_raw_reply(fd, u, -EINVAL, NULL, 0);
		out.size = in->size;	/* taken, and dropped */
		err = fuse_raw_reply(fd, u, 0, &out, sizeof(out));
		break;
	}
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		err = reply_readdir(r, q, h->opcode == FUSE_READDIRPLUS);
		break;
	case FUSE_READLINK:
		if (h->nodeid == FUSE_RAW_LINK)
			err = fuse_raw_reply(fd, u, 0, LINK_TARGET,
					     sizeof(LINK_TARGET) - 1);
		else
			err = fuse_raw_reply(fd, u, -EINVAL, NULL, 0);
		break;
	case FUSE_STATFS: {
		struct fuse_statfs_out out = { .st = {
			.blocks = 1024, .bfree = 1024, .bavail = 1024,
			.files = 16, .ffree = 12, .bsize = 4096,
			.namelen = 255, .frsize = 4096 } };

		err = fuse_raw_reply(fd, u, 0, &out, sizeof(out));
		break;
	}
	case FUSE_GETXATTR:
		err = fuse_raw_reply(fd, u, -ENODATA, NULL, 0);
		break;
	case FUSE_LISTXATTR: {
		const struct fuse_getxattr_in *in = q->arg;
		struct fuse_getxattr_out out = { 0 };

		if (q->arglen < sizeof(*in))
			return fuse_raw_reply(fd, u, -EINVAL, NULL, 0);
		/* no names: the size probe gets 0, a read gets no bytes */
		err = fuse_raw_reply(fd, u, 0, &out, in->size ? 0 : sizeof(out));
		break;
	}
	case FUSE_ACCESS:
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
	case FUSE_DESTROY:
		err = fuse_raw_reply(fd, u, 0, NULL, 0);
		break;
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
	case FUSE_LINK:
	case FUSE_CREATE:
	case FUSE_TMPFILE:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
		err = fuse_raw_reply(fd, u, -EROFS, NULL, 0);
		break;
	default:
		err = fuse_raw_reply(fd, u, -ENOSYS, NULL, 0);
		break;
	}
	return err == -ENOENT ? 0 : err;	/* ENOENT: interrupted meanwhile */
}

/* ------------------------------------------------------------------ */
/* serving                                                             */

static int dispatch(struct fuse_raw *r, const struct fuse_raw_ops *ops,
		    const struct fuse_raw_req *q)
{
	uint32_t op = q->h->opcode;
	int rc = FUSE_RAW_DEFAULT;

	if (ops && ops->any)
		rc = ops->any(r, q, ops->data);
	if (rc == FUSE_RAW_DEFAULT && ops && op < FUSE_RAW_NOPS && ops->on[op])
		rc = ops->on[op](r, q, ops->data);
	if (rc == FUSE_RAW_DEFAULT)
		return fuse_raw_default(r, q);
	if (rc < 0)
		return rc;
	return rc == FUSE_RAW_STOP ? FUSE_RAW_STOP : 0;
}

int fuse_raw_serve_one(struct fuse_raw *r, const struct fuse_raw_ops *ops,
		       int ms)
{
	size_t len = r->bufsize ? r->bufsize : FUSE_RAW_BUFSIZE(FUSE_RAW_MAX_WRITE);
	struct fuse_raw_req q;
	int rc = next_req(r, len, ms, &q);

	if (rc)
		return rc;
	r->count[q.h->opcode < FUSE_RAW_NOPS ? q.h->opcode : 0]++;
	rc = dispatch(r, ops, &q);
	free((void *)q.h);
	return rc;
}

int fuse_raw_call(struct fuse_raw *r, const struct fuse_raw_ops *ops,
		  int (*fn)(const char *dir, void *arg), void *arg, int ms)
{
	long long end = mono_ms() + ms;
	bool serving = true;
	pid_t pid = fuse_raw_fork(r);
	int rc;

	if (pid < 0)
		return pid;
	if (pid == 0)
		_exit(fn(r->dir, arg) & 255);
	for (;;) {
		int left;

		rc = fuse_raw_wait(r, pid, 0);
		if (rc != -ETIMEDOUT)
			return rc;
		left = left_ms(end, ms);
		if (left == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (left > 20)
			left = 20;	/* look at the child between requests */
		if (!serving) {
			poll(NULL, 0, left);
			continue;
		}
		rc = fuse_raw_serve_one(r, ops, left);
		if (rc == FUSE_RAW_STOP)
			serving = false;
		else if (rc < 0 && rc != -ETIMEDOUT)
			break;
	}
	/* a child in a request we read and never answered cannot die before
	 * the answer or an abort: then it stays in r->kids for the teardown */
	kill(pid, SIGKILL);
	fuse_raw_wait(r, pid, 100);
	return rc;
}
