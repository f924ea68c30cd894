/* ramfuse: command line, daemonizing, signals. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "control.h"
#include "cred.h"
#include "fmt.h"
#include "log.h"
#include "mount.h"
#include "opts.h"
#include "populate.h"
#include "remount.h"
#include "session.h"
#include "volume.h"

#define VERSION "0.1"
#define EXIT_USAGE 2

static void usage(int fd)
{
	static const char text[] =
	      "usage: ramfuse [-f] [-d] [-o OPTIONS]... MOUNTPOINT\n"
	      "       mount.fuse.ramfuse SOURCE MOUNTPOINT [-o OPTIONS]\n"
	      "  -f, --foreground  stay in the foreground, messages on stderr\n"
	      "  -d, --debug       log every request and reply (implies -f)\n"
	      "  -o OPTIONS        comma-separated, repeatable:\n"
	      "    size=N[k|m|g|t|%]     data limit (0: none)\n"
	      "    nr_inodes=N[k|m|g]    inode limit (0: none)\n"
	      "    mode=OCTAL uid=N gid=N  the root directory's\n"
	      "    allow_other           others may use the mount\n"
	      "    default_permissions   the kernel checks permissions (default)\n"
	      "    nodefault_permissions ramfuse checks them\n"
	      "    max_read=N            largest READ\n"
	      "    fsname=S subtype=S    mount source, type fuse.S\n"
	      "    threads=N             worker threads (1..256)\n"
	      "    clone_fd noclone_fd   a cloned device fd per worker (default) or one\n"
	      "    nonblock              non-blocking device fds, workers poll\n"
	      "    entry_timeout=S attr_timeout=S negative_timeout=S  kernel cache times, seconds\n"
	      "    passthrough=auto|on|off  the kernel does file I/O itself\n"
	      "    stats=PATH            counters file (rewritten on SIGUSR1)\n"
	      "    populate=PATH         copy in a directory, cpio (newc) or tar archive\n"
	      "    root                  a root filesystem's daemon: named @ramfuse, ignores\n"
	      "                          SIGTERM/SIGINT/SIGHUP (only umount ends it)\n"
	      "    log=kmsg|syslog|FILE  messages once serving (default: stderr with -f)\n"
	      "    fault=OP:ACTION[:node=N][:name=S][:count=N]  misbehave on purpose\n"
	      "    control=PATH          a control socket (ramfuse ctl)\n"
	      "    volume[=NAME]         the files outlive the mount (ramfuse volumes)\n"
	      "    acl noacl             POSIX ACLs (default: with default_permissions)\n"
	      "    remount               change a mounted ramfuse's options\n"
	      "    ro rw nosuid suid nodev dev noexec exec sync async dirsync noatime\n"
	      "    atime nodiratime diratime relatime norelatime strictatime lazytime\n"
	      "    nolazytime            mount(8)'s generic options\n"
	      "    defaults auto noauto user nouser users owner group _netdev nofail\n"
	      "    x-* comment=          fstab words, ignored\n"
	      "  -h, --help        this text\n"
	      "  -V, --version     the version\n"
	      "       ramfuse ctl MOUNTPOINT|SOCKET COMMAND [ARG]...  (the -o control= client)\n"
	      "       ramfuse volumes              (the volumes and their mounts)\n"
	      "       ramfuse destroy NAME...      (an unmounted volume's files go)\n";
	struct out o = OUT_FD(fd);
	out_write(&o, text, sizeof(text) - 1);
	out_close(&o);
}

static noreturn void print_version(void)
{
	struct out o = OUT_FD(STDOUT_FILENO);
	outf(&o, "ramfuse %s (FUSE protocol %d.%d)\n", VERSION, FUSE_KERNEL_VERSION,
	     FUSE_KERNEL_MINOR_VERSION);
	exit(out_close(&o) ? 1 : 0);
}

static noreturn void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static noreturn void fail(int code, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	msg("%s", line);
	exit(code);
}

struct cli {
	char *mountpoint;
	const char *source; /* the SOURCE of the helper forms */
	char opts[8192];
	size_t opts_len;
	bool foreground, helper;
	bool mount8; /* run as mount.TYPE: mount(8) states the flags */
};

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *t = list; *t; t += strcspn(t, ",") + (t[strcspn(t, ",")] != 0))
		if (!strncmp(t, word, n) && (t[n] == ',' || !t[n]))
			return true;
	return false;
}

