/* mount -o remount: what can change while mounted.  The kernel keeps the
 * mount's flags (ro, nosuid, ...); size=, nr_inodes=, mode=, uid= and gid=
 * reach the daemon through its control socket ("remount OPTIONS"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "fmt.h"
#include "opts.h"
#include "remount.h"

static const char *const live[] = { "size", "nr_inodes", "mode", "uid", "gid" };
/* what mount(8) passes from mountinfo, the kernel's own */
static const char *const kernels[] = { "remount", "user_id", "group_id", "rootmode", "fd",
				       "default_permissions", "allow_other", "max_read",
				       "blksize", "fsname", "subtype" };

static int find(const char *const *names, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return (int)i;
	return -1;
}

/* may come again, unchanged: checked by the daemon */
static bool is_volume(const char *opt, size_t len)
{
	return len == 6 && !memcmp(opt, "volume", 6);
}

bool remount_known(const char *opt)
{
	size_t len = strcspn(opt, "=");
	return opts_is_generic(opt) || find(live, 5, opt, len) >= 0 || is_volume(opt, len) ||
	       find(kernels, sizeof(kernels) / sizeof(kernels[0]), opt, len) >= 0;
}

bool remount_has_live(const char *list)
{
	for (const char *t = list; *t; t += strcspn(t, ",") + (t[strcspn(t, ",")] != 0))
		if (find(live, 5, t, strcspn(t, "=,")) >= 0 || is_volume(t, strcspn(t, "=,")))
			return true;
	return false;
}

/* The live options of list, parsed into o; given[] says which came. */
static int parse_live(const char *list, struct options *o, bool given[5], char *err,
		      size_t errlen)
{
	char *copy = strdup(list), *save = NULL;
	int res = copy ? 0 : -ENOMEM;
	opts_defaults(o);
	for (char *t = res ? NULL : strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i = find(live, 5, t, strcspn(t, "="));
		if (i < 0)
			continue;
		if ((res = opts_parse(o, t, err, errlen)) < 0)
			break;
		given[i] = true;
	}
	free(copy);
	return res;
}

int remount_needs_daemon(const char *mnt, const char *list, char *err, size_t errlen)
{
	struct options o;
	bool given[5] = { false };
	int res = parse_live(list, &o, given, err, errlen);
	if (res < 0)
		return res;
	struct statfs sf;
	struct stat st;
	if (statfs(mnt, &sf) < 0 || stat(mnt, &st) < 0 || !sf.f_bsize)
		return 1;
	uint64_t blocks = o.size == UINT64_MAX ? 0 : o.size / (uint64_t)sf.f_bsize;
	uint64_t files = o.nr_inodes == UINT64_MAX ? 0 : o.nr_inodes;
	bool same = (!given[0] || blocks == sf.f_blocks) && (!given[1] || files == sf.f_files) &&
		    (!given[2] || o.mode == (st.st_mode & 07777)) &&
		    (!given[3] || o.uid == st.st_uid) && (!given[4] || o.gid == st.st_gid);
	return !same;
}

int remount_apply(struct memfs *fs, const char *volume, const char *list, char *err,
		  size_t errlen)
{
	char *copy = strdup(list), *save = NULL;
	int res = copy ? 0 : -ENOMEM;
	/* what may not come: other options, another volume */
	for (char *t = res ? NULL : strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t len = strcspn(t, "=");
		if (is_volume(t, len)) {
			if (!volume || (t[len] && strcmp(t + len + 1, volume))) {
				sfmt(err, errlen, "'%s' on remount: %s%s%s", t,
				     volume ? "the mount's volume is '" : "the mount is not a volume",
				     volume ? volume : "", volume ? "'" : "");
				res = -EINVAL;
				break;
			}
		} else if (find(live, 5, t, len) < 0 &&
			   find(kernels, sizeof(kernels) / sizeof(kernels[0]), t, len) < 0 &&
			   !opts_is_generic(t)) {
			sfmt(err, errlen, "'%s' cannot change on remount (only size=, nr_inodes=, "
				 "mode=, uid=, gid= and mount flags)", t);
			res = -EINVAL;
			break;
		}
	}
	free(copy);
	struct options o;
	bool given[5] = { false };
	if (!res && (res = parse_live(list, &o, given, err, errlen)) == 0) {
		res = memfs_set_limits(fs, given[0] ? &o.size : NULL, given[1] ? &o.nr_inodes : NULL);
		if (res == -EBUSY)
			sfmt(err, errlen, "size= or nr_inodes= below what is in use: %s",
				 strerror(EBUSY));
		else if (res)
			sfmt(err, errlen, "new limits: %s", strerror(-res));
	}
	if (!res && (given[2] || given[3] || given[4])) {
		static const struct memfs_cred root = { .uid = 0 };
		struct memfs_setattr sa = {
			.valid = (given[2] ? MEMFS_SET_MODE : 0) | (given[3] ? MEMFS_SET_UID : 0) |
				 (given[4] ? MEMFS_SET_GID : 0),
			.mode = o.mode, .uid = o.uid, .gid = o.gid,
		};
		struct memfs_attr a;
		res = memfs_setattr(fs, &root, MEMFS_ROOT, &sa, &a);
		if (res)
			sfmt(err, errlen, "the root's mode/uid/gid: %s", strerror(-res));
	}
	return res;
}
