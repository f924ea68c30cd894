// SPDX-License-Identifier: MIT
/*
 * verify_write_return_test - a WRITE reply claiming more bytes than were
 * sent is an error, not a longer write.
 *
 * Fixed by 8aab336b14c1 ("fuse: verify write return", Linux 5.5; stable
 * 5.4.3 and later 4.x backports): fuse_perform_write() took
 * fuse_write_out.size as is, so a buffered write(2) of N bytes returned
 * more than N and moved the file position past what was written.
 * Affected: 2.6.26 (ea9b9907b82a, "fuse: implement perform_write") to
 * 5.4.2 without the backport; there buffered_too_many sees write() return
 * N + 4096.  Fixed kernels: EIO.  The direct I/O path (FOPEN_DIRECT_IO)
 * has refused such a reply for much longer; direct_too_many checks it too.
 *
 *   buffered_too_many  write(2) of 100 bytes, WRITE answered size = 4196: EIO
 *   direct_too_many    the same on a file opened with FOPEN_DIRECT_IO: EIO
 *   exact              the control: size = 100 gives write() = 100
 */
#include "harness.h"
#include "fuse_raw.h"

#include <fcntl.h>

#define WAIT_MS 5000
#define LEN 100
#define EXTRA 4096		/* what the reply claims on top */
#define TOO_MANY 200		/* child's code: write() returned > LEN */

FUSE_RAW_FIXTURE(wr)

struct wr_case {
	uint32_t open_flags;	/* FOPEN_* for the OPEN reply */
	uint32_t extra;		/* added to the WRITE reply's size */
};

static int open_with(struct fuse_raw *r, const struct fuse_raw_req *q,
		     void *data)
{
	const struct wr_case *c = data;
	struct fuse_open_out out = { .fh = q->h->nodeid,
				     .open_flags = c->open_flags };

	(void)r;
	return fuse_raw_reply(q->fd, q->h->unique, 0, &out, sizeof(out)) ?:
	       FUSE_RAW_HANDLED;
}

static int write_claims(struct fuse_raw *r, const struct fuse_raw_req *q,
			void *data)
{
	const struct wr_case *c = data;
	const struct fuse_write_in *in = q->arg;
	struct fuse_write_out out = { 0 };

	(void)r;
	if (q->arglen < sizeof(*in))
		return -EPROTO;
	out.size = in->size + c->extra;
	return fuse_raw_reply(q->fd, q->h->unique, 0, &out, sizeof(out)) ?:
	       FUSE_RAW_HANDLED;
}

/* child: 0 when write() returned LEN, TOO_MANY when more, else the errno
 * (or 100 + what it returned when less) */
static int write_file(const char *dir, void *arg)
{
	char p[128], buf[LEN];
	ssize_t n;
	int fd;

	(void)arg;
	memset(buf, 'w', sizeof(buf));
	snprintf(p, sizeof(p), "%s/file", dir);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, buf, sizeof(buf));
	if (n < 0)
		return errno;
	close(fd);
	return n > LEN ? TOO_MANY : n == LEN ? 0 : 100 + (int)n % 100;
}

static int run(struct fuse_raw *r, struct wr_case *c)
{
	struct fuse_raw_ops ops = {
		.on[FUSE_OPEN] = open_with,
		.on[FUSE_WRITE] = write_claims,
		.data = c,
	};

	return fuse_raw_call(r, &ops, write_file, NULL, WAIT_MS);
}

TEST_F_TIMEOUT(wr, buffered_too_many, 20)
{
	struct wr_case c = { .extra = EXTRA };

	EXPECT_EQ(EIO, run(&self->r, &c))
		TH_LOG("200: write() returned more than it was given");
	EXPECT_LE(1, self->r.count[FUSE_WRITE]);
}

TEST_F_TIMEOUT(wr, direct_too_many, 20)
{
	struct wr_case c = { .open_flags = FOPEN_DIRECT_IO, .extra = EXTRA };

	EXPECT_EQ(EIO, run(&self->r, &c));
	EXPECT_LE(1, self->r.count[FUSE_WRITE]);
}

TEST_F_TIMEOUT(wr, exact, 20)
{
	struct wr_case c = { 0 };

	EXPECT_EQ(0, run(&self->r, &c));
	EXPECT_LE(1, self->r.count[FUSE_WRITE]);
}

TEST_HARNESS_MAIN
