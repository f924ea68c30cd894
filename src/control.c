/* The control socket's server: one thread, one client at a time, each
 * bounded in time and size, so a silent or slow client only delays other
 * clients, never a worker. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "fmt.h"
#include "remount.h"
#include "errname.h"
#include "lock.h"
#include "log.h"
#include "scan.h"
#include "session.h"

#define CLIENT_MS 2000   /* a client has this long to send its line */
#define RETRIEVE_MS 3000 /* the kernel, this long to send NOTIFY_REPLY */
#define MAX_WORDS 16

struct control {
	struct session *s;
	int fd;   /* listening */
	int wake; /* eventfd: stop serving */
	pthread_t thread;
	bool running;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char record[64];
	/* a RETRIEVE waiting for its NOTIFY_REPLY */
	lock_t lock;
	uint32_t arrived; /* futex */
	uint64_t wait_unique, next_unique;
	char *data;
	size_t len;
};

/* The fields of struct statx this file reads (musl 1.2.3 has no statx). */
struct statx_head {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad;
	uint64_t ino, size, blocks, attributes_mask, times[8];
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct statx_head) == 256, "struct statx");

int control_record_path(const char *path, char *buf, size_t len, int *is_socket)
{
	struct statx_head st;
	/* Cached attributes only: a stat of a FUSE mountpoint may otherwise
	 * send GETATTR, which a test may be holding up on purpose. */
	if (syscall(SYS_statx, AT_FDCWD, path, AT_STATX_DONT_SYNC, 0x1u /* STATX_TYPE */, &st) < 0)
		return -errno;
	*is_socket = S_ISSOCK(st.mode);
	if (sfmt(buf, len, CONTROL_RUN_DIR "/%u:%u", st.dev_major, st.dev_minor) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int connectable(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int ok = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return ok;
}

struct control *control_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		sfmt(err, errlen, "control=%s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			sfmt(err, errlen, "control=%s: exists and is not a socket", path);
			return NULL;
		}
		if (connectable(&sa)) {
			sfmt(err, errlen, "control=%s: another daemon listens there", path);
			return NULL;
		}
		unlink(path); /* left by a daemon that died */
	}
	struct control *c = calloc(1, sizeof(*c));
	if (!c) {
		sfmt(err, errlen, "control=%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	c->wake = eventfd(0, EFD_CLOEXEC);
	/* Created 0600: others cannot even connect, whatever the directory. */
	mode_t old = umask(0177);
	int res = c->fd < 0 || c->wake < 0 ? -1 : bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (res < 0 || listen(c->fd, 8) < 0) {
		sfmt(err, errlen, "control=%s: %s", path, strerror(errno));
		if (res == 0)
			unlink(path);
		if (c->fd >= 0)
			close(c->fd);
		if (c->wake >= 0)
			close(c->wake);
		free(c);
		return NULL;
	}
	strcpy(c->path, path);
	return c;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- words ---- */

struct word {
	char *s; /* NUL-terminated; may hold NULs of its own */
	size_t len;
};

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	     : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Splits line at spaces and decodes %XX in place; -1 when too many words. */
static int split(char *line, struct word *w, int max)
{
	int n = 0;
	for (char *p = line; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (n == max)
			return -1;
		char *out = p;
		w[n].s = p;
		for (; *p && *p != ' '; p++) {
			int hi, lo;
			if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
				*out++ = (char)(hi << 4 | lo);
				p += 2;
			} else {
				*out++ = *p;
			}
		}
		w[n].len = (size_t)(out - w[n].s);
		if (*p)
			p++;
		*out = 0;
		n++;
	}
	return n;
}

static void put_escaped(struct out *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= ' ' || ch >= 0x7f || ch == '%')
			outf(out, "%%%02x", ch);
		else
			out_write(out, &ch, 1);
	}
	out_write(out, "\n", 1);
}

/* ---- arguments ---- */

struct cmd_ctx {
	struct control *c;
	struct word *w;
	int n;
	struct out out; /* the data lines after "ok" */
	char err[256];
};

