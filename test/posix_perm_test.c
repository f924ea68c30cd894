// SPDX-License-Identifier: MIT
/*
 * posix_perm_test - ramfuse behaves like tmpfs with permissions: mode bits
 * of files and directories, root, sticky and set-group-id directories,
 * set-id bits dropped on change, and chmod/chown rules, tried as other users.
 *
 * Each test runs one scenario on a tmpfs and on a ramfuse side by side and
 * compares what a program sees (oracle.h), under default_permissions and
 * nodefault_permissions.
 */
#include "harness.h"
#include "fuse_util.h"
#include "oracle.h"

#include <dirent.h>
#include <fcntl.h>

/* ------------------------------------------------------------------ */
/* Permissions                                                         */

/* what one user may do with file "f" and directory "d" */
static void try_file(struct obs *o)
{
	int fd;

	fd = DO(open(P(o, "f"), O_RDONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	fd = DO(open(P(o, "f"), O_WRONLY | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	DO(access(P(o, "f"), R_OK));
	DO(access(P(o, "f"), W_OK));
	DO(access(P(o, "f"), X_OK));
	DO(access(P(o, "f"), R_OK | W_OK));
	DO(access(P(o, "f"), F_OK));
	DO(faccessat(AT_FDCWD, P(o, "f"), R_OK | X_OK, AT_EACCESS));
	DO(truncate(P(o, "f"), 1));
	DO(utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
}

SCENARIO(file_permission_bits)
{
	static const mode_t modes[] = { 0000, 0400, 0200, 0100, 0040, 0020, 0010,
					0004, 0002, 0001, 0640, 0604, 0066, 0707, 0777 };

	PUT(o, "f", "data", 4);
	WANT(0, chown(P(o, "f"), 1001, 2000));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		note(o, "mode %04o:", (unsigned)modes[i]);
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(ALICE) try_file(o);
		AS_USER(BOB) try_file(o);
		AS_USER(CAROL) try_file(o);
		AS_USER(DAVE) try_file(o);
		note(o, "as root:");
		try_file(o);
	}
}

static void try_dir(struct obs *o)
{
	struct stat st;
	int fd;
	DIR *d;

	DO(stat(P(o, "d/f"), &st));
	d = opendir(P(o, "d"));
	rec(o, "opendir d", d ? 0 : -1);
	if (d)
		closedir(d);
	fd = DO(open(P(o, "d/new"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
	if (fd >= 0)
		close(fd);
	DO(unlink(P(o, "d/new")));
	DO(mkdir(P(o, "d/sub"), 0755));
	DO(rmdir(P(o, "d/sub")));
	DO(rename(P(o, "d/f"), P(o, "d/f2")));
	DO(rename(P(o, "d/f2"), P(o, "d/f")));
	DO(symlink("x", P(o, "d/sl")));
	DO(unlink(P(o, "d/sl")));
	DO(link(P(o, "d/f"), P(o, "d/hl")));
	DO(unlink(P(o, "d/hl")));
	DO(chdir(P(o, "d")));
	DO(access(P(o, "d"), X_OK));
	DO(access(P(o, "d"), W_OK));
}

SCENARIO(dir_permission_bits)
{
	static const mode_t modes[] = { 0000, 0700, 0500, 0300, 0100, 0070, 0050,
					0030, 0007, 0005, 0003, 0001, 0777 };

	WANT(0, mkdir(P(o, "d"), 0755));
	PUT(o, "d/f", "data", 4);
	WANT(0, chmod(P(o, "d/f"), 0666));
	WANT(0, chown(P(o, "d"), 1001, 2000));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		note(o, "mode %04o:", (unsigned)modes[i]);
		WANT(0, chmod(P(o, "d"), modes[i]));
		AS_USER(ALICE) try_dir(o);
		AS_USER(BOB) try_dir(o);
		AS_USER(CAROL) try_dir(o);
		AS_USER(DAVE) try_dir(o);
		note(o, "as root:");
		try_dir(o);
		WANT(0, chdir("/"));
	}
	LS(o, "d");
}

SCENARIO(root_overrides)
{
	int fd;

	PUT(o, "f", "data", 4);
	WANT(0, chown(P(o, "f"), 1001, 1001));
	WANT(0, chmod(P(o, "f"), 0));
	fd = WANT(3, open(P(o, "f"), O_RDWR | O_CLOEXEC));
	if (fd >= 0)
		close(fd);
	WANT(0, access(P(o, "f"), R_OK | W_OK));
	WANT(-EACCES, access(P(o, "f"), X_OK));
	WANT(0, chmod(P(o, "f"), 0010));
	WANT(0, access(P(o, "f"), X_OK));
	WANT(0, mkdir(P(o, "d"), 0));
	WANT(0, chown(P(o, "d"), 1001, 1001));
	WANT(0, access(P(o, "d"), R_OK | W_OK | X_OK));
	PUT(o, "d/x", "x", 1);
	LS(o, "d");
	WANT(0, chmod(P(o, "d"), 01000));
	WANT(0, unlink(P(o, "d/x")));
	WANT(0, chown(P(o, "f"), 1002, 1003));
	WANT(0, utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
	ST(o, "f");
	ST(o, "d");
}

/* sticky directories: only the owner of the entry or the directory, or root,
 * may remove or rename it */
SCENARIO(sticky_dirs)
{
	WANT(0, mkdir(P(o, "t"), 0777));
	WANT(0, chmod(P(o, "t"), 01777));
	AS_USER(ALICE) {
		PUT(o, "t/alice", "a", 1);
		PUT(o, "t/alice2", "a", 1);
		WANT(0, mkdir(P(o, "t/alicedir"), 0777));
	}
	AS_USER(BOB) {
		PUT(o, "t/bob", "b", 1);
		WANT(0, chmod(P(o, "t/bob"), 0666));
		WANT(-EPERM, unlink(P(o, "t/alice")));
		WANT(-EPERM, rmdir(P(o, "t/alicedir")));
		WANT(-EPERM, rename(P(o, "t/alice"), P(o, "t/mine")));
		WANT(-EPERM, rename(P(o, "t/bob"), P(o, "t/alice")));	/* over hers */
		WANT(0, rename(P(o, "t/bob"), P(o, "t/bob2")));
		WANT(0, rename(P(o, "t/bob2"), P(o, "t/bob")));
	}
	AS_USER(ALICE) {
		WANT(-EPERM, unlink(P(o, "t/bob")));
		WANT(0, unlink(P(o, "t/alice2")));
		/* rename over an entry that is not hers, though she may write it */
		WANT(-EPERM, rename(P(o, "t/alice"), P(o, "t/bob")));
	}
	/* the directory's owner may */
	WANT(0, chown(P(o, "t"), 1003, 1003));
	AS_USER(CAROL) {
		WANT(0, rename(P(o, "t/alice"), P(o, "t/was_alice")));
		WANT(0, unlink(P(o, "t/bob")));
	}
	WANT(0, rmdir(P(o, "t/alicedir")));	/* and root */
	/* sticky but not writable: nobody but root removes anything */
	WANT(0, chmod(P(o, "t"), 01755));
	AS_USER(ALICE) WANT(-EACCES, unlink(P(o, "t/was_alice")));
	LS(o, "t");
	ST(o, "t");
}

/* set-group-id directories hand down their group, and the bit to subdirs */
SCENARIO(setgid_dirs)
{
	WANT(0, mkdir(P(o, "g"), 0777));
	WANT(0, chown(P(o, "g"), 0, 3000));
	WANT(0, chmod(P(o, "g"), 02777));
	ST(o, "g");
	AS_USER(ALICE) {
		int fd = open(P(o, "g/file"), O_WRONLY | O_CREAT | O_CLOEXEC, 02755);

		rec(o, "create g/file 02755", fd >= 0 ? 0 : -1);
		if (fd >= 0)
			close(fd);
		WANT(0, mkdir(P(o, "g/sub"), 0755));
		WANT(0, mkdir(P(o, "g/sub/deeper"), 0700));
		WANT(0, mknod(P(o, "g/fifo"), S_IFIFO | 02644, 0));
		WANT(0, symlink("x", P(o, "g/sym")));
		WANT(0, mkdir(P(o, "own"), 0777));
		WANT(0, chmod(P(o, "own"), 02777));	/* not in group 1001? she is */
		WANT(-EPERM, chown(P(o, "own"), -1, 2000));	/* not in 2000 */
	}
	ST(o, "g/file");
	ST(o, "g/sub");
	ST(o, "g/sub/deeper");
	ST(o, "g/fifo");
	ST(o, "g/sym");
	ST(o, "own");
	AS_USER(BOB) {
		/* in 2000 but not 3000: a new file in g keeps 3000, its own
		 * setgid bit is dropped */
		int fd = open(P(o, "g/bobs"), O_WRONLY | O_CREAT | O_CLOEXEC, 02775);

		if (fd >= 0)
			close(fd);
		WANT(0, mkdir(P(o, "g/bobdir"), 02775));
	}
	ST(o, "g/bobs");
	ST(o, "g/bobdir");
	/* root creating: the same inheritance */
	PUT(o, "g/rootfile", "r", 1);
	WANT(0, mkdir(P(o, "g/rootdir"), 0700));
	ST(o, "g/rootfile");
	ST(o, "g/rootdir");
	/* rename into a setgid dir keeps the old group */
	PUT(o, "outside", "o", 1);
	WANT(0, rename(P(o, "outside"), P(o, "g/moved")));
	ST(o, "g/moved");
}

/* writes, truncation and chown by non-root drop set-user-id and
 * set-group-id (the latter only with group execute) */
SCENARIO(setid_clearing)
{
	static const mode_t modes[] = { 06777, 02777, 04777, 02767 };
	int fd;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		note(o, "mode %04o:", (unsigned)modes[i]);
		PUT(o, "f", "data", 4);
		WANT(0, chown(P(o, "f"), 1001, 2000));
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(BOB) {
			fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
			WANT(1, write(fd, "x", 1));
			close(fd);
		}
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(BOB) WANT(0, truncate(P(o, "f"), 100));
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(DAVE) {
			fd = open(P(o, "f"), O_WRONLY | O_TRUNC | O_CLOEXEC);
			rec(o, "open O_TRUNC", fd >= 0 ? 0 : -1);
			close(fd);
		}
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		/* root keeps the bits on write (CAP_FSETID) */
		fd = open(P(o, "f"), O_WRONLY | O_CLOEXEC);
		WANT(1, write(fd, "y", 1));
		close(fd);
		ST(o, "f");
		/* the owner changing the group (to one of hers) */
		WANT(0, chmod(P(o, "f"), modes[i]));
		AS_USER(ALICE) WANT(0, chown(P(o, "f"), -1, 1001));
		ST(o, "f");
		/* root changing the owner */
		WANT(0, chmod(P(o, "f"), modes[i]));
		WANT(0, chown(P(o, "f"), 1002, -1));
		ST(o, "f");
		WANT(0, chmod(P(o, "f"), modes[i]));
		WANT(0, chown(P(o, "f"), -1, -1));
		ST(o, "f");
		WANT(0, unlink(P(o, "f")));
	}
	/* directories keep their bits on chown */
	WANT(0, mkdir(P(o, "d"), 0777));
	WANT(0, chmod(P(o, "d"), 06777));
	WANT(0, chown(P(o, "d"), 1001, 1001));
	ST(o, "d");
}

/* chmod and chown: who may, and what happens to set-group-id */
SCENARIO(chmod_chown_rules)
{
	PUT(o, "f", "data", 4);
	WANT(0, chown(P(o, "f"), 1001, 1001));
	WANT(0, chmod(P(o, "f"), 0666));
	AS_USER(BOB) {
		WANT(-EPERM, chmod(P(o, "f"), 0777));
		WANT(-EPERM, chown(P(o, "f"), 1002, -1));
		WANT(-EPERM, chown(P(o, "f"), -1, 2000));
		WANT(-EPERM, utimensat(AT_FDCWD, P(o, "f"),
				       (struct timespec[2]){ { 1, 0 }, { 2, 0 } }, 0));
		WANT(0, utimensat(AT_FDCWD, P(o, "f"), NULL, 0));
		WANT(0, utimensat(AT_FDCWD, P(o, "f"),
				  (struct timespec[2]){ { 0, UTIME_NOW }, { 0, UTIME_NOW } }, 0));
		WANT(-EPERM, utimensat(AT_FDCWD, P(o, "f"),
				       (struct timespec[2]){ { 0, UTIME_NOW }, { 0, UTIME_OMIT } }, 0));
	}
	AS_USER(ALICE) {
		WANT(0, chmod(P(o, "f"), 02755));	/* her own group: kept */
		ST(o, "f");
		WANT(-EPERM, chown(P(o, "f"), 1002, -1));	/* give away: no */
		WANT(0, chown(P(o, "f"), 1001, -1));		/* to herself: yes */
		WANT(-EPERM, chown(P(o, "f"), -1, 2000));	/* not her group */
		WANT(0, utimensat(AT_FDCWD, P(o, "f"),
				  (struct timespec[2]){ { 1, 5 }, { 2, 6 } }, 0));
	}
	WANT(0, chown(P(o, "f"), 1001, 2000));
	ST(o, "f");
	AS_USER(ALICE) {
		/* the file is in a group she is not in: g+s is dropped */
		WANT(0, chmod(P(o, "f"), 02755));
		ST(o, "f");
	}
	AS_USER(CAROL) {
		WANT(-EPERM, chmod(P(o, "f"), 0644));
	}
	WANT(0, chown(P(o, "f"), 1003, 1003));
	AS_USER(CAROL) {
		/* supplementary group 2000 is hers */
		WANT(0, chown(P(o, "f"), -1, 2000));
		WANT(0, chmod(P(o, "f"), 02750));
	}
	ST(o, "f");
}

TEST_HARNESS_MAIN
