/* A directory's entries: a hash table for lookup by name and an array in
 * creation order for readdir.  Each entry gets a cookie that is never
 * reused, so a readdir offset stays valid while entries come and go.
 * No locking here: the directory inode's lock covers it. */
#ifndef RAMFUSE_DIR_H
#define RAMFUSE_DIR_H

#include <stddef.h>
#include <stdint.h>

struct inode;

struct dentry {
	struct dentry *next; /* hash chain */
	struct inode *inode;
	uint64_t cookie;
	uint32_t hash;
	uint8_t namelen;
	char name[]; /* NUL-terminated */
};

struct dir_slot {
	uint64_t cookie;
	struct dentry *d; /* NULL once removed: the cookie keeps the order */
};

struct dir {
	struct dentry **buckets;
	uint32_t nbuckets; /* 0 or a power of two */
	uint32_t count;
	struct dir_slot *slots; /* sorted by cookie */
	uint32_t nslots, cap, nremoved;
	uint64_t next_cookie;
	uint64_t parent; /* the parent directory's inode number, kept by memfs */
};

/* The first cookie; offsets 1 and 2 are "." and "..". */
#define DIR_FIRST_COOKIE 3

void dir_init(struct dir *d);
void dir_clear(struct dir *d); /* frees the entries, not their inodes */
struct dentry *dir_find(const struct dir *d, const char *name, size_t len);
int dir_add(struct dir *d, const char *name, size_t len, struct inode *inode);
void dir_remove(struct dir *d, struct dentry *de);
/* The index of the first slot at or after cookie; slots may hold NULL. */
uint32_t dir_seek(const struct dir *d, uint64_t cookie);

#endif
