// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the populate= readers (src/cpio.c, src/tar.c,
 * src/populate.c) on arbitrary bytes, into a small memory filesystem.
 * Any input either fills it or fails with a message; then memfs_check()
 * must hold (the inode counter equals the inodes kept).  Seeds: a cpio
 * cpio and tar archives of src/ (make fuzz-archive writes them).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfs.h"
#include "populate.h"

/* populate forgets every lookup it makes: the kernel holds nothing yet */
static void nothing_held(void *ctx, uint64_t ino, uint64_t *nlookup, uint32_t *nopen)
{
	(void)ctx;
	(void)ino;
	*nlookup = 0;
	*nopen = 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	int fd = memfd_create("archive", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64], err[1024], why[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct memfs *fs;
	struct memfs_config cfg = { .max_bytes = 1 << 20, .max_inodes = 256, .root_mode = 0755 };
	if (memfs_new(&fs, &cfg) < 0)
		abort();
	int r = populate(fs, path, err, sizeof(err));
	if (r < 0 && strncmp(err, "populate=", 9)) {
		fprintf(stderr, "an error without a message: %d\n", r);
		abort();
	}
	if (memfs_check(fs, nothing_held, NULL, why, sizeof(why))) {
		fprintf(stderr, "memfs_check: %s\n", why);
		abort();
	}
	memfs_free(fs);
	close(fd);
	return 0;
}
