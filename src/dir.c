#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

void dir_init(struct dir *d)
{
	memset(d, 0, sizeof(*d));
	d->next_cookie = DIR_FIRST_COOKIE;
}

void dir_clear(struct dir *d)
{
	for (uint32_t i = 0; i < d->nslots; i++)
		free(d->slots[i].d);
	free(d->slots);
	free(d->buckets);
	dir_init(d);
}

struct dentry *dir_find(const struct dir *d, const char *name, size_t len)
{
	if (!d->nbuckets)
		return NULL;
	uint32_t h = name_hash(name, len);
	for (struct dentry *e = d->buckets[h & (d->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->namelen == len && !memcmp(e->name, name, len))
			return e;
	return NULL;
}

static int grow_buckets(struct dir *d)
{
	uint32_t n = d->nbuckets ? d->nbuckets * 2 : 8;
	struct dentry **b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->nbuckets; i++) {
		struct dentry *e = d->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = n;
	return 0;
}

/* Squeeze out removed slots; the cookies of live entries do not change. */
static void compact(struct dir *d)
{
	uint32_t j = 0;
	for (uint32_t i = 0; i < d->nslots; i++)
		if (d->slots[i].d)
			d->slots[j++] = d->slots[i];
	d->nslots = j;
	d->nremoved = 0;
}

static int grow_slots(struct dir *d)
{
	if (d->nremoved > d->nslots / 2) {
		compact(d);
		if (d->nslots < d->cap)
			return 0;
	}
	uint32_t cap = d->cap ? d->cap * 2 : 4;
	struct dir_slot *s = realloc(d->slots, cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	d->slots = s;
	d->cap = cap;
	return 0;
}

int dir_add(struct dir *d, const char *name, size_t len, struct inode *inode)
{
	if (d->count >= UINT32_MAX - 1)
		return -ENOSPC;
	if (d->count >= d->nbuckets && grow_buckets(d) < 0)
		return -ENOMEM;
	if (d->nslots == d->cap && grow_slots(d) < 0)
		return -ENOMEM;
	struct dentry *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	e->inode = inode;
	e->cookie = d->next_cookie++;
	e->hash = name_hash(name, len);
	e->namelen = (uint8_t)len;
	memcpy(e->name, name, len);
	e->name[len] = 0;
	uint32_t b = e->hash & (d->nbuckets - 1);
	e->next = d->buckets[b];
	d->buckets[b] = e;
	d->slots[d->nslots++] = (struct dir_slot){ e->cookie, e };
	d->count++;
	return 0;
}

uint32_t dir_seek(const struct dir *d, uint64_t cookie)
{
	uint32_t lo = 0, hi = d->nslots;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (d->slots[mid].cookie < cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void dir_remove(struct dir *d, struct dentry *de)
{
	struct dentry **pp = &d->buckets[de->hash & (d->nbuckets - 1)];
	while (*pp != de)
		pp = &(*pp)->next;
	*pp = de->next;
	uint32_t i = dir_seek(d, de->cookie);
	d->slots[i].d = NULL;
	d->nremoved++;
	d->count--;
	free(de);
	/* Trailing removed slots can go at once; others wait for compaction. */
	while (d->nslots && !d->slots[d->nslots - 1].d) {
		d->nslots--;
		d->nremoved--;
	}
}
