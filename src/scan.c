/* strtoull and strtoll without stdio (why: scan.h) */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "scan.h"

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return (c | 0x20) - 'a' + 10;
	return 99;
}

/* The magnitude, saturated at ULLONG_MAX (*over says so); *neg for '-'. */
static unsigned long long scan(const char *s, char **end, int base, bool *neg, bool *over)
{
	const char *p = s;
	*neg = *over = false;
	if (end)
		*end = (char *)s;
	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		return 0;
	}
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 0x20) == 'x' && digit(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = *p == '0' ? 8 : 10;
	}
	if (digit(*p) >= base) {
		errno = EINVAL; /* as musl: no digits */
		return 0;
	}
	unsigned long long v = 0;
	for (int d; (d = digit(*p)) < base; p++) {
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			*over = true;
		else
			v = v * (unsigned)base + (unsigned)d;
	}
	if (end)
		*end = (char *)p;
	return *over ? ULLONG_MAX : v;
}

unsigned long long scan_ull(const char *s, char **end, int base)
{
	bool neg, over;
	unsigned long long v = scan(s, end, base, &neg, &over);
	if (over) {
		errno = ERANGE;
		return ULLONG_MAX;
	}
	return neg ? -v : v;
}

long long scan_ll(const char *s, char **end, int base)
{
	bool neg, over;
	unsigned long long v = scan(s, end, base, &neg, &over);
	if (over || v > (unsigned long long)LLONG_MAX + neg) {
		errno = ERANGE;
		return neg ? LLONG_MIN : LLONG_MAX;
	}
	return neg ? (long long)-v : (long long)v;
}
