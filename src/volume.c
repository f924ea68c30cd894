/* Named volumes: the socket between a volume's daemon and later mounts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dev.h"
#include "fmt.h"
#include "log.h"
#include "mount.h"
#include "volume.h"

struct volume {
	int listen_fd;
	char name[VOLUME_NAME_MAX + 1];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* What travels on the socket: one message each way (SOCK_SEQPACKET). */
struct request {
	uint32_t cmd, default_permissions;
	uint64_t mount_flags;
	char name[VOLUME_NAME_MAX + 1];
	char mnt[PATH_MAX];
};

struct answer {
	int32_t status;
	char text[1024];
};

/* A socket path fits 108 bytes: names are kept as they are where they are
 * plain and short, else escaped, and long ones shortened with a hash. */
static int socket_path(const char *name, char *path, size_t len)
{
	char esc[3 * VOLUME_NAME_MAX + 1];
	size_t n = 0;
	for (const unsigned char *p = (const void *)name; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			     (*p == '.' && p != (const void *)name);
		n += plain ? (size_t)sfmt(esc + n, sizeof(esc) - n, "%c", *p)
			   : (size_t)sfmt(esc + n, sizeof(esc) - n, "%%%02X", *p);
	}
	if (n > 64) { /* FNV-1a of the whole name after its first 48 bytes */
		uint64_t h = 0xcbf29ce484222325ull;
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		sfmt(esc + 48, sizeof(esc) - 48, "~%016llx", (unsigned long long)h);
	}
	int m = sfmt(path, len, "%s/%s", VOLUME_DIR, esc);
	return m > 0 && (size_t)m < len ? 0 : -ENAMETOOLONG;
}

static int check_name(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	if (len && len <= VOLUME_NAME_MAX)
		return 0;
	sfmt(err, errlen, "volume name must be 1..%d bytes, not %zu", VOLUME_NAME_MAX, len);
	return -EINVAL;
}