static void add_opts(struct cli *c, const char *list)
{
	size_t len = strlen(list);
	if (c->opts_len + len + 2 > sizeof(c->opts))
		fail(EXIT_USAGE, "options too long");
	if (c->opts_len)
		c->opts[c->opts_len++] = ',';
	memcpy(c->opts + c->opts_len, list, len + 1);
	c->opts_len += len;
}

/* mount(8) runs helpers as: mount.TYPE SOURCE DIR [-sfnv] [-N NS] [-o OPTS] [-t TYPE] */
static void parse_helper_args(struct cli *c, int argc, char **argv, const char **source)
{
	char *pos[2];
	int npos = 0;
	c->helper = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-o") || !strcmp(a, "-t") || !strcmp(a, "-N")) {
			if (++i == argc)
				fail(EXIT_USAGE, "option %s needs an argument", a);
			if (a[1] == 'o')
				add_opts(c, argv[i]);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(STDOUT_FILENO);
			exit(0);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			print_version();
		} else if (!strcmp(a, "-f")) {
			exit(0); /* mount -f: pretend */
		} else if (!strcmp(a, "-n") || !strcmp(a, "-s") || !strcmp(a, "-v")) {
			continue;
		} else if (a[0] == '-' && a[1]) {
			fail(EXIT_USAGE, "unknown argument '%s'", a);
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			fail(EXIT_USAGE, "unexpected argument '%s'", a);
		}
	}
	if (npos != 2)
		fail(EXIT_USAGE, "usage: %s SOURCE MOUNTPOINT [-o OPTIONS]", argv[0]);
	*source = pos[0];
	c->mountpoint = pos[1];
}

static void parse_args(struct cli *c, int argc, char **argv)
{
	/* the long forms first; then the short ones, as getopt("+fdho:V")
	 * would take them (musl's getopt brings stdio along) */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help")) {
			usage(STDOUT_FILENO);
			exit(0);
		} else if (!strcmp(a, "--version")) {
			print_version();
		} else if (!strcmp(a, "--foreground")) {
			argv[i] = "-f";
		} else if (!strcmp(a, "--debug")) {
			argv[i] = "-d";
		} else if (a[0] == '-' && a[1] == '-' && a[2]) {
			fail(EXIT_USAGE, "unknown option '%s' (see --help)", a);
		} else if (!strcmp(a, "-o")) {
			i++;
		}
	}
	int arg = 1;
	for (; arg < argc && argv[arg][0] == '-' && argv[arg][1]; arg++) {
		const char *a = argv[arg];
		if (!strcmp(a, "--")) {
			arg++;
			break;
		}
		for (a++; *a; a++) {
			switch (*a) {
			case 'f': c->foreground = true; continue;
			case 'd': c->foreground = true; log_set_debug(true); continue;
			case 'h': usage(STDOUT_FILENO); exit(0);
			case 'V': print_version();
			case 'o':
				if (!a[1] && arg + 1 == argc) {
					msg("option -o needs an argument");
					break;
				}
				add_opts(c, a[1] ? a + 1 : argv[++arg]);
				a = strchr(a, 0) - 1; /* the rest was the argument */
				continue;
			default:
				msg("unknown option '-%c'", *a);
				break;
			}
			usage(STDERR_FILENO);
			exit(EXIT_USAGE);
		}
	}
	/* ramfuse SOURCE MOUNTPOINT -o OPTIONS: how mount.fuse3 runs us (fstab
	 * type fuse.ramfuse, or "ramfuse#SOURCE" with type fuse; mount(8)
	 * always passes options).  Without -o two names stay an error. */
	if (argc - arg >= 4 && argv[arg + 1][0] != '-' && !strcmp(argv[arg + 2], "-o")) {
		const char *source;
		parse_helper_args(c, argc - arg + 1, argv + arg - 1, &source);
		c->source = source;
		return;
	}
	if (arg != argc - 1) {
		msg(arg == argc ? "no MOUNTPOINT given" : "unexpected argument '%s'",
		    argv[arg == argc ? 0 : argc - 1]);
		usage(STDERR_FILENO);
		exit(EXIT_USAGE);
	}
	c->mountpoint = argv[arg];
}

