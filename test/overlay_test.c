// SPDX-License-Identifier: MIT
/*
 * overlayfs with its upper and work directories on ramfuse, the natural
 * initramfs layout: overlayfs needs whiteouts (a c 0:0 node, made with
 * mknod or RENAME_WHITEOUT), O_TMPFILE and trusted.* xattrs of its upper
 * filesystem.  One workload (copy-up of data and of metadata, deletes that
 * leave whiteouts, a directory removed and made again: opaque, renames,
 * new files) runs on an overlay with a tmpfs upper and on one with a
 * ramfuse upper, over the same tmpfs lower; every call's result, the
 * merged trees and the upper trees must be the same.
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define OUT_MAX 16384

static int put_file(const char *dir, const char *name, const char *data)
{
	char p[PATH_MAX];
	int fd, err = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		err = -1;
	return close(fd) || err ? -1 : 0;
}

/* the lower layer: files, a directory tree, a symlink */
static int make_lower(const char *dir)
{
	char p[PATH_MAX];
	static const char *const dirs[] = { "d1", "d2", "d2/sub", "d3" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, dirs[i]);
		if (mkdir(p, 0755))
			return -1;
	}
	snprintf(p, sizeof(p), "%s/link", dir);
	if (symlink("d1/f1", p))
		return -1;
	return put_file(dir, "top", "lower top\n") || put_file(dir, "d1/f1", "f1\n") ||
	       put_file(dir, "d1/f2", "f2\n") || put_file(dir, "d2/g", "g\n") ||
	       put_file(dir, "d2/sub/h", "h\n") || put_file(dir, "d3/k", "k\n");
}

/* One call of the workload: its result goes into the log. */
#define DO(call)							\
	do {								\
		errno = 0;						\
		long _r = (long)(call);					\
		strappendf(log, len, "%s = %ld %s\n", #call, _r,		\
		    _r < 0 ? strerror(errno) : "");			\
	} while (0)

static const char *in_dir(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static void workload(const char *m, char *log, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX];
	int fd;

#define P(buf, name) in_dir(buf, sizeof(buf), m, name)
	/* data copy-up */
	fd = open(P(a, "top"), O_WRONLY | O_APPEND | O_CLOEXEC);
	DO(fd >= 0 ? write(fd, "upper\n", 6) : -1);
	if (fd >= 0)
		close(fd);
	/* metadata copy-up */
	DO(chmod(P(a, "d3/k"), 0600));
	DO(setxattr(P(a, "d3/k"), "user.x", "1", 1, 0));
	/* deletes leave whiteouts */
	DO(unlink(P(a, "d1/f1")));
	DO(unlink(P(a, "link")));
	/* a directory removed and made again: opaque */
	DO(unlink(P(a, "d2/sub/h")));
	DO(rmdir(P(a, "d2/sub")));
	DO(unlink(P(a, "d2/g")));
	DO(rmdir(P(a, "d2")));
	DO(mkdir(P(a, "d2"), 0700));
	DO(put_file(m, "d2/new", "new\n"));
	/* renames: a lower file, a lower directory, an upper file */
	DO(rename(P(a, "d1/f2"), P(b, "d1/f3")));
	DO(rename(P(a, "d3"), P(b, "d4")));
	DO(put_file(m, "fresh", "fresh\n"));
	DO(rename(P(a, "fresh"), P(b, "d1/fresh")));
	DO(mkdir(P(a, "nd"), 0755));
	DO(symlink("../top", P(a, "nd/sl")));
	DO(link(P(a, "top"), P(b, "nd/top-link")));
	/* a whiteout over a name that comes back */
	DO(put_file(m, "d1/f1", "f1 again\n"));
	DO(access(P(a, "d1/f2"), F_OK));
#undef P
}

/* Sorted recursive listing: type, mode, size, rdev, link target, data,
 * xattr names (values of trusted.overlay.opaque and user.*). */
static void walk(const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX], names[64][256];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d) {
		strappendf(buf, len, "%s: opendir: %s\n", rel, strerror(errno));
		return;
	}
	while ((de = readdir(d)) && n < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++) {
		char sub[512], full[1024], x[1024], v[64];
		struct stat st;
		ssize_t xl;

		snprintf(sub, sizeof(sub), "%.200s%s%.255s", rel, *rel ? "/" : "", names[i]);
		snprintf(full, sizeof(full), "%.400s/%.511s", root, sub);
		if (lstat(full, &st)) {
			strappendf(buf, len, "%s: lstat: %s\n", sub, strerror(errno));
			continue;
		}
		strappendf(buf, len, "%s %06o size %lld", sub, (unsigned)st.st_mode,
		    S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
		if (S_ISCHR(st.st_mode))
			strappendf(buf, len, " dev %u:%u", major(st.st_rdev), minor(st.st_rdev));
		if (S_ISLNK(st.st_mode)) {
			ssize_t l = readlink(full, x, sizeof(x) - 1);

			x[l > 0 ? l : 0] = 0;
			strappendf(buf, len, " -> %s", x);
		}
		if (S_ISREG(st.st_mode)) {
			int fd = open(full, O_RDONLY | O_CLOEXEC);
			ssize_t l = fd >= 0 ? read(fd, x, sizeof(x) - 1) : -1;

			x[l > 0 ? l : 0] = 0;
			if (fd >= 0)
				close(fd);
			for (char *c = x; *c; c++)
				if (*c == '\n')
					*c = '|';
			strappendf(buf, len, " data '%s'", x);
		}
		xl = llistxattr(full, x, sizeof(x));
		for (ssize_t o = 0; o < xl; o += (ssize_t)strlen(x + o) + 1) {
			strappendf(buf, len, " xattr %s", x + o);
			if (!strcmp(x + o, "trusted.overlay.opaque") || !strncmp(x + o, "user.", 5)) {
				ssize_t vl = lgetxattr(full, x + o, v, sizeof(v) - 1);

				v[vl > 0 ? vl : 0] = 0;
				strappendf(buf, len, "=%s", v);
			}
		}
		strappendf(buf, len, "\n");
		if (S_ISDIR(st.st_mode))
			walk(root, sub, buf, len);
	}
}

