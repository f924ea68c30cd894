#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errname.h"
#include "fault.h"
#include "session.h"

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *s == '-' || *end || errno || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opcode(const char *s, uint32_t *out)
{
	if (!strcmp(s, "CLONE")) {
		*out = FAULT_OP_CLONE;
		return 0;
	}
	for (uint32_t op = 0; op < FUSE_OPCODE_MAX; op++)
		if (opcode_name(op) && !strcmp(s, opcode_name(op))) {
			*out = op;
			return 0;
		}
	return -EINVAL;
}

/* SPEC is OPCODE:ACTION[:node=N][:name=S][:count=N], e.g.
 * LOOKUP:delay=200, GETATTR:error=EIO:node=1, READ:drop:count=1. */
int fault_parse(struct fault *f, const char *spec, char *err, size_t errlen)
{
	char buf[256];
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "fault spec too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	*f = (struct fault){ .left = -1 };
	char *save = NULL, *word = strtok_r(buf, ":", &save);
	if (!word || parse_opcode(word, &f->opcode) < 0) {
		snprintf(err, errlen, "fault=%s: unknown opcode '%s'", spec, word ? word : "");
		return -EINVAL;
	}
	bool have_action = false;
	while ((word = strtok_r(NULL, ":", &save))) {
		char *val = strchr(word, '=');
		if (val)
			*val++ = 0;
		uint64_t n = 0;
		int bad = 0;
		if (!strcmp(word, "delay") && val) {
			bad = parse_num(val, 3600000, &n);
			f->action = FAULT_DELAY;
			f->value = (uint32_t)n;
			have_action = true;
		} else if (!strcmp(word, "error") && val) {
			bad = errname_parse(val, &f->value);
			f->action = FAULT_ERROR;
			have_action = true;
		} else if (!val && (!strcmp(word, "drop") || !strcmp(word, "twice") ||
				    !strcmp(word, "badunique") || !strcmp(word, "short"))) {
			f->action = word[0] == 'd' ? FAULT_DROP : word[0] == 't' ? FAULT_TWICE
				  : word[0] == 'b' ? FAULT_BADUNIQUE : FAULT_SHORT;
			have_action = true;
		} else if (!strcmp(word, "node") && val) {
			bad = parse_num(val, UINT64_MAX, &f->nodeid);
		} else if (!strcmp(word, "name") && val) {
			if (strlen(val) >= sizeof(f->name) || !*val)
				bad = -EINVAL;
			else
				strcpy(f->name, val);
		} else if (!strcmp(word, "count") && val) {
			bad = parse_num(val, INT64_MAX, &n);
			f->left = (int64_t)n;
		} else {
			snprintf(err, errlen, "fault=%s: unknown word '%s'", spec, word);
			return -EINVAL;
		}
		if (bad) {
			snprintf(err, errlen, "fault=%s: bad value for '%s'", spec, word);
			return -EINVAL;
		}
	}
	if (!have_action) {
		snprintf(err, errlen, "fault=%s: no action (delay=, error=, drop, twice, "
			 "badunique, short)", spec);
		return -EINVAL;
	}
	if (f->opcode == FAULT_OP_CLONE && f->action != FAULT_ERROR) {
		snprintf(err, errlen, "fault=%s: CLONE takes only error=", spec);
		return -EINVAL;
	}
	return 0;
}

struct fault *fault_match(struct fault *faults, unsigned n, uint32_t opcode,
			  uint64_t nodeid, const char *name)
{
	for (unsigned i = 0; i < n; i++) {
		struct fault *f = &faults[i];
		if (f->opcode != opcode || (f->nodeid && f->nodeid != nodeid) ||
		    (f->name[0] && (!name || strcmp(f->name, name))))
			continue;
		if (f->left >= 0) { /* take one use, if any is left */
			int64_t left = __atomic_load_n(&f->left, __ATOMIC_RELAXED);
			do {
				if (left <= 0)
					break;
			} while (!__atomic_compare_exchange_n(&f->left, &left, left - 1, 0,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
			if (left <= 0)
				continue;
		}
		__atomic_add_fetch(&f->hits, 1, __ATOMIC_RELAXED);
		return f;
	}
	return NULL;
}
