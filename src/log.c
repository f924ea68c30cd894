/* Messages: on stderr until the daemon serves, then to the log target
 * (log=kmsg|syslog|FILE; none when detached without one). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"

enum { TARGET_NONE, TARGET_KMSG, TARGET_SYSLOG, TARGET_FILE };

static bool debug_on;
static bool to_stderr = true;
static int target, target_fd = -1;
static int dev_dir = -1; /* /dev as it was at start: switch_root moves it */

void log_set_debug(bool on) { debug_on = on; }
bool log_debug_on(void) { return debug_on; }

int log_open(const char *spec, char *err, size_t errlen)
{
	const char *what = spec;
	if (!strcmp(spec, "kmsg")) {
		target = TARGET_KMSG;
		what = "/dev/kmsg";
		target_fd = open(what, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	} else if (!strcmp(spec, "syslog")) {
		/* /dev/log may appear later (syslogd starts after us): connect
		 * at each message, through the /dev we saw at start */
		target = TARGET_SYSLOG;
		what = "/dev";
		target_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		dev_dir = open(what, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dev_dir < 0)
			target_fd = -1;
	} else {
		target = TARGET_FILE;
		target_fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	}
	if (target_fd >= 0)
		return 0;
	int e = errno;
	sfmt(err, errlen, "log=%s: %s: %s", spec, what, strerror(e));
	target = TARGET_NONE;
	return -e;
}

void log_detach(void)
{
	if (target != TARGET_NONE)
		to_stderr = false;
}

/* A socket's name is a path: "log" in the /dev opened at start, reached as
 * the working directory for a moment (nothing else in the daemon uses
 * relative paths), so that it works after switch_root without /proc. */
static void connect_syslog(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "log" };
	pthread_mutex_lock(&lock);
	if (fchdir(dev_dir) == 0) {
		int r = connect(target_fd, (const struct sockaddr *)&a, sizeof(a));
		r = chdir("/");
		(void)r;
	}
	pthread_mutex_unlock(&lock);
}

static void send_syslog(const char *line, size_t len)
{
	/* not connected yet, or syslogd restarted: connect again, once */
	if (send(target_fd, line, len, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
		connect_syslog();
		ssize_t r = send(target_fd, line, len, MSG_NOSIGNAL);
		(void)r;
	}
}

/* One write per line so lines from worker threads never interleave.  The
 * line is built after room for the longest header, "<NNN>ramfuse[PID]: ". */
static void vline(int level, const char *fmt, va_list ap)
{
	char buf[1024 + 32], *line = buf + 32;
	int n = sfmt(line, 1024, "ramfuse: ");
	int m = vsfmt(line + n, 1024 - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > 1024 - 2)
		n = 1024 - 2;
	line[n++] = '\n';
	ssize_t r = 0;
	if (to_stderr)
		r = write(STDERR_FILENO, line, n);
	char head[32];
	int h;
	switch (target) {
	case TARGET_KMSG:
		/* /dev/kmsg takes one record per write: "<level>text" */
		h = sfmt(head, sizeof(head), "<%d>", level);
		memcpy(line - h, head, h);
		r = write(target_fd, line - h, n + h);
		break;
	case TARGET_SYSLOG:
		/* facility daemon (3); syslogd adds the time */
		h = sfmt(head, sizeof(head), "<%d>ramfuse[%d]:", 3 << 3 | level, (int)getpid());
		memcpy(line + 8 - h, head, h);
		send_syslog(line + 8 - h, n - 8 + h - 1);
		break;
	case TARGET_FILE:
		r = write(target_fd, line, n);
		break;
	}
	(void)r;
}

void msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void debug(const char *fmt, ...)
{
	if (!debug_on)
		return;
	va_list ap;
	va_start(ap, fmt);
	vline(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}