FIXTURE(ovl) {
	struct ramfuse rf;
	char lower[64], tupper[64];
	char merged[2][256];
	char log[2][OUT_MAX], tree[2][OUT_MAX], upper[2][OUT_MAX];
};

FIXTURE_SETUP(ovl)
{
	char why[256];

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, tmpfs_mount(self->lower, sizeof(self->lower), "size=16m"));
	ASSERT_EQ(0, make_lower(self->lower)) TH_LOG("lower: %s", strerror(errno));
	ASSERT_EQ(0, tmpfs_mount(self->tupper, sizeof(self->tupper), "size=16m"));
	ASSERT_EQ(0, mount_ramfuse(&self->rf, "")) TH_LOG("%s", self->rf.err);
}

FIXTURE_TEARDOWN(ovl)
{
	for (int i = 0; i < 2; i++)
		if (self->merged[i][0]) {
			umount2(self->merged[i], MNT_DETACH);
			rmdir(self->merged[i]);
		}
	EXPECT_EQ(0, rf_cleanup(&self->rf)) TH_LOG("%s", self->rf.err);
	tmpfs_umount(self->tupper);
	tmpfs_umount(self->lower);
}

/* overlay over lower with upper and work in base; 0 or -errno */
static int mount_overlay(const char *lower, const char *base, char *merged, size_t len)
{
	char u[PATH_MAX], w[PATH_MAX], o[3 * PATH_MAX];

	snprintf(u, sizeof(u), "%s/upper", base);
	snprintf(w, sizeof(w), "%s/work", base);
	snprintf(merged, len, "%s/merged", base);
	if ((mkdir(u, 0755) && errno != EEXIST) || (mkdir(w, 0755) && errno != EEXIST) ||
	    (mkdir(merged, 0755) && errno != EEXIST))
		return -errno;
	snprintf(o, sizeof(o), "lowerdir=%s,upperdir=%s,workdir=%s", lower, u, w);
	return mount("overlay", merged, "overlay", 0, o) ? -errno : 0;
}

TEST_F(ovl, same_as_tmpfs_upper)
{
	const char *base[2] = { self->tupper, self->rf.mnt };
	char u[PATH_MAX];
	long long renames, mknods;
	int err;

	err = mount_overlay(self->lower, base[0], self->merged[0], sizeof(self->merged[0]));
	if (err == -ENODEV)
		SKIP(return, "this kernel has no overlayfs (CONFIG_OVERLAY_FS, or the module is not loaded)");
	ASSERT_EQ(0, err) TH_LOG("overlay on a tmpfs upper: %s", strerror(-err));
	err = mount_overlay(self->lower, base[1], self->merged[1], sizeof(self->merged[1]));
	ASSERT_EQ(0, err) TH_LOG("overlay on a ramfuse upper: %s (see dmesg)", strerror(-err));

	for (int i = 0; i < 2; i++) {
		workload(self->merged[i], self->log[i], OUT_MAX);
		walk(self->merged[i], "", self->tree[i], OUT_MAX);
		snprintf(u, sizeof(u), "%s/upper", base[i]);
		walk(u, "", self->upper[i], OUT_MAX);
	}
	EXPECT_STREQ(self->log[0], self->log[1])
		TH_LOG("the calls' results differ:\ntmpfs upper:\n%s\nramfuse upper:\n%s",
		       self->log[0], self->log[1]);
	EXPECT_STREQ(self->tree[0], self->tree[1])
		TH_LOG("merged trees differ:\ntmpfs upper:\n%s\nramfuse upper:\n%s",
		       self->tree[0], self->tree[1]);
	EXPECT_STREQ(self->upper[0], self->upper[1])
		TH_LOG("upper trees differ:\ntmpfs:\n%s\nramfuse:\n%s",
		       self->upper[0], self->upper[1]);
	/* the workload left whiteouts and an opaque directory in the upper */
	EXPECT_NE(NULL, strstr(self->upper[1], "dev 0:0")) TH_LOG("no whiteout:\n%s", self->upper[1]);
	EXPECT_NE(NULL, strstr(self->upper[1], "trusted.overlay.opaque=y"))
		TH_LOG("no opaque directory:\n%s", self->upper[1]);
	/* overlayfs made them through ramfuse: mknod c 0 0, RENAME_WHITEOUT */
	ASSERT_EQ(0, stats_refresh(&self->rf)) TH_LOG("%s", self->rf.err);
	mknods = stats_get(&self->rf, "op.MKNOD");
	renames = stats_get(&self->rf, "op.RENAME2");
	EXPECT_LT(0, mknods + renames) TH_LOG("no MKNOD or RENAME2 reached ramfuse");
}

TEST_HARNESS_MAIN
