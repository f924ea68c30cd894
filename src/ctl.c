/* ramfuse ctl: the control socket's client.  It never opens anything
 * inside the mount: the daemon resolves paths in its own memory, and the
 * socket is found from the mountpoint's st_dev without a request. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "fmt.h"

#define EXIT_USAGE 2
#define ANSWER_MS 10000

static int usage(void)
{
	fdfmt(STDERR_FILENO,
		"usage: ramfuse ctl MOUNTPOINT|SOCKET COMMAND [ARG]...\n"
		"  commands: stats, help, fault add SPEC, fault del ID, fault list,\n"
		"  fault clear, notify inval_inode PATH [OFF LEN], notify inval_entry DIR NAME,\n"
		"  notify delete DIR NAME, notify store PATH OFF DATA|@FILE,\n"
		"  notify retrieve PATH OFF LEN, notify resend, notify poll [KH], ...\n"
		"  PATH is inside the mount, from its root (/dir/file), or a nodeid\n");
	return EXIT_USAGE;
}

/* Appends word to the line with %XX for what would break it. */
static int put_word(char *line, size_t *len, const char *w, size_t wlen)
{
	if (*len + 1 + 3 * wlen + 2 > CONTROL_LINE_MAX)
		return -1;
	if (*len)
		line[(*len)++] = ' ';
	for (size_t i = 0; i < wlen; i++) {
		unsigned char ch = (unsigned char)w[i];
		if (ch <= ' ' || ch >= 0x7f || ch == '%') {
			line[(*len)++] = '%';
			line[(*len)++] = "0123456789abcdef"[ch >> 4];
			line[(*len)++] = "0123456789abcdef"[ch & 15];
		} else {
			line[(*len)++] = (char)ch;
		}
	}
	return 0;
}

/* @FILE: the file's bytes, at most CONTROL_DATA_MAX. */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = malloc(CONTROL_DATA_MAX + 1);
	ssize_t n = 0;
	*len = 0;
	if (fd < 0 || !buf) {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	while ((n = read(fd, buf + *len, CONTROL_DATA_MAX + 1 - *len)) > 0)
		*len += (size_t)n;
	if (n < 0 || *len > CONTROL_DATA_MAX) {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s: %s\n", path,
			n < 0 ? strerror(errno) : "longer than 65536 bytes");
		goto fail;
	}
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int find_socket(const char *target, struct sockaddr_un *sa)
{
	char rec[64];
	int is_socket, err = control_record_path(target, rec, sizeof(rec), &is_socket);
	if (err) {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s: %s\n", target, strerror(-err));
		return -1;
	}
	const char *path = target;
	if (!is_socket) {
		/* Only a record we or root made: someone else's could lead to a
		 * socket of theirs, which would then read our commands. */
		struct stat st;
		if (lstat(rec, &st) < 0 || !S_ISLNK(st.st_mode) ||
		    (st.st_uid != 0 && st.st_uid != geteuid())) {
			fdfmt(STDERR_FILENO, "ramfuse ctl: %s: no control socket recorded in %s "
				"(mounted with -o control=PATH? else give the socket's path)\n",
				target, rec);
			return -1;
		}
		path = rec;
	}
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s: path too long for a socket\n", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends the line, reads the answer to the end: its length, or -1. */
static ssize_t exchange(const struct sockaddr_un *sa, const char *line, size_t len,
			char **answer)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s: %s\n", sa->sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t size = 4096, have = 0;
	char *buf = malloc(size);
	for (size_t off = 0; buf && off < len;) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			break; /* the daemon may have answered already: read it */
		off += n > 0 ? (size_t)n : 0;
	}
	shutdown(fd, SHUT_WR);
	long long end = now_ms() + ANSWER_MS;
	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			fdfmt(STDERR_FILENO, "ramfuse ctl: %s: no answer in %d s\n", sa->sun_path,
				ANSWER_MS / 1000);
			free(buf);
			buf = NULL;
			break;
		}
		if (have + 1 == size) {
			char *bigger = realloc(buf, size * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			size *= 2;
		}
		ssize_t n = recv(fd, buf + have, size - 1 - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (!buf)
		return -1;
	buf[have] = 0;
	*answer = buf;
	return (ssize_t)have;
}

int ctl_main(int argc, char **argv)
{
	if (argc < 3 || argv[1][0] == '-')
		return usage();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (find_socket(argv[1], &sa) < 0)
		return 1;
	char *line = malloc(CONTROL_LINE_MAX);
	size_t len = 0;
	if (!line)
		return 1;
	for (int i = 2; i < argc; i++) {
		const char *w = argv[i];
		size_t wlen = strlen(w);
		char *data = NULL;
		/* notify store PATH OFF @FILE */
		if (i == 6 && w[0] == '@' && !strcmp(argv[2], "notify") && !strcmp(argv[3], "store")) {
			if (!(data = read_file(w + 1, &wlen))) {
				free(line);
				return 1;
			}
			w = data;
		}
		int res = put_word(line, &len, w, wlen);
		free(data);
		if (res < 0) {
			fdfmt(STDERR_FILENO, "ramfuse ctl: command line longer than %d bytes\n",
				CONTROL_LINE_MAX);
			free(line);
			return EXIT_USAGE;
		}
	}
	line[len++] = '\n';
	char *answer;
	ssize_t n = exchange(&sa, line, len, &answer);
	free(line);
	if (n < 0)
		return 1;
	int status = 1;
	if (n == 0) {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s: closed without an answer\n", sa.sun_path);
	} else if (!strncmp(answer, "ok\n", 3)) {
		struct out o = OUT_FD(STDOUT_FILENO);
		out_write(&o, answer + 3, (size_t)n - 3);
		status = out_close(&o) ? 1 : 0;
	} else {
		fdfmt(STDERR_FILENO, "ramfuse ctl: %s%s", answer, answer[n - 1] == '\n' ? "" : "\n");
		if (!strncmp(answer, "error: usage:", 13))
			status = EXIT_USAGE;
	}
	free(answer);
	return status;
}
