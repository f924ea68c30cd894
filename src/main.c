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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "opts.h"
#include "session.h"

#define VERSION "0.1"
#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ramfuse [-f] [-d] [-o OPTIONS] MOUNTPOINT\n"
		"       mount.fuse.ramfuse SOURCE MOUNTPOINT [-o OPTIONS]\n"
		"  -f  stay in the foreground\n"
		"  -d  log every request and reply to stderr (implies -f)\n"
		"  -o  comma-separated options (repeatable):\n"
		"      size=N[k|m|g|%%] nr_inodes=N mode=OCTAL uid=N gid=N\n"
		"      allow_other nodefault_permissions max_read=N fsname=S subtype=S\n"
		"      threads=N noclone_fd entry_timeout=S attr_timeout=S\n"
		"      passthrough=auto|on|off stats=PATH fault=SPEC control=PATH,\n"
		"      and mount(8)'s generic ones\n"
		"  -V  print the version\n"
		"       ramfuse ctl MOUNTPOINT|SOCKET COMMAND [ARG]...  (the -o control= client)\n");
}

static noreturn void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static noreturn void fail(int code, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	msg("%s", line);
	exit(code);
}

struct cli {
	char *mountpoint;
	char opts[8192];
	size_t opts_len;
	bool foreground, helper;
};

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
	int opt;
	while ((opt = getopt(argc, argv, "+fdho:V")) != -1) {
		switch (opt) {
		case 'f': c->foreground = true; break;
		case 'd': c->foreground = true; log_set_debug(true); break;
		case 'o': add_opts(c, optarg); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("ramfuse %s (FUSE protocol %d.%d)\n", VERSION,
				 FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind != argc - 1) {
		msg(optind == argc ? "no MOUNTPOINT given" : "unexpected argument '%s'",
		    argv[optind == argc ? 0 : argc - 1]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
	c->mountpoint = argv[optind];
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

static int serve(struct session *s, const char *mnt)
{
	sigset_t set;
	control_signals(&set);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		msg("signalfd: %s", strerror(errno));
		return 1;
	}
	bool unmounting = false, stopping = false;
	while (session_running(s)) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = s->done_fd, .events = POLLIN } };
		/* A worker busy with a request when told to stop misses the
		 * signal and blocks in read again: tell it again. */
		int n = poll(p, 2, stopping ? 100 : -1);
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
		struct signalfd_siginfo si;
		if (!(p[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1) {
			int err = stats_write(s);
			if (err)
				msg("writing stats to %s: %s", s->cfg.stats_path, strerror(-err));
			continue;
		}
		if (unmounting)
			continue;
		unmounting = true;
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
	session_join(s);
	close(sfd);
	return __atomic_load_n(&s->failed, __ATOMIC_ACQUIRE) ? 1 : 0;
}

/* The daemon works from /: keep the path the user meant. */
static const char *absolute(const char *what, const char *path, char buf[PATH_MAX])
{
	char cwd[PATH_MAX];
	if (!path || path[0] == '/')
		return path;
	if (!getcwd(cwd, sizeof(cwd)) || snprintf(buf, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
		fail(EXIT_USAGE, "%s path '%s' is too long", what, path);
	return buf;
}

int main(int argc, char **argv)
{
	static struct cli c;
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "--list-fields")) {
		fields_print(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	const char *source = NULL;
	if (!strcmp(base, "mount.fuse.ramfuse") || !strcmp(base, "mount.ramfuse"))
		parse_helper_args(&c, argc, argv, &source);
	else
		parse_args(&c, argc, argv);

	struct options o;
	opts_defaults(&o);
	char err[512];
	if (opts_parse(&o, c.opts, err, sizeof(err)) < 0)
		fail(EXIT_USAGE, "%s", err);
	if (source)
		o.fsname = source;
	if (opts_check(&o, err, sizeof(err)) < 0)
		fail(EXIT_USAGE, "%s", err);
	if (mount_check_point(c.mountpoint, err, sizeof(err)) < 0)
		fail(1, "%s", err);
	char mnt[PATH_MAX];
	if (!realpath(c.mountpoint, mnt))
		fail(1, "%s: %s", c.mountpoint, strerror(errno));
	static char stats_path[PATH_MAX], control_path[PATH_MAX];
	o.session.stats_path = absolute("stats", o.session.stats_path, stats_path);
	o.control_path = absolute("control", o.control_path, control_path);

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	int notify_fd = c.foreground ? -1 : daemonize();
	if (chdir("/") < 0)
		fail(1, "chdir /: %s", strerror(errno));

	int fd = dev_open();
	if (fd < 0)
		fail(1, "/dev/fuse: %s", strerror(-fd));
	struct session s = { .cfg = o.session, .fd = fd };
	struct memfs_config fc = {
		.max_bytes = o.size, .max_inodes = o.nr_inodes,
		.root_mode = o.mode, .root_uid = o.uid, .root_gid = o.gid,
		.check_perms = !o.default_permissions,
	};
	int res = memfs_new(&s.fs, &fc);
	if (res < 0)
		fail(1, "memory filesystem: %s", strerror(-res));
	if (o.control_path && !(s.ctl = control_open(o.control_path, err, sizeof(err))))
		fail(1, "%s", err);
	if (mount_fuse(&o, mnt, fd, err, sizeof(err)) < 0) {
		control_close(s.ctl);
		fail(1, "%s", err);
	}
	res = session_init(&s, fd);
	if (res < 0) {
		mount_remove(mnt);
		control_close(s.ctl);
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
	report_ready(&notify_fd);
	int status = serve(&s, mnt);
	control_close(s.ctl);
	s.ctl = NULL;
	struct statfs sf; /* statfs always asks the server: no cache answers it */
	if (statfs(mnt, &sf) < 0 && errno == ENOTCONN)
		msg("%s: the connection was aborted; the mount stays until unmounted", mnt);
	res = stats_write(&s);
	if (res < 0)
		msg("writing stats to %s: %s", s.cfg.stats_path, strerror(-res));
	session_free(&s);
	close(fd);
	fault_list_free(&s.faults);
	memfs_free(s.fs);
	return status;
}
