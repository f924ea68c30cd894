// SPDX-License-Identifier: MIT
/*
 * metabench [-w SECONDS] [-s BYTES] [-k] [-1] DIR PROCS FILES
 *
 * PROCS processes each create FILES files in a directory of their own
 * under DIR (-1: one process, in DIR itself): open O_CREAT|O_EXCL, BYTES
 * written (default none), close; then stat them all by name, then unlink
 * them all.  The phases start together in every process; a phase's rate
 * is PROCS * FILES over the time from its start until the last process
 * ends it.  -w waits SECONDS before the stats, so that the kernel's
 * cached entries of a FUSE mount have run out and every stat asks the
 * server.  -k keeps the files: create only.  Prints one line,
 * "create N stat N unlink N" (operations per second), then with -k
 * "create N seconds S".  For scripts/bench; exits non-zero on any failed
 * call.
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

static int phase(int ph, const char *dir, long files, const char *data, size_t bytes)
{
	char p[4200];
	struct stat st;

	for (long i = 0; i < files; i++) {
		snprintf(p, sizeof(p), "%s/f%ld", dir, i);
		if (ph == CREATE) {
			int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

			if (fd < 0 || (bytes && write(fd, data, bytes) != (ssize_t)bytes) || close(fd))
				return -1;
		} else if (ph == STAT ? stat(p, &st) : unlink(p)) {
			return -1;
		}
	}
	return 0;
}

/* child: wait for "go", run the phase, say "done"; once per phase */
static void child(int go, int done, const char *dir, long files, int phases,
		  const char *data, size_t bytes)
{
	char c;

	for (int ph = 0; ph < phases; ph++) {
		if (read(go, &c, 1) != 1)
			_exit(2);
		if (phase(ph, dir, files, data, bytes)) {
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
	int go[2], done[2], bad = 0, keep = 0, one_dir = 0, opt;
	long procs, files;
	double rate[PHASES], took = 0, wait_s = 0;
	size_t bytes = 0;
	char c, dir[4000], *data = NULL;

	while ((opt = getopt(argc, argv, "w:s:k1")) != -1) {
		switch (opt) {
		case 'w': wait_s = atof(optarg); break;
		case 's': bytes = strtoul(optarg, NULL, 10); break;
		case 'k': keep = 1; break;
		case '1': one_dir = 1; break;
		default: goto usage;
		}
	}
	if (argc - optind != 3 || strlen(argv[optind]) > 3000 ||
	    (procs = atol(argv[optind + 1])) < 1 || procs > 256 ||
	    (files = atol(argv[optind + 2])) < 1 || (one_dir && procs > 1) || wait_s < 0) {
usage:
		fprintf(stderr, "usage: metabench [-w SECONDS] [-s BYTES] [-k] [-1] DIR PROCS FILES\n");
		return 2;
	}
	const char *top = argv[optind];
	int phases = keep ? 1 : PHASES;
	if (bytes && !(data = malloc(bytes)))
		return 1;
	if (data)
		memset(data, 'x', bytes);
	if (pipe(go) || pipe(done))
		return 1;
	for (long i = 0; i < procs; i++) {
		snprintf(dir, sizeof(dir), one_dir ? "%s" : "%s/mb%ld", top, i);
		if (!one_dir && mkdir(dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "metabench: mkdir %s: %s\n", dir, strerror(errno));
			return 1;
		}
		if (fork() == 0)
			child(go[0], done[1], dir, files, phases, data, bytes);
	}
	/* a child that dies must end the parent's read with EOF */
	close(go[0]);
	close(done[1]);
	for (int ph = 0; ph < phases; ph++) {
		if (ph == STAT && wait_s > 0) {
			struct timespec ts = { (time_t)wait_s, (long)((wait_s - (time_t)wait_s) * 1e9) };
			nanosleep(&ts, NULL);
		}
		double t0 = now();
		long n = 0;

		for (long i = 0; i < procs; i++)
			if (write(go[1], "g", 1) != 1)
				return 1;
		while (n < procs && read(done[0], &c, 1) == 1)
			n++;
		rate[ph] = procs * files / (now() - t0);
		if (ph == CREATE)
			took = now() - t0;
		if (n < procs)
			bad = 1;
	}
	while (wait(&go[0]) > 0)
		bad |= !WIFEXITED(go[0]) || WEXITSTATUS(go[0]);
	for (long i = 0; i < procs && !keep && !one_dir; i++) {
		snprintf(dir, sizeof(dir), "%s/mb%ld", top, i);
		rmdir(dir);
	}
	if (bad)
		return 1;
	if (keep)
		printf("create %.0f seconds %.3f\n", rate[CREATE], took);
	else
		printf("create %.0f stat %.0f unlink %.0f\n", rate[CREATE], rate[STAT], rate[UNLINK]);
	return 0;
}
