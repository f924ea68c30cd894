/* Mount options: tmpfs's, FUSE's, mount(8)'s generic ones and ramfuse's own. */
#ifndef RAMFUSE_OPTS_H
#define RAMFUSE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct options {
	/* the mount */
	const char *fsname, *subtype;
	unsigned long mount_flags; /* MS_* */
	bool allow_other, default_permissions;
	bool acl; /* POSIX ACLs, with default_permissions */
	uint32_t max_read; /* 0: the kernel's default */
	/* the memory filesystem */
	uint64_t size, nr_inodes;
	uint32_t mode, uid, gid;
	const char *log; /* log=: kmsg, syslog or a file */
	bool root; /* survive shutdown's killing spree */
	const char *populate; /* populate=: a tree or an archive to copy in */
	/* the control socket */
	const char *control_path;
	/* volume=NAME, or "" for the bare option (the mount source names it) */
	const char *volume;
	/* the session */
	struct session_config session;
};

/* mount(2) copies at most a path's worth of source; "fuse.SUBTYPE" is a
 * filesystem type name. */
#define OPTS_FSNAME_MAX 4095
#define OPTS_SUBTYPE_MAX 250

void opts_defaults(struct options *o);
/* Parses a comma-separated list into o; the list's memory must outlive o.
 * On error returns -EINVAL with a message naming the option in err. */
int opts_parse(struct options *o, char *list, char *err, size_t errlen);

/* mount(8)'s generic options and fstab words (ro, nosuid, defaults, x-*). */
bool opts_is_generic(const char *opt);

/* Checks what the parse cannot see whole (the helper's SOURCE replaces
 * fsname=): -EINVAL with a message naming the option in err. */
int opts_check(const struct options *o, char *err, size_t errlen);

#endif