static int connect_path(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	sfmt(a.sun_path, sizeof(a.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		return s;
	int e = errno;
	close(s);
	/* a socket nobody listens on is what a dead daemon left */
	return e == ECONNREFUSED ? -ENOENT : -e;
}

static int send_request(int s, const struct request *rq, int fd)
{
	struct iovec iov = { (void *)rq, sizeof(*rq) };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	while ((n = sendmsg(s, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(*rq) ? 0 : n < 0 ? -errno : -EIO;
}

/* The daemon's answer; its end without one means it died. */
static int read_answer(int s, struct answer *a)
{
	ssize_t n;
	while ((n = recv(s, a, sizeof(*a), 0)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*a)) {
		sfmt(a->text, sizeof(a->text), "the volume's daemon ended without answering");
		return -EIO;
	}
	a->text[sizeof(a->text) - 1] = 0;
	return a->status > 0 ? -EIO : a->status;
}

/* Sends a request to NAME's daemon: its status and answer. */
static int call(const char *name, struct request *rq, int fd, struct answer *a)
{
	char path[108];
	int s = socket_path(name, path, sizeof(path));
	if (s == 0)
		s = connect_path(path);
	if (s < 0)
		return s;
	sfmt(rq->name, sizeof(rq->name), "%s", name);
	int err = send_request(s, rq, fd);
	if (err == 0)
		err = read_answer(s, a);
	else
		sfmt(a->text, sizeof(a->text), "sending to %s: %s", path, strerror(-err));
	close(s);
	return err;
}

int volume_attach(const struct options *o, const char *mnt, char *err, size_t errlen)
{
	if (check_name(o->volume, err, errlen) < 0)
		return -EINVAL;
	char path[108];
	int s = socket_path(o->volume, path, sizeof(path));
	if (s == 0)
		s = connect_path(path);
	if (s < 0) {
		sfmt(err, errlen, "volume %s: %s", o->volume, strerror(-s));
		return s;
	}
	int fd = dev_open();
	if (fd < 0) {
		close(s);
		sfmt(err, errlen, "/dev/fuse: %s", strerror(-fd));
		return fd;
	}
	int res = mount_fuse(o, mnt, fd, err, errlen);
	if (res < 0) {
		close(fd);
		close(s);
		return res;
	}
	struct request rq = { .cmd = VOLUME_ATTACH, .default_permissions = o->default_permissions,
			      .mount_flags = o->mount_flags };
	sfmt(rq.name, sizeof(rq.name), "%s", o->volume);
	sfmt(rq.mnt, sizeof(rq.mnt), "%s", mnt);
	struct answer a = { 0 };
	res = send_request(s, &rq, fd);
	close(fd); /* the daemon holds its own */
	if (res == 0)
		res = read_answer(s, &a);
	else
		sfmt(a.text, sizeof(a.text), "sending to %s: %s", path, strerror(-res));
	close(s);
	if (res < 0) {
		mount_remove(mnt); /* nobody will serve it */
		sfmt(err, errlen, "volume %s: %s", o->volume, a.text);
	}
	return res;
}

struct volume *volume_open(const char *name, char *err, size_t errlen)
{
	if (check_name(name, err, errlen) < 0)
		return NULL;
	struct volume *v = calloc(1, sizeof(*v));
	if (!v) {
		sfmt(err, errlen, "volume %s: %s", name, strerror(ENOMEM));
		return NULL;
	}
	v->listen_fd = -1;
	sfmt(v->name, sizeof(v->name), "%s", name);
	socket_path(name, v->path, sizeof(v->path));
	if (mkdir("/run", 0755) < 0 && errno != EEXIST) { /* an initramfs may lack it */
	}
	mkdir("/run/ramfuse", 0755);
	if (mkdir(VOLUME_DIR, 0700) < 0 && errno != EEXIST) {
		sfmt(err, errlen, "%s: %s", VOLUME_DIR, strerror(errno));
		free(v);
		return NULL;
	}
	/* Two first mounts at once: the directory's lock (held for a moment)
	 * makes one of them the daemon. */
	int lk = open(VOLUME_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lk < 0 || flock(lk, LOCK_EX) < 0) {
		sfmt(err, errlen, "%s: %s", VOLUME_DIR, strerror(errno));
		if (lk >= 0)
			close(lk);
		free(v);
		return NULL;
	}
	int s = connect_path(v->path);
	int e = 0;
	if (s >= 0) {
		close(s);
		e = EEXIST;
	} else {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		memcpy(a.sun_path, v->path, sizeof(v->path));
		unlink(v->path);
		v->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    chmod(v->path, 0600) < 0 || listen(v->listen_fd, 16) < 0) {
			e = errno;
			sfmt(err, errlen, "volume socket %s: %s", v->path, strerror(e));
		}
	}
	close(lk);
	if (e) {
		if (v->listen_fd >= 0)
			close(v->listen_fd);
		free(v);
		errno = e;
		return NULL;
	}
	return v;
}

int volume_fd(const struct volume *v)
{
	return v->listen_fd;
}

const char *volume_name(const struct volume *v)
{
	return v->name;
}

int volume_take(struct volume *v, struct volume_req *r)
{
	*r = (struct volume_req){ .client = -1, .fd = -1 };
	int c = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return -errno;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		close(c);
		return -EPERM;
	}
	/* A client has 2 s to speak: a silent one holds no mount back. */
	struct timeval tv = { 2, 0 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct request rq;
	struct iovec iov = { &rq, sizeof(rq) };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	while ((n = recvmsg(c, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	int fd = -1;
	/* one fd at most: room for more would have set MSG_CTRUNC */
	struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	r->client = c;
	r->fd = fd;
	if (n != (ssize_t)sizeof(rq) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		volume_answer(r, -EINVAL, "malformed request");
		return -EINVAL;
	}
	rq.name[sizeof(rq.name) - 1] = rq.mnt[sizeof(rq.mnt) - 1] = 0;
	r->cmd = rq.cmd;
	r->default_permissions = rq.default_permissions;
	r->mount_flags = (unsigned long)rq.mount_flags;
	memcpy(r->mnt, rq.mnt, sizeof(r->mnt));
	/* INFO may come without a name (the listing knows only files) */
	if ((rq.name[0] || r->cmd != VOLUME_INFO) && strcmp(rq.name, v->name)) {
		volume_answer(r, -EEXIST, "another volume's socket has this name");
		return -EEXIST;
	}
	if ((r->cmd == VOLUME_ATTACH) != (fd >= 0) ||
	    (r->cmd != VOLUME_ATTACH && r->cmd != VOLUME_INFO && r->cmd != VOLUME_DESTROY)) {
		volume_answer(r, -EINVAL, "malformed request");
		return -EINVAL;
	}
	return 0;
}

void volume_answer(struct volume_req *r, int status, const char *text)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->client < 0)
		return;
	struct answer a = { .status = status };
	sfmt(a.text, sizeof(a.text), "%s", text ? text : status ? strerror(-status) : "");
	if (send(r->client, &a, sizeof(a), MSG_NOSIGNAL) < 0)
		debug("volume: answering a client: %s", strerror(errno));
	close(r->client);
	r->client = -1;
}

void volume_close(struct volume *v)
{
	if (!v)
		return;
	if (v->listen_fd >= 0) {
		unlink(v->path);
		close(v->listen_fd);
	}
	free(v);
}

bool volume_serves(const char *name, const char *mnt)
{
	struct request rq = { .cmd = VOLUME_INFO };
	struct answer a;
	if (call(name, &rq, -1, &a) || a.status)
		return false;
	/* NAME \t PID \t MOUNTPOINT \t ... */
	const char *p = strchr(a.text, '\t');
	p = p ? strchr(p + 1, '\t') : NULL;
	size_t n = strlen(mnt);
	return p && !strncmp(p + 1, mnt, n) && p[1 + n] == '\t';
}

int volume_list_main(void)
{
	DIR *d = opendir(VOLUME_DIR);
	if (!d)
		return errno == ENOENT ? 0 : (msg("%s: %s", VOLUME_DIR, strerror(errno)), 1);
	/* The file names may be hashed: each daemon says its volume's name. */
	int status = 0;
	struct out o = OUT_FD(STDOUT_FILENO);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		sfmt(path, sizeof(path), "%s/%s", VOLUME_DIR, e->d_name);
		int s = connect_path(path);
		if (s < 0)
			continue;
		struct request rq = { .cmd = VOLUME_INFO };
		struct answer a;
		int res = send_request(s, &rq, -1);
		if (res == 0)
			res = read_answer(s, &a);
		close(s);
		if (res == 0)
			outf(&o, "%s\n", a.text);
		else
			status = 1;
	}
	closedir(d);
	return out_close(&o) ? 1 : status;
}

int volume_destroy_main(int argc, char **argv)
{
	if (argc < 2) {
		msg("usage: ramfuse destroy NAME...");
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		struct request rq = { .cmd = VOLUME_DESTROY };
		struct answer a = { 0 };
		int res = call(argv[i], &rq, -1, &a);
		if (res == -ENOENT)
			msg("no volume %s", argv[i]);
		else if (res < 0)
			msg("volume %s: %s", argv[i], a.text[0] ? a.text : strerror(-res));
		status |= res < 0;
	}
	return status;
}
