#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "fmt.h"
#include "opts.h"
#include "scan.h"

/* Names and attributes change only through ramfuse, and ramfuse changes
 * them only for the kernel's requests, after which the kernel drops what it
 * cached (populate= fills the tree before the mount; whatever changes the
 * tree behind the kernel's back must notify it, as remount's mode= does).
 * So, as on tmpfs, a name, a miss and attributes may be remembered: for a
 * day.  The exceptions are the kernel's own: a passthrough writer's file
 * keeps no cached attributes (attr_timeout() in req.h). */
#define CACHE_TIMEOUT_NS (86400ull * 1000000000ull)

static uint64_t ram_bytes(void)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return 1ULL << 30;
	return (uint64_t)si.totalram * si.mem_unit;
}

void opts_defaults(struct options *o)
{
	/* what sysconf(_SC_NPROCESSORS_ONLN) reads, without its 1 KiB table */
	cpu_set_t set;
	int cpus = sched_getaffinity(0, sizeof(set), &set) ? 1 : CPU_COUNT(&set);
	*o = (struct options){
		.fsname = "ramfuse",
		.subtype = "ramfuse",
		.mount_flags = MS_NOSUID | MS_NODEV,
		.default_permissions = true,
		.acl = true,
		.size = ram_bytes() / 2,          /* as tmpfs */
		.nr_inodes = ram_bytes() / 8192,  /* as tmpfs: half the pages */
		.mode = 01777,
		.uid = getuid(),
		.gid = getgid(),
		.session = {
			.threads = cpus < 1 ? 1 : cpus > 256 ? 256 : (unsigned)cpus,
			.clone_fd = true,
			.entry_timeout_ns = CACHE_TIMEOUT_NS,
			.attr_timeout_ns = CACHE_TIMEOUT_NS,
			.negative_timeout_ns = CACHE_TIMEOUT_NS,
			.passthrough = PASSTHROUGH_AUTO,
			.uring = URING_AUTO,
			.uring_depth = URING_DEPTH_DEFAULT,
		},
	};
}

/* A number with an optional k/m/g/t/p/e suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	uint64_t v = scan_ull(s, &end, 0);
	if (errno)
		return -EINVAL;
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	case 'p': case 'P': shift = 50; break;
	case 'e': case 'E': shift = 60; break;
	case 0: break;
	default: return -EINVAL;
	}
	if (shift && *++end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static int parse_u32(const char *s, int base, uint32_t max, uint32_t *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = scan_ull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Seconds, with up to nine decimals. */
static int parse_seconds(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = 1000000000;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 1000000000)
			return -EINVAL;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
	if (*p)
		return -EINVAL;
	*ns = whole * 1000000000 + frac;
	return 0;
}

