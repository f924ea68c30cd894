#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "mount.h"

int mount_check_point(const char *mnt, char *err, size_t errlen)
{
	struct stat st;
	if (stat(mnt, &st) < 0) {
		int e = errno;
		sfmt(err, errlen, "%s: %s", mnt,
			 e == ENOENT ? "mountpoint does not exist" : strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		sfmt(err, errlen, "%s: mountpoint is not a directory", mnt);
		return -ENOTDIR;
	}
	return 0;
}

int mount_fuse(const struct options *o, const char *mnt, int fd, char *err, size_t errlen)
{
	char type[256], data[512];
	int n = sfmt(type, sizeof(type), "fuse%s%s", *o->subtype ? "." : "", o->subtype);
	if (n < 0 || (size_t)n >= sizeof(type)) {
		sfmt(err, errlen, "subtype '%s' is too long", o->subtype);
		return -EINVAL;
	}
	n = sfmt(data, sizeof(data), "fd=%d,rootmode=%o,user_id=%u,group_id=%u%s%s",
		     fd, S_IFDIR | o->mode, (unsigned)getuid(), (unsigned)getgid(),
		     o->default_permissions ? ",default_permissions" : "",
		     o->allow_other ? ",allow_other" : "");
	if (o->max_read && n > 0 && (size_t)n < sizeof(data))
		n += sfmt(data + n, sizeof(data) - n, ",max_read=%u", o->max_read);
	if (n < 0 || (size_t)n >= sizeof(data)) {
		sfmt(err, errlen, "mount options too long");
		return -EINVAL;
	}
	if (mount(o->fsname, mnt, type, o->mount_flags, data) == 0)
		return 0;
	int e = errno;
	const char *why = strerror(e);
	if (e == EPERM)
		why = "permission denied (mounting needs root or CAP_SYS_ADMIN)";
	else if (e == ENODEV)
		why = "the kernel has no FUSE filesystem (is the fuse module loaded?)";
	sfmt(err, errlen, "mount %s on %s: %s", type, mnt, why);
	return -e;
}

/* Runs fusermount3 with args; with commfd, as _FUSE_COMMFD.  Its exit
 * status, or -errno. */
static int fusermount(const char *const args[], int commfd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const char *argv[8] = { "fusermount3" };
		for (int i = 0; args[i] && i < 6; i++)
			argv[i + 1] = args[i];
		/* where fuse3 installs it: a set-uid program on a fixed path */
		char env[32];
		char *envp[] = { env, NULL };
		sfmt(env, sizeof(env), "_FUSE_COMMFD=%d", commfd);
		execve("/usr/bin/fusermount3", (char **)argv, commfd >= 0 ? envp : environ);
		execve("/bin/fusermount3", (char **)argv, commfd >= 0 ? envp : environ);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Without the right to mount, the set-uid fusermount3 mounts for us and
 * sends the /dev/fuse descriptor back over a socketpair named by the
 * environment variable _FUSE_COMMFD, as one SCM_RIGHTS message (libfuse's
 * protocol).  It sets user_id, group_id and rootmode itself.
 */
int mount_fusermount(const struct options *o, const char *mnt, int *fd, char *err, size_t errlen)
{
	char opts[512];
	int n = sfmt(opts, sizeof(opts), "fsname=%s,subtype=%s%s%s%s%s%s", o->fsname,
			 o->subtype, o->default_permissions ? ",default_permissions" : "",
			 o->allow_other ? ",allow_other" : "",
			 o->mount_flags & MS_RDONLY ? ",ro" : "",
			 o->mount_flags & MS_NOEXEC ? ",noexec" : "",
			 o->mount_flags & MS_NOATIME ? ",noatime" : "");
	if (o->max_read && n > 0 && (size_t)n < sizeof(opts))
		n += sfmt(opts + n, sizeof(opts) - n, ",max_read=%u", o->max_read);
	if (n < 0 || (size_t)n >= sizeof(opts)) {
		sfmt(err, errlen, "mount options too long for fusermount3");
		return -EINVAL;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		sfmt(err, errlen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	const char *args[] = { "-o", opts, "--", mnt, NULL };
	int status = fusermount(args, sv[1]);
	close(sv[1]);
	char byte;
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	ssize_t got = status == 0 ? recvmsg(sv[0], &m, MSG_CMSG_CLOEXEC) : -1;
	close(sv[0]);
	struct cmsghdr *h = got > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (status != 0 || !h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
	    h->cmsg_len != CMSG_LEN(sizeof(int))) {
		sfmt(err, errlen, "mount %s: no right to mount, and fusermount3 %s", mnt,
			 status == 127 ? "is not installed (the fuse3 package)"
			 : status < 0 ? strerror(-status)
			 : status ? "failed (its message is above)" : "sent no descriptor");
		return status < 0 ? status : -EPERM;
	}
	memcpy(fd, CMSG_DATA(h), sizeof(int));
	return 0;
}

/* Unmounts, lazily if something still uses the filesystem; without the
 * right to, through fusermount3. */
int mount_remove(const char *mnt)
{
	if (umount2(mnt, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno == EBUSY && umount2(mnt, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		return 1;
	if (errno == EPERM) {
		const char *args[] = { "-u", "-z", "--", mnt, NULL };
		return fusermount(args, -1) == 0 ? 0 : -EPERM;
	}
	return -errno;
}