static int fail(struct cmd_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cmd_ctx *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsfmt(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int number(struct cmd_ctx *x, int i, bool sign, uint64_t max, uint64_t *v)
{
	const char *s = x->w[i].s;
	char *end;
	errno = 0;
	*v = sign ? (uint64_t)scan_ll(s, &end, 0) : scan_ull(s, &end, 0);
	if (!*s || *end || errno || (!sign && *s == '-') || (!sign && *v > max) ||
	    strlen(s) != x->w[i].len)
		return fail(x, "bad number '%s'", s);
	return 0;
}

/* A path inside the mount ("/" first), resolved here, or a nodeid. */
static int node(struct cmd_ctx *x, int i, uint64_t *ino)
{
	const char *s = x->w[i].s;
	if (strlen(s) != x->w[i].len)
		return fail(x, "a path with a NUL byte");
	if (*s != '/')
		return number(x, i, false, UINT64_MAX, ino) ? fail(x, "'%s': a path starts "
			"with / (inside the mount), a nodeid is a number", s) : 0;
	int err = memfs_resolve(x->c->s->fs, s, ino);
	return err ? fail(x, "%s: %s", s, strerror(-err)) : 0;
}

/* ---- notifications ---- */

/* Writes one, and prints the kernel's answer: 0 or an errno name. */
static int notify(struct cmd_ctx *x, int code, const void *a, size_t alen, const void *b,
		  size_t blen)
{
	struct iovec iov[3] = { { 0 }, { (void *)a, alen }, { (void *)b, blen } };
	int err = dev_notify(x->c->s->fd, code, iov, blen ? 3 : alen ? 2 : 1);
	const char *name = errname(-err);
	if (!err)
		outf(&x->out, "0\n");
	else if (name)
		outf(&x->out, "%s\n", name);
	else
		outf(&x->out, "%d\n", -err);
	debug("control: notification %d: %d", code, err);
	return err;
}

static int n_inval_inode(struct cmd_ctx *x)
{
	struct fuse_notify_inval_inode_out o = { 0 };
	uint64_t off = 0, len = 0;
	if (x->n == 4)
		return fail(x, "usage: notify inval_inode PATH [OFF LEN]");
	if (node(x, 2, &o.ino) || (x->n == 5 && (number(x, 3, true, 0, &off) ||
						 number(x, 4, true, 0, &len))))
		return -1;
	o.off = (int64_t)off;
	o.len = (int64_t)len;
	notify(x, FUSE_NOTIFY_INVAL_INODE, &o, sizeof(o), NULL, 0);
	return 0;
}

static int name_arg(struct cmd_ctx *x, int i)
{
	if (x->w[i].len > 255 || strlen(x->w[i].s) != x->w[i].len)
		return fail(x, "a NAME is 1 to 255 bytes, no NUL");
	return 0;
}

static int n_inval_entry(struct cmd_ctx *x)
{
	struct fuse_notify_inval_entry_out o = { .namelen = (uint32_t)x->w[3].len };
	if (node(x, 2, &o.parent) || name_arg(x, 3))
		return -1;
	if (x->n == 5) {
		if (strcmp(x->w[4].s, "expire_only"))
			return fail(x, "usage: notify inval_entry DIR NAME [expire_only]");
		o.flags = FUSE_EXPIRE_ONLY;
	}
	notify(x, FUSE_NOTIFY_INVAL_ENTRY, &o, sizeof(o), x->w[3].s, x->w[3].len + 1);
	return 0;
}

static int n_delete(struct cmd_ctx *x)
{
	struct fuse_notify_delete_out o = { .namelen = (uint32_t)x->w[3].len };
	if (node(x, 2, &o.parent) || name_arg(x, 3))
		return -1;
	if (x->n == 5) {
		if (node(x, 4, &o.child))
			return -1;
	} else {
		/* the child as it is now, if it still is */
		char path[4096];
		if (*x->w[2].s == '/' && sfmt(path, sizeof(path), "%s/%s", x->w[2].s,
						  x->w[3].s) < (int)sizeof(path))
			memfs_resolve(x->c->s->fs, path, &o.child);
	}
	notify(x, FUSE_NOTIFY_DELETE, &o, sizeof(o), x->w[3].s, x->w[3].len + 1);
	return 0;
}

static int n_store(struct cmd_ctx *x)
{
	struct fuse_notify_store_out o = { .size = (uint32_t)x->w[4].len };
	if (node(x, 2, &o.nodeid) || number(x, 3, false, INT64_MAX, &o.offset))
		return -1;
	if (x->w[4].len > CONTROL_DATA_MAX)
		return fail(x, "DATA longer than %d bytes", CONTROL_DATA_MAX);
	notify(x, FUSE_NOTIFY_STORE, &o, sizeof(o), x->w[4].s, x->w[4].len);
	return 0;
}

static int n_retrieve(struct cmd_ctx *x)
{
	struct control *c = x->c;
	struct fuse_notify_retrieve_out o = { 0 };
	uint64_t size;
	if (node(x, 2, &o.nodeid) || number(x, 3, false, INT64_MAX, &o.offset) ||
	    number(x, 4, false, CONTROL_DATA_MAX, &size))
		return -1;
	o.size = (uint32_t)size;
	char *buf = malloc(o.size + 1);
	if (!buf)
		return fail(x, "%s", strerror(ENOMEM));
	lock(&c->lock);
	/* Far from the kernel's own uniques, which count up from 2. */
	o.notify_unique = c->wait_unique = (1ULL << 62) | ++c->next_unique;
	c->data = buf;
	c->len = o.size;
	c->arrived = 0;
	unlock(&c->lock);
	int err = notify(x, FUSE_NOTIFY_RETRIEVE, &o, sizeof(o), NULL, 0);
	long long end = now_ms() + RETRIEVE_MS, left;
	while (!err && !__atomic_load_n(&c->arrived, __ATOMIC_ACQUIRE) &&
	       (left = end - now_ms()) > 0) {
		struct timespec ts = { left / 1000, left % 1000 * 1000000 };
		syscall(SYS_futex, &c->arrived, LOCK_FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	}
	lock(&c->lock);
	bool arrived = c->arrived;
	size_t len = c->len;
	c->wait_unique = 0;
	c->data = NULL;
	unlock(&c->lock);
	if (!err && !arrived) {
		free(buf);
		return fail(x, "the kernel accepted RETRIEVE but sent no NOTIFY_REPLY in %d ms",
			    RETRIEVE_MS);
	}
	if (arrived)
		put_escaped(&x->out, buf, len);
	free(buf);
	return 0;
}

void control_notify_reply(struct control *c, uint64_t unique, const void *arg, size_t len)
{
	const struct fuse_notify_retrieve_in *in = arg;
	if (!c || len < sizeof(*in))
		return;
	size_t have = len - sizeof(*in), n = in->size < have ? in->size : have;
	lock(&c->lock);
	if (c->wait_unique == unique && unique && !c->arrived) {
		if (n > c->len)
			n = c->len;
		memcpy(c->data, in + 1, n);
		c->len = n;
		__atomic_store_n(&c->arrived, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &c->arrived, LOCK_FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	} else {
		debug("NOTIFY_REPLY %llu: nobody waits for it", (unsigned long long)unique);
	}
	unlock(&c->lock);
}

/* resend and inc_epoch: a code alone */
static int n_bare(struct cmd_ctx *x)
{
	notify(x, x->w[1].s[0] == 'r' ? FUSE_NOTIFY_RESEND : FUSE_NOTIFY_INC_EPOCH, NULL, 0,
	       NULL, 0);
	return 0;
}

static int n_poll(struct cmd_ctx *x)
{
	struct fuse_notify_poll_wakeup_out o = { 0 };
	if (x->n == 3 && number(x, 2, false, UINT64_MAX, &o.kh))
		return -1;
	notify(x, FUSE_NOTIFY_POLL, &o, sizeof(o), NULL, 0);
	return 0;
}

static int n_prune(struct cmd_ctx *x)
{
	struct fuse_notify_prune_out o = { .count = (uint32_t)(x->n - 2) };
	uint64_t ids[MAX_WORDS];
	for (int i = 2; i < x->n; i++)
		if (node(x, i, &ids[i - 2]))
			return -1;
	notify(x, FUSE_NOTIFY_PRUNE, &o, sizeof(o), ids, o.count * sizeof(ids[0]));
	return 0;
}

/* ---- faults ---- */

static int f_add(struct cmd_ctx *x)
{
	struct fault f;
	if (strlen(x->w[2].s) != x->w[2].len)
		return fail(x, "a SPEC with a NUL byte");
	if (fault_parse(&f, x->w[2].s, x->err, sizeof(x->err)) < 0)
		return -1;
	int id = fault_list_add(&x->c->s->faults, &f);
	if (id < 0)
		return fail(x, "%s", id == -ENOSPC ? "32 faults already (fault del, fault clear)"
					      : strerror(-id));
	outf(&x->out, "%d\n", id);
	return 0;
}

static int f_del(struct cmd_ctx *x)
{
	uint64_t id;
	if (number(x, 2, false, UINT32_MAX, &id))
		return -1;
	int err = fault_list_del(&x->c->s->faults, (unsigned)id);
	return err ? fail(x, "no fault %llu", (unsigned long long)id) : 0;
}

static int f_list(struct cmd_ctx *x)
{
	fault_list_print(&x->c->s->faults, &x->out);
	return 0;
}

static int f_clear(struct cmd_ctx *x)
{
	fault_list_clear(&x->c->s->faults);
	return 0;
}

/* ---- the rest ---- */

static int c_stats(struct cmd_ctx *x)
{
	stats_print(x->c->s, &x->out);
	return 0;
}

static int c_remount(struct cmd_ctx *x)
{
	char err[256];
	if (remount_apply(x->c->s->fs, x->c->s->cfg.volume, x->w[1].s, err, sizeof(err)) < 0)
		return fail(x, "%s", err);
	/* the kernel's copy of the root's mode and owner is old now: a
	 * tightened mode= must hold at once */
	dev_notify_attrs(x->c->s->fd, FUSE_ROOT_ID);
	return 0;
}

static int c_help(struct cmd_ctx *x);

static const struct command {
	const char *group, *name;
	int min, max; /* words, group and name included */
	int (*fn)(struct cmd_ctx *x);
	const char *args;
} commands[] = {
	{ "stats", NULL, 1, 1, c_stats, "" },
	{ "help", NULL, 1, 1, c_help, "" },
	{ "remount", NULL, 2, 2, c_remount, "size=N,nr_inodes=N,mode=M,uid=N,gid=N" },
	{ "fault", "add", 3, 3, f_add, "SPEC" },
	{ "fault", "del", 3, 3, f_del, "ID" },
	{ "fault", "list", 2, 2, f_list, "" },
	{ "fault", "clear", 2, 2, f_clear, "" },
	{ "notify", "inval_inode", 3, 5, n_inval_inode, "PATH [OFF LEN]" },
	{ "notify", "inval_entry", 4, 5, n_inval_entry, "DIR NAME [expire_only]" },
	{ "notify", "delete", 4, 5, n_delete, "DIR NAME [CHILD]" },
	{ "notify", "store", 5, 5, n_store, "PATH OFF DATA" },
	{ "notify", "retrieve", 5, 5, n_retrieve, "PATH OFF LEN" },
	{ "notify", "resend", 2, 2, n_bare, "" },
	{ "notify", "poll", 2, 3, n_poll, "[KH]" },
	{ "notify", "inc_epoch", 2, 2, n_bare, "" },
	{ "notify", "prune", 3, MAX_WORDS, n_prune, "PATH..." },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int c_help(struct cmd_ctx *x)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		outf(&x->out, "%s%s%s%s%s\n", c->group, c->name ? " " : "",
			c->name ? c->name : "", *c->args ? " " : "", c->args);
	}
	return 0;
}

/* Runs one command line; the answer goes to ans. */
static void run(struct control *c, char *line, struct out *ans)
{
	struct word w[MAX_WORDS];
	struct cmd_ctx x = { .c = c, .w = w, .out = OUT_MEM };
	x.n = split(line, w, MAX_WORDS);
	const struct command *cmd = NULL;
	bool group_known = false;
	for (size_t i = 0; x.n > 0 && i < NCOMMANDS; i++) {
		if (strcmp(commands[i].group, w[0].s))
			continue;
		group_known = true;
		if (!commands[i].name || (x.n > 1 && !strcmp(commands[i].name, w[1].s))) {
			cmd = &commands[i];
			break;
		}
	}
	int res = -1;
	if (x.n < 0) {
		fail(&x, "more than %d words", MAX_WORDS);
	} else if (!cmd) {
		fail(&x, "unknown command '%s%s%s' (try: help)", x.n ? w[0].s : "",
		     group_known && x.n > 1 ? " " : "", group_known && x.n > 1 ? w[1].s : "");
	} else if (x.n < cmd->min || x.n > cmd->max) {
		fail(&x, "usage: %s%s%s%s%s", cmd->group, cmd->name ? " " : "",
		     cmd->name ? cmd->name : "", *cmd->args ? " " : "", cmd->args);
	} else {
		res = cmd->fn(&x);
		if (!res && x.out.err)
			res = fail(&x, "%s", strerror(-x.out.err));
	}
	if (res == 0) {
		out_puts(ans, "ok\n");
		out_write(ans, x.out.buf, x.out.len);
	} else {
		outf(ans, "error: %s\n", x.err);
	}
	free(x.out.buf);
}

/* ---- serving ---- */

/* One line within CLIENT_MS; returns its length or -1. */
static ssize_t read_line(int fd, char *buf, size_t size, const char **why)
{
	size_t len = 0;
	long long end = now_ms() + CLIENT_MS;
	for (;;) {
		long long left = end - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			*why = "no command line within 2 s";
			return -1;
		}
		ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* a last line without its newline is fine */
			buf[len] = 0;
			if (len)
				return (ssize_t)len;
			*why = "no command line";
			return -1;
		}
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = 0;
			return nl - buf;
		}
		if (len == size - 1) {
			*why = "command line too long";
			return -1;
		}
	}
}

