/*
 * vm/selftest-standin.c: stand-in guest programs for vm/selftest, one
 * static multi-call binary that acts by the name it is run under:
 *
 *   run-tests [-t FILTER] DIR  run the DIR entries named *_test in order (TAP 13 output),
 *                              end with "N passed, N failed, N skipped";
 *                              exit as run-tests: 1 a test failed, 2 FILTER
 *                              matches nothing, 4 nothing passed, else 0
 *   fuse_test                  open /dev/fuse, mount a FUSE fs on /tmp and
 *                              read the kernel's INIT request; run $RAMFUSE
 *   pass_test, fail_test       exit 0, exit 1
 *   skip_test                  exit 4 (kselftest skip)
 *   env_test                   exit 0 iff STANDIN_ENV=ok (ramfuse.env.*)
 *   hang_test                  print a line, then sleep forever
 *   warn_test                  log its start, a fake kernel WARNING and its
 *                              end to /dev/kmsg as the harness and the
 *                              kernel would; exit 0
 *   hungtask_test              log its start, then a fake hung-task report
 *                              to /dev/kmsg twice a second, forever (a
 *                              test stuck in the kernel; nothing else
 *                              comes from the guest)
 *   crash_test                 crash the kernel (sysrq c): it panics
 *   ramfuse                    print a line, exit 0
 *   anything else (as /init)   print a line and exit: the kernel panics
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int runner(int argc, char **argv)
{
	const char *filter = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			return 2;
		filter = optarg;
	}
	const char *dir = optind < argc ? argv[optind] : ".";
	DIR *d = opendir(dir);
	if (!d) {
		printf("run-tests: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	char *names[64];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, "_test") &&
		    (!filter || strstr(e->d_name, filter)))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	printf("TAP version 13\n1..%zu\n", n);
	fflush(stdout);
	int pass = 0, fail = 0, skip = 0;
	for (size_t i = 0; i < n; i++) {
		char path[512];
		int pfd[2];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		printf("# selftests: ramfuse: %s\n", names[i]);
		fflush(stdout);
		if (pipe(pfd) != 0)
			return 2;
		pid_t pid = fork();
		if (pid == 0) {
			dup2(pfd[1], 1);
			dup2(pfd[1], 2);
			execl(path, names[i], (char *)NULL);
			_exit(127);
		}
		close(pfd[1]);
		/* its output nested under "# ", as run-tests does */
		FILE *in = fdopen(pfd[0], "r");
		char line[512];
		while (in && fgets(line, sizeof(line), in))
			printf("# %s", line);
		if (in)
			fclose(in);
		int st = 0;
		waitpid(pid, &st, 0);
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (code == 0) {
			pass++;
			printf("ok %zu %s\n", i + 1, names[i]);
		} else if (code == 4) {
			skip++;
			printf("ok %zu %s # SKIP\n", i + 1, names[i]);
		} else {
			fail++;
			printf("not ok %zu %s # exit=%d\n", i + 1, names[i], code);
		}
		fflush(stdout);
	}
	if (filter && !n)
		printf("# run-tests: -t %s: no test matches it\n", filter);
	else if (!fail && !pass)
		printf("# run-tests: SKIP: nothing was tested\n");
	printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail ? 1 : filter && !n ? 2 : !pass ? 4 : 0;
}

static int fuse_test(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("# open /dev/fuse: %s\n", strerror(errno));
		return 1;
	}
	mkdir("/tmp/standin-mnt", 0755);
	char opts[128];
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("standin", "/tmp/standin-mnt", "fuse", 0, opts) != 0) {
		printf("# mount fuse: %s\n", strerror(errno));
		return 1;
	}
	static char buf[1 << 17];	/* the kernel wants >= 8 KiB + 4 KiB */
	ssize_t r = read(fd, buf, sizeof(buf));
	if (r < 40) {
		printf("# read /dev/fuse: %zd (%s)\n", r, strerror(errno));
		return 1;
	}
	unsigned opcode, major, minor;
	memcpy(&opcode, buf + 4, 4);
	memcpy(&major, buf + 40, 4);
	memcpy(&minor, buf + 44, 4);
	printf("# FUSE request opcode %u (INIT is 26), protocol %u.%u\n",
	       opcode, major, minor);
	umount2("/tmp/standin-mnt", MNT_DETACH);
	close(fd);
	const char *rf = getenv("RAMFUSE");
	if (!rf || access(rf, X_OK) != 0) {
		printf("# RAMFUSE=%s is not executable\n", rf ? rf : "(unset)");
		return 1;
	}
	return opcode == 26 ? 0 : 1;
}

/* one line in the kernel log (it shows on the console) */
static void kmsg(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, line, strlen(line)) < 0)
		printf("# /dev/kmsg: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	name = name ? name + 1 : argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(name, "run-tests"))
		return runner(argc, argv);
	if (!strcmp(name, "fuse_test"))
		return fuse_test();
	if (!strcmp(name, "pass_test"))
		return 0;
	if (!strcmp(name, "fail_test")) {
		printf("# failing on purpose\n");
		return 1;
	}
	if (!strcmp(name, "skip_test"))
		return 4;
	if (!strcmp(name, "env_test")) {
		const char *v = getenv("STANDIN_ENV");
		printf("# STANDIN_ENV=%s\n", v ? v : "(unset)");
		return v && !strcmp(v, "ok") ? 0 : 1;
	}
	if (!strcmp(name, "hang_test")) {
		printf("# hanging on purpose\n");
		for (;;)
			pause();
	}
	if (!strcmp(name, "warn_test")) {
		kmsg("<5>ramfuse-test: start warn_test: warn.one\n");
		kmsg("<4>WARNING: CPU: 0 PID: 1 at fs/fuse/dev.c:1 stand_in_warning\n");
		kmsg("<5>ramfuse-test: pass warn_test: warn.one\n");
		return 0;
	}
	if (!strcmp(name, "hungtask_test")) {
		kmsg("<5>ramfuse-test: start hungtask_test: hung.one\n");
		printf("# stuck from now on, as far as the guest's output goes\n");
		for (;;) {
			kmsg("<3>INFO: task hungtask_test:42 blocked for more than 1 seconds.\n");
			usleep(500000);
		}
	}
	if (!strcmp(name, "crash_test")) {
		printf("# crashing the kernel on purpose\n");
		int fd = open("/proc/sysrq-trigger", O_WRONLY);
		if (fd < 0 || write(fd, "c", 1) != 1)
			printf("# sysrq-trigger: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(name, "ramfuse")) {
		printf("ramfuse stand-in\n");
		return 0;
	}
	printf("stand-in init: exiting on purpose\n");
	return 0;
}
