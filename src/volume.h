/* Named volumes: a memory filesystem that outlives its mounts.  The first
 * mount of a volume runs the daemon that keeps it; a later mount opens its
 * own /dev/fuse connection, mounts it, and hands the fd to that daemon over
 * the Unix socket VOLUME_DIR/NAME.  A daemon serves one connection at a
 * time; the volume lives until `ramfuse destroy NAME` or the daemon's end. */
#ifndef RAMFUSE_VOLUME_H
#define RAMFUSE_VOLUME_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "opts.h"

#define VOLUME_DIR "/run/ramfuse/volumes"
#define VOLUME_NAME_MAX 255

enum volume_cmd { VOLUME_ATTACH = 1, VOLUME_INFO, VOLUME_DESTROY };

/* A client's request, read by the daemon and waiting for its answer. */
struct volume_req {
	int client;              /* the connection to answer on, or -1 */
	enum volume_cmd cmd;
	int fd;                  /* ATTACH: the mounted /dev/fuse connection */
	bool default_permissions;
	unsigned long mount_flags; /* MS_*, for the atime flags */
	char mnt[PATH_MAX];
};

struct volume;

/* Client: mounts mnt as o says and hands the connection to the daemon of
 * o->volume.  0 once the daemon answered INIT; -ENOENT (nothing mounted)
 * when no daemon keeps the volume; else -errno with err. */
int volume_attach(const struct options *o, const char *mnt, char *err, size_t errlen);

/* Daemon: takes the volume's socket.  NULL with errno EEXIST when a daemon
 * already keeps it (attach to it instead), else NULL with err. */
struct volume *volume_open(const char *name, char *err, size_t errlen);
int volume_fd(const struct volume *v);   /* readable: a client waits */
const char *volume_name(const struct volume *v);
/* Reads a waiting client's request: 0, or -errno for a client ignored. */
int volume_take(struct volume *v, struct volume_req *r);
/* Answers r (status 0 or -errno, text for the client) and closes it. */
void volume_answer(struct volume_req *r, int status, const char *text);
/* Removes the socket. */
void volume_close(struct volume *v);

/* `ramfuse volumes` and `ramfuse destroy NAME...`: exit statuses. */
/* Whether the daemon of volume name serves the mount at mnt. */
bool volume_serves(const char *name, const char *mnt);
int volume_list_main(void);
int volume_destroy_main(int argc, char **argv);

#endif
