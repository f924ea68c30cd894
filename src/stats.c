/* The stats file: what the kernel sent, for tests and for people.  Written
 * whole to a temporary file and renamed, so a reader never sees half. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "counter.h"
#include "fmt.h"
#include "opname.h"
#include "session.h"

static const char *const retry_names[DEV_RETRY_NR] = {
	[DEV_RETRY_EINTR] = "EINTR", [DEV_RETRY_EAGAIN] = "EAGAIN",
	[DEV_RETRY_ENOENT] = "ENOENT",
};

/* The file's lines, for the file and for the control socket's "stats". */
void stats_print(struct session *s, struct out *f)
{
	uint64_t ops[FUSE_OPCODE_MAX] = { 0 }, retries[DEV_RETRY_NR] = { 0 }, enoent = 0;
	uint64_t failed = 0, fault_hits = 0, interrupts = 0, write_max = 0;
	for (unsigned i = 0; i < s->nworkers; i++) {
		const struct worker *w = &s->workers[i];
		for (int op = 0; op < FUSE_OPCODE_MAX; op++)
			ops[op] += counter_get(&w->ops[op]);
		for (int r = 0; r < DEV_RETRY_NR; r++)
			retries[r] += counter_get(&w->retries[r]);
		enoent += counter_get(&w->enoent_replies);
		failed += counter_get(&w->failed_replies);
		interrupts += counter_get(&w->interrupts);
		if (counter_get(&w->write_max) > write_max)
			write_max = counter_get(&w->write_max);
	}
	fault_hits = fault_list_hits(&s->faults);
	ops[FUSE_INIT] += s->minor != 0; /* answered before the workers started */
	outf(f, "seq %llu\npid %d\nproto %u.%u\nflags 0x%llx\nworkers %u\nclone %d\n"
		"passthrough %d\ntransport %s\nqueues %u\n",
		(unsigned long long)__atomic_add_fetch(&s->stats_seq, 1, __ATOMIC_RELAXED),
		(int)getpid(), FUSE_KERNEL_VERSION, s->minor, (unsigned long long)s->flags,
		s->nclassic, s->cloned, !!(s->flags & FUSE_PASSTHROUGH),
		s->nqueues ? "uring" : "classic", s->nqueues);
	for (int op = 0; op < FUSE_OPCODE_MAX; op++)
		if (opcode_name((uint32_t)op))
			outf(f, "op.%s %llu\n", opcode_name((uint32_t)op),
				(unsigned long long)ops[op]);
	for (unsigned i = 0; i < s->nworkers; i++) {
		const struct worker *w = &s->workers[i];
		outf(f, "%s.%u %llu\n", w->queue ? "q" : "fd",
			w->queue ? i - s->nclassic : i, (unsigned long long)counter_get(&w->requests));
	}
	outf(f, "reply.enoent %llu\nreply.error %llu\nfault.hits %llu\ninterrupt.found %llu\n",
		(unsigned long long)enoent, (unsigned long long)failed,
		(unsigned long long)fault_hits, (unsigned long long)interrupts);
	for (int r = 0; r < DEV_RETRY_NR; r++)
		outf(f, "retry.%s %llu\n", retry_names[r], (unsigned long long)retries[r]);
	outf(f, "write.max %llu\n", (unsigned long long)write_max);
	uint64_t size, nr_inodes;
	memfs_limits(s->fs, &size, &nr_inodes);
	/* the live limits (mountinfo cannot show a FUSE mount's options) */
	outf(f, "opt.size %llu\nopt.nr_inodes %llu\n",
		(unsigned long long)(size == UINT64_MAX ? 0 : size),
		(unsigned long long)(nr_inodes == UINT64_MAX ? 0 : nr_inodes));
	outf(f, "backing.open %llu\nbacking.close %llu\ninodes %llu\nbytes %llu\n",
		(unsigned long long)__atomic_load_n(&s->backing_opened, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&s->backing_closed, __ATOMIC_RELAXED),
		(unsigned long long)memfs_inode_count(s->fs),
		(unsigned long long)memfs_byte_count(s->fs));
}

int stats_write(struct session *s)
{
	if (!s->cfg.stats_path)
		return 0;
	/* relative to the directory opened at start: after switch_root the
	 * name still means what the user meant (README "Paths") */
	const char *name = s->cfg.stats_name;
	int dir = s->cfg.stats_dir;
	char tmp[4096];
	if (sfmt(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	struct out f = OUT_FD(fd);
	stats_print(s, &f);
	int err = out_close(&f);
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(dir, tmp, dir, name) < 0)
		err = -errno;
	if (err)
		unlinkat(dir, tmp, 0);
	return err;
}