/* The directory holding path, opened now so that it stays the same
 * directory wherever it is moved (switch_root moves /run); *name is the
 * last component. */
static int open_parent(const char *path, const char **name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	size_t len = slash ? (size_t)(slash - path) : 1;
	if (len >= sizeof(dir) || !**name)
		fail(EXIT_USAGE, "stats=%s: not a file name", path);
	memcpy(dir, slash ? path : ".", len);
	dir[len] = 0;
	if (slash == path)
		strcpy(dir, "/");
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail(1, "stats=%s: %s: %s", path, dir, strerror(errno));
	return fd;
}

/*
 * A root filesystem's daemon must outlive the shutdown's killing spree:
 * systemd spares processes whose argv[0] starts with '@' ("storage
 * daemons", at switch-root and shutdown).  Rewrites the argument area in
 * place (what /proc/PID/cmdline shows) as "@ramfuse" and the rest of the
 * arguments, cut to fit.  The argv strings are not used afterwards.
 */
static void mark_storage_daemon(int argc, char **argv)
{
	if (argv[0][0] == '@')
		return;
	char *area = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
	size_t room = (size_t)(end - area), len = 0;
	char *copy = malloc(room + 1);
	if (!copy)
		return;
	/* all arguments if they fit, else the mountpoint (the last) alone */
	for (int from = 1; from <= argc; from = argc - 1) {
		len = (size_t)sfmt(copy, room + 1, "@ramfuse");
		for (int i = from; i < argc && len < room; i++) {
			size_t n = strlen(argv[i]);
			copy[len++] = 0;
			n = n < room - len ? n : room - len;
			memcpy(copy + len, argv[i], n);
			len += n;
		}
		size_t want = 8;
		for (int i = from; i < argc; i++)
			want += 1 + strlen(argv[i]);
		if (want <= room || from == argc - 1)
			break;
	}
	if (len > room)
		len = room;
	memcpy(area, copy, len);
	memset(area + len, 0, room + 1 - len);
	free(copy);
	/* the kernel thinks the same of us: no OOM kill either */
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-1000", 5) < 0) { /* not allowed: fine */
		}
		close(fd);
	}
}

/*
 * mount -o remount: mount(8) runs the helper with "remount" among the
 * options.  Mount flags (ro/rw, nosuid, ...) change with mount(2)
 * MS_REMOUNT, the only part the kernel takes; size=, nr_inodes=, mode=,
 * uid= and gid= go to the daemon through its control socket.
 */
