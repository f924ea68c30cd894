// SPDX-License-Identifier: MIT
/*
 * metabench DIR PROCS FILES: PROCS processes each create FILES empty files
 * in a directory of their own under DIR (open O_CREAT|O_EXCL, close), then
 * stat them all, then unlink them all; the phases start together.  Prints
 * one line: "create N stat N unlink N", operations per second over all
 * processes.  For scripts/bench; exits non-zero on any failed call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { CREATE, STAT, UNLINK, PHASES };
static const char *const names[PHASES] = { "create", "stat", "unlink" };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int phase(int ph, const char *dir, long files)
{
	char p[4200];
	struct stat st;

	for (long i = 0; i < files; i++) {
		snprintf(p, sizeof(p), "%s/f%ld", dir, i);
		if (ph == CREATE) {
			int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

			if (fd < 0 || close(fd))
				return -1;
		} else if (ph == STAT ? stat(p, &st) : unlink(p)) {
			return -1;
		}
	}
	return 0;
}

/* child: wait for "go", run the phase, say "done"; three times */
static void child(int go, int done, const char *dir, long files)
{
	char c;

	for (int ph = 0; ph < PHASES; ph++) {
		if (read(go, &c, 1) != 1)
			_exit(2);
		if (phase(ph, dir, files)) {
			fprintf(stderr, "metabench: %s in %s: %s\n", names[ph], dir, strerror(errno));
			_exit(1);
		}
		if (write(done, "d", 1) != 1)
			_exit(2);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int go[2], done[2], bad = 0;
	long procs, files;
	double rate[PHASES];
	char c, dir[4000];

	if (argc != 4 || strlen(argv[1]) > 3000 || (procs = atol(argv[2])) < 1 || procs > 256 ||
	    (files = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: metabench DIR PROCS FILES\n");
		return 2;
	}
	if (pipe(go) || pipe(done))
		return 1;
	for (long i = 0; i < procs; i++) {
		snprintf(dir, sizeof(dir), "%s/mb%ld", argv[1], i);
		if (mkdir(dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "metabench: mkdir %s: %s\n", dir, strerror(errno));
			return 1;
		}
		if (fork() == 0)
			child(go[0], done[1], dir, files);
	}
	for (int ph = 0; ph < PHASES; ph++) {
		double t0 = now();
		long n = 0;

		for (long i = 0; i < procs; i++)
			if (write(go[1], "g", 1) != 1)
				return 1;
		while (n < procs && read(done[0], &c, 1) == 1)
			n++;
		rate[ph] = procs * files / (now() - t0);
		if (n < procs)
			bad = 1;
	}
	while (wait(&go[0]) > 0)
		bad |= !WIFEXITED(go[0]) || WEXITSTATUS(go[0]);
	for (long i = 0; i < procs; i++) {
		snprintf(dir, sizeof(dir), "%s/mb%ld", argv[1], i);
		rmdir(dir);
	}
	if (bad)
		return 1;
	printf("create %.0f stat %.0f unlink %.0f\n", rate[CREATE], rate[STAT], rate[UNLINK]);
	return 0;
}