static const struct {
	const char *name;
	unsigned long set, clear;
} generic[] = {
	{ "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 }, { "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, 0 }, { "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 }, { "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, 0 }, { "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "lazytime", MS_LAZYTIME, 0 }, { "nolazytime", 0, MS_LAZYTIME },
	/* mount(8) and fstab words that mean nothing to the filesystem */
	{ "defaults", 0, 0 }, { "auto", 0, 0 }, { "noauto", 0, 0 },
	{ "user", 0, 0 }, { "nouser", 0, 0 }, { "users", 0, 0 },
	{ "owner", 0, 0 }, { "group", 0, 0 }, { "_netdev", 0, 0 },
	{ "nofail", 0, 0 },
};

bool opts_is_generic(const char *opt)
{
	for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
		if (!strcmp(opt, generic[i].name))
			return true;
	return !strncmp(opt, "x-", 2) || !strncmp(opt, "comment=", 8);
}

static int parse_one(struct options *o, char *opt, char *err, size_t errlen)
{
	char *val = strchr(opt, '=');
	if (val)
		*val++ = 0;
	int bad = 0;
#define IS(n) (!strcmp(opt, n))
	if (!val) {
		for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
			if (IS(generic[i].name)) {
				o->mount_flags = (o->mount_flags & ~generic[i].clear) | generic[i].set;
				return 0;
			}
	}
	if (!strncmp(opt, "x-", 2) || IS("comment"))
		return 0;
	if (IS("allow_other") && !val)
		o->allow_other = true;
	else if (IS("default_permissions") && !val)
		o->default_permissions = true;
	else if (IS("nodefault_permissions") && !val)
		o->default_permissions = false;
	else if (IS("acl") && !val)
		o->acl = true;
	else if (IS("noacl") && !val)
		o->acl = false;
	else if (IS("noclone_fd") && !val)
		o->session.clone_fd = false;
	else if (IS("clone_fd") && !val)
		o->session.clone_fd = true;
	else if (IS("size") && val) {
		size_t len = strlen(val);
		if (len > 1 && val[len - 1] == '%') {
			uint32_t pct;
			val[len - 1] = 0;
			bad = parse_u32(val, 10, 100, &pct);
			val[len - 1] = '%';
			if (!bad && pct == 0)
				bad = -EINVAL;
			o->size = ram_bytes() / 100 * pct;
		} else {
			bad = parse_size(val, &o->size);
		}
		if (!bad && o->size == 0) /* as tmpfs: 0 means no limit */
			o->size = UINT64_MAX;
		/* as tmpfs: whole pages, so statfs never shows 0 blocks (no limit) */
		if (!bad && o->size != UINT64_MAX)
			o->size = o->size > UINT64_MAX - 4095 ? UINT64_MAX & ~4095ull
							      : (o->size + 4095) & ~4095ull;
	} else if (IS("nr_inodes") && val) {
		bad = parse_size(val, &o->nr_inodes);
		if (!bad && o->nr_inodes == 0)
			o->nr_inodes = UINT64_MAX;
	} else if (IS("mode") && val)
		bad = parse_u32(val, 8, 07777, &o->mode);
	else if (IS("uid") && val)
		bad = parse_u32(val, 10, UINT32_MAX - 1, &o->uid);
	else if (IS("gid") && val)
		bad = parse_u32(val, 10, UINT32_MAX - 1, &o->gid);
	else if (IS("max_read") && val) {
		bad = parse_u32(val, 10, UINT32_MAX, &o->max_read);
		if (!bad && o->max_read == 0)
			bad = -EINVAL;
	} else if (IS("fsname") && val)
		o->fsname = val;
	else if (IS("subtype") && val)
		o->subtype = val;
	else if (IS("threads") && val) {
		bad = parse_u32(val, 10, 256, &o->session.threads);
		if (!bad && o->session.threads == 0)
			bad = -EINVAL;
	} else if (IS("entry_timeout") && val)
		bad = parse_seconds(val, &o->session.entry_timeout_ns);
	else if (IS("negative_timeout") && val)
		bad = parse_seconds(val, &o->session.negative_timeout_ns);
	else if (IS("attr_timeout") && val)
		bad = parse_seconds(val, &o->session.attr_timeout_ns);
	else if (IS("passthrough") && val) {
		if (!strcmp(val, "auto"))
			o->session.passthrough = PASSTHROUGH_AUTO;
		else if (!strcmp(val, "on"))
			o->session.passthrough = PASSTHROUGH_ON;
		else if (!strcmp(val, "off"))
			o->session.passthrough = PASSTHROUGH_OFF;
		else
			bad = -EINVAL;
	} else if (IS("uring") && val) {
		if (!strcmp(val, "auto"))
			o->session.uring = URING_AUTO;
		else if (!strcmp(val, "on"))
			o->session.uring = URING_ON;
		else if (!strcmp(val, "off"))
			o->session.uring = URING_OFF;
		else
			bad = -EINVAL;
	} else if (IS("uring_depth") && val) {
		bad = parse_u32(val, 10, URING_DEPTH_MAX, &o->session.uring_depth);
		if (!bad && o->session.uring_depth == 0)
			bad = -EINVAL;
	} else if (IS("fault") && val) {
		if (o->session.nfaults == FAULT_MAX) {
			sfmt(err, errlen, "more than %d fault= options", FAULT_MAX);
			return -EINVAL;
		}
		struct fault f;
		o->session.fault_specs[o->session.nfaults++] = val;
		return fault_parse(&f, val, err, errlen);
	} else if (IS("nonblock") && !val) {
		o->session.nonblock = true;
	} else if (IS("populate") && val) {
		o->populate = val;
		bad = *val ? 0 : -EINVAL;
	} else if (IS("root") && !val) {
		o->root = true;
	} else if (IS("log") && val) {
		o->log = val;
		bad = *val ? 0 : -EINVAL;
	} else if (IS("stats") && val) {
		o->session.stats_path = val;
		bad = *val ? 0 : -EINVAL;
	} else if (IS("volume")) {
		o->volume = val ? val : "";
	} else if (IS("control") && val) {
		o->control_path = val;
		bad = *val ? 0 : -EINVAL;
	}
	else {
		sfmt(err, errlen, "unknown option '%s%s%s'", opt, val ? "=" : "",
			 val ? val : "");
		return -EINVAL;
	}
#undef IS
	if (bad) {
		sfmt(err, errlen, "bad value in option '%s=%s'", opt, val);
		return -EINVAL;
	}
	return 0;
}

/* The mount source and the type's subtype go to mount(2) as they are: the
 * kernel refuses an empty source and any string longer than a path, and
 * "fuse." + subtype must fit a filesystem type name. */
int opts_check(const struct options *o, char *err, size_t errlen)
{
	size_t len = strlen(o->fsname);
	if (!len || len > OPTS_FSNAME_MAX) {
		sfmt(err, errlen, "fsname (the mount source) must be 1..%d bytes, not %zu",
			 OPTS_FSNAME_MAX, len);
		return -EINVAL;
	}
	if (o->volume && o->control_path) {
		sfmt(err, errlen, "volume cannot be used with control= (a volume's "
			 "connections come and go)");
		return -EINVAL;
	}
	len = strlen(o->subtype);
	if (len > OPTS_SUBTYPE_MAX) {
		sfmt(err, errlen, "subtype must be at most %d bytes, not %zu",
			 OPTS_SUBTYPE_MAX, len);
		return -EINVAL;
	}
	return 0;
}

int opts_parse(struct options *o, char *list, char *err, size_t errlen)
{
	char *save = NULL;
	bool entry_timeout_set = false, negative_timeout_set = false;
	for (char *opt = strtok_r(list, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		entry_timeout_set |= !strncmp(opt, "entry_timeout=", 14);
		negative_timeout_set |= !strncmp(opt, "negative_timeout=", 17);
		int res = parse_one(o, opt, err, errlen);
		if (res)
			return res;
	}
	/* Checking permissions ourselves needs every path walk to ask us:
	 * a cached name would skip the search permission of its directory. */
	if (!o->default_permissions && !entry_timeout_set)
		o->session.entry_timeout_ns = 0;
	/* Whoever names how long names are cached means misses too. */
	if (!negative_timeout_set && (entry_timeout_set || !o->default_permissions))
		o->session.negative_timeout_ns = o->session.entry_timeout_ns;
	/* FUSE_POSIX_ACL turns the kernel's permission checks on: ACLs come
	 * only with them */
	o->session.posix_acl = o->acl && o->default_permissions;
	return 0;
}