static int remount(struct cli *c)
{
	char copy[sizeof(c->opts)], *save = NULL;
	struct options o;
	opts_defaults(&o);
	o.mount_flags = 0;
	memcpy(copy, c->opts, sizeof(copy));
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char err[256];
		if (!remount_known(t))
			fail(EXIT_USAGE, "'%s' cannot change on remount (only size=, nr_inodes=, "
			     "mode=, uid=, gid= and mount flags)", t);
		/* fstab's volume=NAME again: the mount must be that volume's */
		if (!strncmp(t, "volume=", 7) && (!c->source || strcmp(t + 7, c->source))) {
			char mnt[PATH_MAX];
			if (!realpath(c->mountpoint, mnt))
				fail(1, "%s: %s", c->mountpoint, strerror(errno));
			if (!volume_serves(t + 7, mnt))
				fail(1, "'%s' on remount: %s is not volume %s's mount", t, mnt,
				     t + 7);
		}
		if (opts_is_generic(t) && opts_parse(&o, t, err, sizeof(err)) < 0)
			fail(EXIT_USAGE, "%s", err);
	}
	/* the daemon first: a remount it refuses changes nothing */
	char err[256];
	int need = remount_has_live(c->opts) ?
		   remount_needs_daemon(c->mountpoint, c->opts, err, sizeof(err)) : 0;
	if (need < 0)
		fail(EXIT_USAGE, "%s", err);
	if (need) {
		char *argv[] = { "ctl", c->mountpoint, "remount", c->opts, NULL };
		int status = ctl_main(4, argv);
		if (status)
			return status;
	}
	if (mount(NULL, c->mountpoint, NULL, MS_REMOUNT | o.mount_flags, NULL) < 0)
		fail(1, "remount %s: %s", c->mountpoint, strerror(errno));
	return 0;
}

/* The parent waits for the daemon to say it serves, then exits with the
 * status the daemon sends (a closed pipe means it died). */
