// SPDX-License-Identifier: MIT
/*
 * verify_attributes_test - the kernel refuses attributes no inode can have.
 *
 * Fixed by eb59bd17d2fa ("fuse: verify attributes", Linux 5.5; stable
 * 5.4.3, 4.19.89, 4.14.159, 4.9.207, 4.4.207, 3.16.82): a file size above
 * LLONG_MAX was taken as a negative i_size, after which reads spun in
 * truncate_pagecache.  Since the fix, fuse_invalid_attr() checks the size
 * and the file type in every reply that carries attributes.  Affected:
 * every kernel from 2.6.14 to 5.4.2 without the backport; there the stats
 * below succeed (st_size negative) and READDIRPLUS links the entry with no
 * FORGET.  Fixed kernels: EIO, and a FORGET for the refused entry.
 *
 *   lookup_size      LOOKUP with attr.size = 2^63: stat() fails EIO
 *   lookup_type      LOOKUP with a mode of no file type (S_IFMT all ones): EIO
 *   getattr_size     GETATTR (statx AT_STATX_FORCE_SYNC) with 2^63: EIO
 *   readdirplus_size READDIRPLUS entry with 2^63: the name is listed, the
 *                    entry is not linked and its lookup is given back (FORGET)
 *
 * Written with test/fuse_raw.h: only the reply under test is overridden.
 */
#include "harness.h"
#include "fuse_raw.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef AT_STATX_FORCE_SYNC
#define AT_STATX_FORCE_SYNC 0x2000
#endif
#define HUGE_SIZE (1ULL << 63)	/* LLONG_MAX + 1 */
#define WAIT_MS 5000

FUSE_RAW_FIXTURE(attr)

/* LOOKUP of "file" answered with mode/size of our choosing */
struct lookup_bad {
	uint32_t mode;
	uint64_t size;
};

static int lookup_bad(struct fuse_raw *r, const struct fuse_raw_req *q,
		      void *data)
{
	const struct lookup_bad *bad = data;
	struct fuse_entry_out e;

	if (q->h->nodeid != FUSE_RAW_ROOT || q->arglen < 5 ||
	    memcmp(q->arg, "file", 5))
		return FUSE_RAW_DEFAULT;
	fuse_raw_entry(&e, FUSE_RAW_FILE, bad->mode, bad->size, r->valid);
	return fuse_raw_reply(q->fd, q->h->unique, 0, &e, sizeof(e)) ?:
	       FUSE_RAW_HANDLED;
}

static int getattr_huge(struct fuse_raw *r, const struct fuse_raw_req *q,
			void *data)
{
	struct fuse_attr_out out = { .attr_valid = r->valid };

	(void)data;
	if (q->h->nodeid != FUSE_RAW_FILE)
		return FUSE_RAW_DEFAULT;
	fuse_raw_attr(r, q->h->nodeid, &out.attr);
	out.attr.size = HUGE_SIZE;
	return fuse_raw_reply(q->fd, q->h->unique, 0, &out, sizeof(out)) ?:
	       FUSE_RAW_HANDLED;
}

/* children: 0 on success, else the errno */
static int stat_file(const char *dir, void *arg)
{
	char p[128];
	struct stat st;

	(void)arg;
	snprintf(p, sizeof(p), "%s/file", dir);
	return stat(p, &st) ? errno : 0;
}

static int statx_sync_file(const char *dir, void *arg)
{
	char p[128], stx[256];	/* struct statx, unread */

	(void)arg;
	snprintf(p, sizeof(p), "%s/file", dir);
	return syscall(SYS_statx, AT_FDCWD, p, AT_STATX_FORCE_SYNC, 0x7ffU, stx) ?
	       errno : 0;
}

TEST_F_TIMEOUT(attr, lookup_size, 20)
{
	struct lookup_bad bad = { S_IFREG | 0644, HUGE_SIZE };
	struct fuse_raw_ops ops = { .on[FUSE_LOOKUP] = lookup_bad, .data = &bad };

	EXPECT_EQ(EIO, fuse_raw_call(&self->r, &ops, stat_file, NULL, WAIT_MS))
		TH_LOG("stat of a file of 2^63 bytes: the kernel took the size");
	EXPECT_LE(1, self->r.count[FUSE_LOOKUP]);
}

TEST_F_TIMEOUT(attr, lookup_type, 20)
{
	struct lookup_bad bad = { S_IFMT | 0644, 42 };
	struct fuse_raw_ops ops = { .on[FUSE_LOOKUP] = lookup_bad, .data = &bad };

	EXPECT_EQ(EIO, fuse_raw_call(&self->r, &ops, stat_file, NULL, WAIT_MS));
	EXPECT_LE(1, self->r.count[FUSE_LOOKUP]);
}

