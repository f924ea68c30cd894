/* Replies: the answer's encoding (attributes, entries, directory entries)
 * and its sending, with what a reply-time fault changes. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "counter.h"
#include "log.h"
#include "req.h"

/* Returns 0, or the kernel's refusal: then the kernel did not take in
 * what the reply says (an open, a lookup), and the caller undoes it. */
int send_iov(struct req *r, int err, struct iovec *iov, int iovcnt)
{
	struct worker *w = r->w;
	int res = r->fault ? fault_send(w, r->fault, r->h->unique, err, iov, iovcnt)
			   : worker_send(w, r->h->unique, err, iov, iovcnt);
	if (log_debug_on()) {
		size_t len = sizeof(struct fuse_out_header);
		for (int i = 1; i < iovcnt; i++)
			len += iov[i].iov_len;
		if (err)
			debug("%s unique %llu reply %d %s", w->tag,
			      (unsigned long long)r->h->unique, err, strerror(-err));
		else
			debug("%s unique %llu reply 0 len %zu", w->tag,
			      (unsigned long long)r->h->unique, len);
	}
	if (res == -ENOENT) { /* interrupted: the kernel stopped waiting */
		counter_inc(&w->enoent_replies);
	} else if (res < 0) {
		counter_inc(&w->failed_replies);
		msg("reply to unique %llu: %s", (unsigned long long)r->h->unique, strerror(-res));
	}
	return res;
}

int reply(struct req *r, int err, const void *data, size_t len)
{
	struct iovec iov[2] = { { 0 }, { (void *)data, len } };
	return send_iov(r, err, iov, err || !len ? 1 : 2);
}

void reply_err(struct req *r, int err) { reply(r, err, NULL, 0); }

static void to_fuse_attr(const struct memfs_attr *a, struct fuse_attr *f)
{
	*f = (struct fuse_attr){
		.ino = a->ino, .size = a->size, .blocks = a->blocks,
		.atime = (uint64_t)a->atime.tv_sec, .atimensec = (uint32_t)a->atime.tv_nsec,
		.mtime = (uint64_t)a->mtime.tv_sec, .mtimensec = (uint32_t)a->mtime.tv_nsec,
		.ctime = (uint64_t)a->ctime.tv_sec, .ctimensec = (uint32_t)a->ctime.tv_nsec,
		.mode = a->mode, .nlink = a->nlink, .uid = a->uid, .gid = a->gid,
		.rdev = a->rdev, .blksize = 4096,
	};
}

void to_entry(const struct session *s, const struct memfs_attr *a,
	      struct fuse_entry_out *e)
{
	*e = (struct fuse_entry_out){
		.nodeid = a->ino, .generation = a->generation,
		.entry_valid = sec(s->cfg.entry_timeout_ns),
		.entry_valid_nsec = nsec(s->cfg.entry_timeout_ns),
		.attr_valid = sec(attr_timeout(s, a)),
		.attr_valid_nsec = nsec(attr_timeout(s, a)),
	};
	to_fuse_attr(a, &e->attr);
}

void reply_entry(struct req *r, int err, const struct memfs_attr *a)
{
	if (err)
		return reply_err(r, err);
	struct fuse_entry_out e;
	to_entry(r->w->s, a, &e);
	if (reply(r, 0, &e, sizeof(e)) < 0)
		memfs_forget(r->w->s->fs, a->ino, 1);
}

void reply_attr(struct req *r, int err, const struct memfs_attr *a)
{
	if (err)
		return reply_err(r, err);
	const struct session *s = r->w->s;
	struct fuse_attr_out out = {
		.attr_valid = sec(attr_timeout(s, a)),
		.attr_valid_nsec = nsec(attr_timeout(s, a)),
	};
	to_fuse_attr(a, &out.attr);
	reply(r, 0, &out, sizeof(out));
}

bool fill_dirent(void *ctx, const char *name, size_t namelen, uint32_t mode,
		 uint64_t ino, uint64_t next_off, const struct memfs_attr *attr)
{
	struct dirbuf *db = ctx;
	(void)attr;
	size_t rec = FUSE_DIRENT_ALIGN(sizeof(struct fuse_dirent) + namelen);
	if (db->len + rec > db->size)
		return false;
	struct fuse_dirent *d = (void *)(db->buf + db->len);
	*d = (struct fuse_dirent){ .ino = ino, .off = next_off,
				   .namelen = (uint32_t)namelen, .type = (mode & S_IFMT) >> 12 };
	memcpy(d->name, name, namelen);
	memset(d->name + namelen, 0, rec - sizeof(*d) - namelen);
	db->len += rec;
	return true;
}

bool fill_direntplus(void *ctx, const char *name, size_t namelen, uint32_t mode,
		     uint64_t ino, uint64_t next_off, const struct memfs_attr *attr)
{
	struct dirbuf *db = ctx;
	size_t rec = FUSE_DIRENT_ALIGN(sizeof(struct fuse_direntplus) + namelen);
	if (db->len + rec > db->size)
		return false;
	struct fuse_direntplus *d = (void *)(db->buf + db->len);
	memset(&d->entry_out, 0, sizeof(d->entry_out)); /* "." and ".." carry none */
	if (attr)
		to_entry(db->s, attr, &d->entry_out);
	d->dirent = (struct fuse_dirent){ .ino = ino, .off = next_off,
					  .namelen = (uint32_t)namelen,
					  .type = (mode & S_IFMT) >> 12 };
	memcpy(d->dirent.name, name, namelen);
	memset(d->dirent.name + namelen, 0, rec - sizeof(*d) - namelen);
	db->len += rec;
	return true;
}

/* A READDIRPLUS reply the kernel refused: it took in none of the lookups
 * the entries stand for. */
void forget_entries(struct req *r, const struct dirbuf *db)
{
	for (size_t off = 0; off < db->len;) {
		const struct fuse_direntplus *d = (const void *)(db->buf + off);
		if (d->entry_out.nodeid)
			memfs_forget(r->w->s->fs, d->entry_out.nodeid, 1);
		off += FUSE_DIRENT_ALIGN(sizeof(*d) + d->dirent.namelen);
	}
}
