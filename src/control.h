/* The control socket (-o control=PATH): faults changed while the filesystem
 * runs, notifications written to the kernel, fresh stats.  A Unix stream
 * socket served on its own thread, one command line per connection, only
 * for the daemon's own uid; `ramfuse ctl` is its client (ctl.c).
 *
 * Wire: the client sends one line of words separated by spaces, bytes
 * outside '!'..'~' and '%' written as %XX; the daemon answers "ok" and
 * lines of data, or one line "error: ..." ("error: usage: ..." for bad
 * arguments), then closes. */
#ifndef RAMFUSE_CONTROL_H
#define RAMFUSE_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct session;
struct control;

/* A mount's socket is recorded as the symlink RUN_DIR/MAJOR:MINOR (the
 * mount's st_dev) -> PATH, so a client finds it from the mountpoint. */
#define CONTROL_RUN_DIR "/run/ramfuse"
#define CONTROL_LINE_MAX (256 * 1024)
#define CONTROL_DATA_MAX (64 * 1024) /* notify store and retrieve */

/* Binds PATH with mode 0600; an existing socket nobody listens on is
 * replaced, anything else is refused.  NULL with a message in err. */
struct control *control_open(const char *path, char *err, size_t errlen);
/* Records the socket for the mount at mnt and starts serving s. */
int control_start(struct control *c, struct session *s, const char *mnt);
/* Stops serving, removes the socket and its record, frees c. */
void control_close(struct control *c);
/* A worker got FUSE_NOTIFY_REPLY: the answer to a RETRIEVE. */
void control_notify_reply(struct control *c, uint64_t unique, const void *arg, size_t len);

/* The mount's record path from its st_dev, learnt without a request to
 * the filesystem (statx with AT_STATX_DONT_SYNC); -errno on failure.
 * *is_socket tells that path itself is a socket. */
int control_record_path(const char *path, char *buf, size_t len, int *is_socket);

/* ramfuse ctl MOUNTPOINT|SOCKET COMMAND [ARG]...: exit 0, 1 or 2. */
int ctl_main(int argc, char **argv);

#endif