TEST_F_TIMEOUT(attr, getattr_size, 20)
{
	struct fuse_raw_ops ops = { .on[FUSE_GETATTR] = getattr_huge };

	/* a sane LOOKUP first: the inode exists, then its GETATTR lies */
	ASSERT_EQ(0, fuse_raw_call(&self->r, NULL, stat_file, NULL, WAIT_MS));
	EXPECT_EQ(EIO, fuse_raw_call(&self->r, &ops, statx_sync_file, NULL, WAIT_MS))
		TH_LOG("GETATTR with 2^63 bytes accepted");
	EXPECT_LE(1, self->r.count[FUSE_GETATTR]);
}

/* READDIRPLUS: ".", "..", then "file" with an impossible size */
static int readdirplus_huge(struct fuse_raw *r, const struct fuse_raw_req *q,
			    void *data)
{
	const struct fuse_read_in *in = q->arg;
	char buf[3 * FUSE_DIRENT_ALIGN(sizeof(struct fuse_direntplus) + 4)] = { 0 };
	static const char *const names[] = { ".", "..", "file" };
	size_t used = 0;

	(void)data;
	if (q->arglen < sizeof(*in))
		return -EPROTO;
	for (uint64_t i = in->offset; i < 3; i++) {
		struct fuse_direntplus *p = (void *)(buf + used);
		size_t len = strlen(names[i]);
		size_t rec = FUSE_DIRENT_ALIGN(sizeof(*p) + len);

		if (used + rec > in->size)
			break;
		if (i == 2) {
			fuse_raw_entry(&p->entry_out, FUSE_RAW_FILE,
				       S_IFREG | 0644, HUGE_SIZE, 0);
		}
		p->dirent.ino = i == 2 ? FUSE_RAW_FILE : FUSE_RAW_ROOT;
		p->dirent.off = i + 1;
		p->dirent.namelen = (uint32_t)len;
		p->dirent.type = i == 2 ? DT_REG : DT_DIR;
		memcpy(p->dirent.name, names[i], len);
		used += rec;
	}
	(void)r;
	return fuse_raw_reply(q->fd, q->h->unique, 0, buf, used) ?:
	       FUSE_RAW_HANDLED;
}

/* FORGETs: which node, how many lookups given back */
struct forgets {
	uint64_t nodeid, nlookup;
};

static int record_forget(struct fuse_raw *r, const struct fuse_raw_req *q,
			 void *data)
{
	const struct fuse_forget_in *in = q->arg;
	struct forgets *f = data;

	(void)r;
	if (q->arglen >= sizeof(*in) && q->h->nodeid == FUSE_RAW_FILE) {
		f->nodeid = q->h->nodeid;
		f->nlookup += in->nlookup;
	}
	return FUSE_RAW_HANDLED;	/* FORGET has no reply */
}

/* child: 0 when readdir lists "file", 100 when not, else the errno */
static int list_root(const char *dir, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	(void)arg;
	if (!d)
		return errno;
	while ((e = readdir(d)))
		found |= !strcmp(e->d_name, "file");
	closedir(d);
	return found ? 0 : 100;
}

TEST_F_TIMEOUT(attr, readdirplus_size, 20)
{
	struct forgets f = { 0 };
	struct fuse_raw_init init = { .flags = FUSE_DO_READDIRPLUS };
	struct fuse_raw_ops ops = {
		.on[FUSE_READDIRPLUS] = readdirplus_huge,
		.on[FUSE_FORGET] = record_forget,
		.data = &f,
	};
	long long waited = 0;

	ASSERT_EQ(0, fuse_raw_init(&self->r, &init, WAIT_MS));
	if (!(self->r.flags & FUSE_DO_READDIRPLUS))
		SKIP(return, "the kernel does not offer READDIRPLUS");
	EXPECT_EQ(0, fuse_raw_call(&self->r, &ops, list_root, NULL, WAIT_MS))
		TH_LOG("the name of the refused entry must still be listed");
	ASSERT_LE(1, self->r.count[FUSE_READDIRPLUS]);
	/* the refused entry's lookup comes back as a FORGET */
	while (!f.nlookup && waited < WAIT_MS) {
		fuse_raw_serve_one(&self->r, &ops, 100);
		waited += 100;
	}
	EXPECT_EQ(FUSE_RAW_FILE, f.nodeid)
		TH_LOG("no FORGET for the entry: the kernel linked it (size 2^63)");
	EXPECT_EQ(1, f.nlookup);
}

TEST_HARNESS_MAIN