static void send_all(int fd, const char *p, size_t len)
{
	long long end = now_ms() + CLIENT_MS;
	while (len && now_ms() < end) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, 100);
			continue;
		}
		if (n <= 0 && errno != EINTR)
			return;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
}

static void serve_client(struct control *c, int fd)
{
	char *line = NULL;
	struct out ans = OUT_MEM;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	const char *why = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || cr.uid != geteuid()) {
		msg("control: refused a client of uid %d", (int)cr.uid);
		outf(&ans, "error: permission denied: only uid %d may use this socket\n",
			(int)geteuid());
	} else if (!(line = malloc(CONTROL_LINE_MAX))) {
		outf(&ans, "error: %s\n", strerror(ENOMEM));
	} else if (read_line(fd, line, CONTROL_LINE_MAX, &why) < 0) {
		outf(&ans, "error: %s\n", why);
	} else {
		debug("control: %.200s", line);
		run(c, line, &ans);
	}
	if (!ans.err)
		send_all(fd, ans.buf, ans.len);
	free(ans.buf);
	free(line);
}

static void *control_main(void *arg)
{
	struct control *c = arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = c->wake, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_client(c, fd);
		close(fd);
	}
	return NULL;
}

/* The record is a symlink made under a temporary name and renamed over
 * whatever an earlier daemon of the same connection number left. */
