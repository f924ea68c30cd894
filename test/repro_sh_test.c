// SPDX-License-Identifier: MIT
/*
 * repro_sh_test - runs the shell reproducers the scripts test/repro/NAME.sh (written with
 * `ramfuse ctl` only) with /bin/sh, RAMFUSE set to the binary under test.
 * A script exits 0 when the kernel behaves as it says, 1 when not, 77 when
 * it cannot run.  Skipped without /bin/sh (the test VM has none) or
 * without the source tree next to the build.
 */
#include "harness.h"
#include "fuse_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

/* a fixture only for the timeout: the kernel's harness has no TEST_TIMEOUT */
FIXTURE(sh) {
	int unused;
};

FIXTURE_SETUP(sh)
{
}

FIXTURE_TEARDOWN(sh)
{
}

TEST_F_TIMEOUT(sh, shell_reproducers, 120)
{
	static char out[8192];
	char dir[512], script[1024], why[256];
	struct dirent *e;
	int ran = 0;
	ssize_t n;
	DIR *d;

	if (rf_can_mount(why, sizeof(why)))
		SKIP(return, "%s", why);
	if (access("/bin/sh", X_OK))
		SKIP(return, "no /bin/sh to run the test/repro scripts with");
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 32);
	ASSERT_LT(0, n);
	dir[n] = 0;
	*strrchr(dir, '/') = 0;
	strcat(dir, "/../../test/repro");
	d = opendir(dir);
	if (!d)
		SKIP(return, "no %s next to the build", dir);
	setenv("RAMFUSE", ramfuse_path(), 1);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		const char *argv[] = { "sh", script, NULL };
		int rc;

		if (len < 4 || strcmp(e->d_name + len - 3, ".sh"))
			continue;
		snprintf(script, sizeof(script), "%s/%s", dir, e->d_name);
		rc = rf_run("/bin/sh", argv, 60000, out, sizeof(out));
		TH_LOG("%s: exit %d: %s", e->d_name, rc, out);
		if (rc != 77) {
			EXPECT_EQ(0, rc);
		}
		ran += rc != 77;
	}
	closedir(d);
	ASSERT_LT(0, ran) TH_LOG("no reproducer could run");
}

TEST_HARNESS_MAIN