static int daemonize(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		fail(1, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		fail(1, "fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		unsigned char status = 1;
		while (read(p[0], &status, 1) < 0 && errno == EINTR)
			;
		_exit(status);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void report_ready(int *notify_fd)
{
	if (*notify_fd < 0)
		return;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	unsigned char ok = 0;
	if (write(*notify_fd, &ok, 1) < 0) { /* the parent is gone: serve anyway */
	}
	close(*notify_fd);
	*notify_fd = -1;
}

static void raise_fd_limit(void)
{
	/* Each file with data holds a memfd. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The signals the main thread takes, through a signalfd. */
static void control_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

/* The mount's atime flags, which the kernel leaves to the server. */
static void set_atime(struct memfs *fs, unsigned long ms)
{
	/* as do_mount(): strictatime overrides noatime */
	memfs_set_atime(fs, (ms & MS_STRICTATIME ? MEMFS_ATIME_STRICT :
			     ms & MS_NOATIME ? MEMFS_ATIME_NOATIME : 0) |
			    (ms & MS_NODIRATIME ? MEMFS_ATIME_NODIRATIME : 0));
}

/* A session ended with its connection: a volume keeps its files for the
 * next one, which starts from a clean slate of lookups and opens. */
static void session_reset(struct session *s, int fd)
{
	fault_list_free(&s->faults);
	*s = (struct session){ .cfg = s->cfg, .fs = s->fs, .fd = fd, .done_fd = -1,
			       .stats_seq = s->stats_seq };
}

/* A volume's next connection, mounted by `mount` on r->mnt: 0 once served. */
static int volume_connect(struct session *s, struct volume_req *r, bool dp, char *mnt,
			  char *why, size_t len)
{
	if (r->default_permissions != dp) {
		sfmt(why, len, "the volume is served %s default_permissions: mount it so",
			 dp ? "with" : "without");
		return -EINVAL;
	}
	session_reset(s, r->fd);
	set_atime(s->fs, r->mount_flags);
	int res = session_init(s, r->fd);
	if (res == 0)
		res = session_start(s);
	if (res < 0) {
		sfmt(why, len, "%s: %s", s->workers ? "starting workers" : "INIT",
			 strerror(-res));
		session_join(s);
		session_free(s);
		s->fd = -1; /* r->fd, closed with the answer */
		return res;
	}
	r->fd = -1; /* the session's now */
	sfmt(mnt, PATH_MAX, "%s", r->mnt);
	int err = stats_write(s);
	if (err)
		msg("writing stats to %s: %s", s->cfg.stats_path, strerror(-err));
	return 0;
}

/* Unmounted, though the workers may not have seen it yet: after umount
 * the device says POLLERR at once. */
static bool connection_gone(struct session *s)
{
	struct pollfd p = { .fd = s->fd };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* A client of the volume's socket; a request to attach while the current
 * connection is on its way out waits in pending until it is gone. */
static bool volume_request(struct volume *vol, struct session *s, const char *mnt,
			   bool serving, struct volume_req *pending)
{
	struct volume_req r;
	if (volume_take(vol, &r) < 0)
		return false;
	char text[PATH_MAX + 256];
	switch (r.cmd) {
	case VOLUME_INFO:
		sfmt(text, sizeof(text), "%s\t%d\t%s\tinodes %llu\tbytes %llu",
			 volume_name(vol), (int)getpid(), serving ? mnt : "-",
			 (unsigned long long)memfs_inode_count(s->fs),
			 (unsigned long long)memfs_byte_count(s->fs));
		volume_answer(&r, 0, text);
		return false;
	case VOLUME_DESTROY:
		if (serving && (pending->client >= 0 || !connection_gone(s))) {
			sfmt(text, sizeof(text), "mounted on %s: unmount it first", mnt);
			volume_answer(&r, -EBUSY, text);
			return false;
		}
		*pending = r;
		return !serving; /* answered once the socket is gone */
	case VOLUME_ATTACH:
		if (serving && (pending->client >= 0 || !connection_gone(s))) {
			sfmt(text, sizeof(text), "mounted on %s (one mount at a time)", mnt);
			volume_answer(&r, -EBUSY, text);
		} else {
			*pending = r;
		}
		return false;
	}
	return false;
}

static int serve(struct session *s, char *mnt, struct volume *vol, bool dp, bool root)
{
	sigset_t set;
	control_signals(&set);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		msg("signalfd: %s", strerror(errno));
		return 1;
	}
	bool unmounting = false, stopping = false, serving = true, destroy = false;
	int status = 0;
	struct volume_req pending = { .client = -1, .fd = -1 };
	while (serving || (vol && !unmounting && !destroy)) {
		if (serving && !session_running(s)) {
			/* the connection is gone: a volume waits for the next */
			session_join(s);
			status |= __atomic_load_n(&s->failed, __ATOMIC_ACQUIRE) ? 1 : 0;
			serving = false;
			if (!vol || unmounting || status)
				break;
			session_free(s);
			close(s->fd);
			s->fd = -1;
			memfs_disconnect(s->fs);
			debug("volume %s: connection ended, %llu inodes kept", volume_name(vol),
			      (unsigned long long)memfs_inode_count(s->fs));
		}
		if (!serving && pending.client >= 0) {
			if (pending.cmd == VOLUME_DESTROY) {
				destroy = true;
				break;
			}
			char why[512];
			int res = volume_connect(s, &pending, dp, mnt, why, sizeof(why));
			volume_answer(&pending, res, res ? why : NULL);
			serving = res == 0;
			stopping = false;
			continue;
		}
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
				       { .fd = serving ? s->done_fd : -1, .events = POLLIN },
				       { .fd = vol ? volume_fd(vol) : -1, .events = POLLIN } };
		/* A worker busy with a request when told to stop misses the
		 * signal and blocks in read again: tell it again. */
		int n = poll(p, 3, stopping ? 100 : -1);
		if (n == 0 && stopping)
			session_stop(s);
		if (n <= 0)
			continue;
		/* A worker's end means the connection is gone (unmount,
		 * abort) or broken: the others, maybe busy, stop too. */
		if ((p[1].revents & POLLIN) && !stopping) {
			session_stop(s);
			stopping = true;
		}
		if (p[2].revents & POLLIN)
			destroy = volume_request(vol, s, mnt, serving, &pending) && !serving;
		if (destroy)
			break;
		struct signalfd_siginfo si;
		if (!(p[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1) {
			int err = stats_write(s);
			if (err)
				msg("writing stats to %s: %s", s->cfg.stats_path, strerror(-err));
			continue;
		}
		if (root) {
			int sig = (int)si.ssi_signo;
			msg("%s ignored (-o root): only umount ends it",
			    sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP");
			continue;
		}
		if (unmounting)
			continue;
		unmounting = true;
		if (!serving)
			break; /* a volume with no mount: its files go */
		int res = mount_remove(mnt);
		if (res < 0)
			msg("unmounting %s: %s", mnt, strerror(-res));
		/* A clean unmount ends the workers by itself; a lazy one leaves
		 * users behind, whose calls will fail once our fds close. */
		if (res != 0) {
			session_stop(s);
			stopping = true;
		}
	}
	if (vol) {
		/* gone from the directory before the destroyer hears so */
		volume_close(vol);
		volume_answer(&pending, pending.cmd == VOLUME_DESTROY ? 0 : -ESHUTDOWN,
			      pending.cmd == VOLUME_DESTROY ? NULL : "the volume's daemon is ending");
	}
	close(sfd);
	return status;
}

/* The daemon works from /: keep the path the user meant. */
static const char *absolute(const char *what, const char *path, char buf[PATH_MAX])
{
	char cwd[PATH_MAX];
	if (!path || path[0] == '/')
		return path;
	if (!getcwd(cwd, sizeof(cwd)) || sfmt(buf, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
		fail(EXIT_USAGE, "%s path '%s' is too long", what, path);
	return buf;
}

int main(int argc, char **argv)
{
	static struct cli c;
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "volumes"))
		return volume_list_main();
	if (argc > 1 && !strcmp(argv[1], "destroy"))
		return volume_destroy_main(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "--list-fields")) {
		struct out o = OUT_FD(STDOUT_FILENO);
		fields_print(&o);
		return out_close(&o) ? 1 : 0;
	}
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	/* mount.fuse.ramfuse, mount.ramfuse, or linked as mount.fuse.SUBTYPE */
	if (!strncmp(base, "mount.", 6)) {
		c.mount8 = true;
		parse_helper_args(&c, argc, argv, &c.source);
	}
	else
		parse_args(&c, argc, argv);
	const char *source = c.source;

	if (has_word(c.opts, "remount"))
		return remount(&c);
	struct options o;
	opts_defaults(&o);
	/* mount(8) passes nosuid/nodev/noexec when they apply and drops suid
	 * and dev (its defaults), so our own nosuid,nodev default would leave
	 * no way to ask for them: as its helper, take its flags as given, as
	 * it mounts tmpfs (a "user" fstab mount gets nosuid,nodev from it) */
	if (c.mount8)
		o.mount_flags = 0;
	char err[512];
	if (opts_parse(&o, c.opts, err, sizeof(err)) < 0)
		fail(EXIT_USAGE, "%s", err);
	char *fsname = NULL; /* a copy: argv may be rewritten (-o root) */
	if (source)
		o.fsname = fsname = strdup(source);
	if (o.volume && !*o.volume)
		o.volume = o.fsname;
	o.session.volume = o.volume;
	if (opts_check(&o, err, sizeof(err)) < 0)
		fail(EXIT_USAGE, "%s", err);
	if (mount_check_point(c.mountpoint, err, sizeof(err)) < 0)
		fail(1, "%s", err);
	char mnt[PATH_MAX];
	if (!realpath(c.mountpoint, mnt))
		fail(1, "%s: %s", c.mountpoint, strerror(errno));
	/* Paths used after start are opened now (README "Paths"). */
	if (o.session.stats_path)
		o.session.stats_dir = open_parent(o.session.stats_path, &o.session.stats_name);
	if (o.log && log_open(o.log, err, sizeof(err)) < 0)
		fail(1, "%s", err);
	cred_open_proc();
	static char control_path[PATH_MAX], populate_path[PATH_MAX];
	o.control_path = absolute("control", o.control_path, control_path);
	o.populate = absolute("populate", o.populate, populate_path);

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	/* A volume kept by a daemon is mounted here and served there. */
	struct volume *vol = NULL;
	for (int tries = 0; o.volume && !vol; tries++) {
		int res = volume_attach(&o, mnt, err, sizeof(err));
		if (res == 0) {
			free(fsname);
			return 0;
		}
		if (res != -ENOENT || tries == 2)
			fail(1, "%s", err);
		vol = volume_open(o.volume, err, sizeof(err));
		if (!vol && errno != EEXIST) /* EEXIST: another just took it */
			fail(1, "%s", err);
	}
	int notify_fd = c.foreground ? -1 : daemonize();
	if (chdir("/") < 0)
		fail(1, "chdir /: %s", strerror(errno));

	/* Not allowed to open /dev/fuse or to mount: fusermount3 does both */
	int fd = dev_open();
	bool helper = fd < 0 && (fd == -EACCES || fd == -EPERM) && geteuid() != 0;
	if (fd < 0 && !helper)
		fail(1, "/dev/fuse: %s", strerror(-fd));
	struct session s = { .cfg = o.session, .fd = fd };
	struct memfs_config fc = {
		.max_bytes = o.size, .max_inodes = o.nr_inodes,
		.root_mode = o.mode, .root_uid = o.uid, .root_gid = o.gid,
		.check_perms = !o.default_permissions, .posix_acl = o.session.posix_acl,
	};
	int res = memfs_new(&s.fs, &fc);
	if (res < 0)
		fail(1, "memory filesystem: %s", strerror(-res));
	set_atime(s.fs, o.mount_flags);
	if (o.populate && (res = populate(s.fs, o.populate, err, sizeof(err))) < 0)
		fail(1, "%s", err);
	if (o.control_path && !(s.ctl = control_open(o.control_path, err, sizeof(err))))
		fail(1, "%s", err);
	res = helper ? -EPERM : mount_fuse(&o, mnt, fd, err, sizeof(err));
	if (res == -EPERM && geteuid() != 0) {
		debug("mounting through fusermount3: %s", helper ? "/dev/fuse is not ours to open"
								 : "mount(2) refused");
		if (fd >= 0)
			close(fd);
		res = mount_fusermount(&o, mnt, &fd, err, sizeof(err));
		s.fd = fd;
	}
	if (res < 0) {
		control_close(s.ctl);
		volume_close(vol);
		fail(1, "%s", err);
	}
	res = session_init(&s, fd);
	if (res < 0) {
		mount_remove(mnt);
		control_close(s.ctl);
		volume_close(vol);
		fail(1, "INIT on %s: %s", mnt, strerror(-res));
	}

	/* Only the main thread takes these: workers start with them blocked. */
	sigset_t set;
	control_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	res = session_start(&s);
	if (res < 0) {
		mount_remove(mnt);
		control_close(s.ctl);
		volume_close(vol);
		fail(1, "starting workers: %s", strerror(-res));
	}
	if (s.ctl && (res = control_start(s.ctl, &s, mnt)) < 0)
		msg("control=%s: %s", o.control_path, strerror(-res));
	/* SIGUSR2 interrupts a worker's read (tests count the EINTR retries):
	 * keep it off this thread so that it reaches one. */
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	res = stats_write(&s);
	if (res < 0)
		msg("writing stats to %s: %s", s.cfg.stats_path, strerror(-res));
	if (o.root)
		mark_storage_daemon(argc, argv);
	report_ready(&notify_fd);
	log_detach();
	int status = serve(&s, mnt, vol, o.default_permissions, o.root);
	control_close(s.ctl);
	s.ctl = NULL;
	struct statfs sf; /* statfs always asks the server: no cache answers it */
	if (!o.volume && statfs(mnt, &sf) < 0 && errno == ENOTCONN)
		msg("%s: the connection was aborted; the mount stays until unmounted", mnt);
	res = stats_write(&s);
	if (res < 0)
		msg("writing stats to %s: %s", s.cfg.stats_path, strerror(-res));
	session_free(&s);
	if (s.fd >= 0)
		close(s.fd);
	fault_list_free(&s.faults);
	memfs_free(s.fs);
	free(fsname);
	return status;
}
