// SPDX-License-Identifier: MIT
/*
 * ioctl_enosys_test - a server answering FUSE_IOCTL with ENOSYS ("I have
 * no ioctl") must not make ioctl(2) fail ENOSYS ("no such system call"):
 * the kernel turns it into ENOTTY, which is what callers test for (chattr,
 * lsattr, overlayfs copy-up of file attributes).
 *
 * Two fixes, for the two places an ioctl error travels:
 *   02c0cab8e734 ("fuse: ioctl: translate ENOSYS", Linux 6.0; stable 5.19.y
 *   and older series): ENOSYS in the reply header's error.  Affected:
 *   2.6.29 (ioctl support) to 5.19; overlayfs copy-up failed with
 *   "Function not implemented" on such filesystems.
 *   6a567e920fd0 ("fuse: ioctl: translate ENOSYS in outarg", Linux 6.5;
 *   stable 6.4.y, 6.1.y, 5.15.y, ...): -ENOSYS in fuse_ioctl_out.result.
 *   Affected: 6.0 to 6.4 and stable kernels without the backport.
 * On an affected kernel the matching tests below see ENOSYS.
 *
 *   header_file_ioctl     a file's own ioctl, header error -ENOSYS: ENOTTY
 *   result_file_ioctl     the same, result -ENOSYS in fuse_ioctl_out: ENOTTY
 *   header_getflags       FS_IOC_GETFLAGS (the kernel's fileattr path,
 *                         5.13+: its own OPEN, IOCTL with exactly out_size
 *                         bytes of reply data), header error -ENOSYS: ENOTTY
 *   result_getflags       the same with result -ENOSYS: ENOTTY
 *
 * Seen ENOTTY on all four: Debian 6.1.192, 6.12.118, the host 6.18.
 */
#include "harness.h"
#include "fuse_raw.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS _IOR('f', 1, long)	/* <linux/fs.h> */
#endif
#define WAIT_MS 5000
/* a command no VFS layer handles: it reaches the file's ioctl as is */
#define RAW_IOC _IOR(0xf5, 0x42, uint32_t)

FUSE_RAW_FIXTURE(ioc)

struct ioc_case {
	bool in_result;		/* -ENOSYS in fuse_ioctl_out.result, not the header */
	uint32_t cmd;		/* the command the server saw */
};

static int ioctl_enosys(struct fuse_raw *r, const struct fuse_raw_req *q,
			void *data)
{
	struct ioc_case *c = data;
	const struct fuse_ioctl_in *in = q->arg;
	struct fuse_ioctl_out out = { .result = -ENOSYS };
	static const char zeros[4096];
	struct iovec v[2] = { { &out, sizeof(out) }, { (void *)zeros, 0 } };

	(void)r;
	if (q->arglen < sizeof(*in) || in->out_size > sizeof(zeros))
		return -EPROTO;
	c->cmd = in->cmd;
	if (!c->in_result)
		return fuse_raw_reply(q->fd, q->h->unique, -ENOSYS, NULL, 0) ?:
		       FUSE_RAW_HANDLED;
	/* the fileattr path takes exactly out_size bytes of data after
	 * fuse_ioctl_out (a file's own ioctl takes up to out_size) */
	v[1].iov_len = in->out_size;
	return fuse_raw_replyv(q->fd, q->h->unique, 0, v, 2) ?: FUSE_RAW_HANDLED;
}

/* child: ioctl(cmd) on /file; 0 on success, else the errno */
static int do_ioctl(const char *dir, void *arg)
{
	unsigned long cmd = *(const unsigned long *)arg;
	long v = 0;	/* the larger of the two arguments */
	char p[128];
	int fd, rc;

	snprintf(p, sizeof(p), "%s/file", dir);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return 100;
	rc = ioctl(fd, cmd, &v) ? errno : 0;
	close(fd);
	return rc;
}

static int run(struct fuse_raw *r, struct ioc_case *c, unsigned long cmd)
{
	struct fuse_raw_ops ops = { .on[FUSE_IOCTL] = ioctl_enosys, .data = c };

	return fuse_raw_call(r, &ops, do_ioctl, &cmd, WAIT_MS);
}

TEST_F_TIMEOUT(ioc, header_file_ioctl, 20)
{
	struct ioc_case c = { .in_result = false };

	EXPECT_EQ(ENOTTY, run(&self->r, &c, RAW_IOC))
		TH_LOG("ENOSYS (38) here: the kernel lacks 02c0cab8e734");
	EXPECT_EQ(1, self->r.count[FUSE_IOCTL]);
	EXPECT_EQ(RAW_IOC, c.cmd);
}

TEST_F_TIMEOUT(ioc, result_file_ioctl, 20)
{
	struct ioc_case c = { .in_result = true };

	EXPECT_EQ(ENOTTY, run(&self->r, &c, RAW_IOC))
		TH_LOG("ENOSYS (38) here: the kernel lacks 6a567e920fd0");
	EXPECT_EQ(1, self->r.count[FUSE_IOCTL]);
	EXPECT_EQ(RAW_IOC, c.cmd);
}

static void getflags(struct __test_metadata *_metadata, struct fuse_raw *r,
		     bool in_result)
{
	struct ioc_case c = { .in_result = in_result };

	EXPECT_EQ(ENOTTY, run(r, &c, FS_IOC_GETFLAGS))
		TH_LOG("ENOSYS (38) here: %s untranslated",
		       in_result ? "fuse_ioctl_out.result" : "the header's error");
	EXPECT_LE(1, r->count[FUSE_IOCTL]);
	EXPECT_EQ(FS_IOC_GETFLAGS, c.cmd);
}

TEST_F_TIMEOUT(ioc, header_getflags, 20)
{
	getflags(_metadata, &self->r, false);
}

TEST_F_TIMEOUT(ioc, result_getflags, 20)
{
	getflags(_metadata, &self->r, true);
}

TEST_HARNESS_MAIN