static void record(struct control *c, const char *mnt)
{
	char tmp[80] = "";
	int is_socket, err = control_record_path(mnt, c->record, sizeof(c->record), &is_socket);
	if (!err && mkdir(CONTROL_RUN_DIR, 0755) < 0 && errno == ENOENT) {
		mkdir("/run", 0755); /* an initramfs may lack it */
		mkdir(CONTROL_RUN_DIR, 0755);
	}
	if (!err && sfmt(tmp, sizeof(tmp), "%s.%d", c->record, (int)getpid()) < (int)sizeof(tmp) &&
	    symlink(c->path, tmp) == 0 && rename(tmp, c->record) == 0)
		return;
	err = err ? err : -errno;
	msg("control: cannot record the socket for %s in " CONTROL_RUN_DIR ": %s "
	    "(`ramfuse ctl` needs the socket's path)", mnt, strerror(-err));
	if (tmp[0])
		unlink(tmp);
	c->record[0] = 0;
}

int control_start(struct control *c, struct session *s, const char *mnt)
{
	c->s = s;
	record(c, mnt);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	int err = pthread_create(&c->thread, &attr, control_main, c);
	pthread_attr_destroy(&attr);
	c->running = !err;
	return -err;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	if (c->running) {
		uint64_t one = 1;
		if (write(c->wake, &one, sizeof(one)) == sizeof(one))
			pthread_join(c->thread, NULL);
	}
	/* Only our own record: a later daemon may have taken the number. */
	char target[sizeof(c->path)];
	ssize_t n = c->record[0] ? readlink(c->record, target, sizeof(target) - 1) : -1;
	if (n >= 0 && (target[n] = 0, !strcmp(target, c->path)))
		unlink(c->record);
	unlink(c->path);
	close(c->fd);
	close(c->wake);
	free(c);
}
