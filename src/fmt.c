/* printf-style formatting and buffered text output, without stdio (why: fmt.h) */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

enum { OUT_DRAIN = 4096 };

/* Writes what fits (keeping room for the NUL), counts everything. */
struct sink {
	char *p;
	size_t size, len;
};

static void put(struct sink *k, const char *s, size_t n)
{
	if (k->len + 1 < k->size) {
		size_t room = k->size - 1 - k->len;
		memcpy(k->p + k->len, s, n < room ? n : room);
	}
	k->len += n;
}

static void pad(struct sink *k, char c, int n)
{
	while (n-- > 0)
		put(k, &c, 1);
}

/* A number: sign, then zeros or spaces to the width, then the digits. */
static void number(struct sink *k, unsigned long long u, bool neg, unsigned base,
		   bool upper, bool left, bool zero, int width)
{
	char d[24], *e = d + sizeof(d), *s = e;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do
		*--s = digits[u % base];
	while (u /= base);
	int n = (int)(e - s) + neg;
	if (!left && !zero)
		pad(k, ' ', width - n);
	if (neg)
		put(k, "-", 1);
	if (!left && zero)
		pad(k, '0', width - n);
	put(k, s, (size_t)(e - s));
	if (left)
		pad(k, ' ', width - n);
}

int vsfmt(char *buf, size_t size, const char *f, va_list ap)
{
	struct sink k = { buf, size, 0 };
	int saved_errno = errno;
	for (; *f; f++) {
		if (*f != '%') {
			const char *e = strchrnul(f, '%');
			put(&k, f, (size_t)(e - f));
			f = e - 1;
			continue;
		}
		bool left = false, zero = false;
		for (f++; *f == '-' || *f == '0'; f++)
			*f == '-' ? (left = true) : (zero = true);
		int width = 0, prec = -1;
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			width = width * 10 + (*f - '0');
		if (*f == '.') {
			prec = 0;
			if (*++f == '*') {
				prec = va_arg(ap, int);
				f++;
			}
			for (; *f >= '0' && *f <= '9'; f++)
				prec = prec * 10 + (*f - '0');
		}
		int longs = 0, shorts = 0;
		for (;; f++) {
			if (*f == 'l' || *f == 'z' || *f == 'j' || *f == 't')
				longs++;
			else if (*f == 'h')
				shorts++;
			else
				break;
		}
		unsigned long long u;
		const char *s;
		size_t n;
		char c;
		switch (*f) {
		case 'd':
		case 'i': {
			long long v = longs > 1 ? va_arg(ap, long long) :
				      longs ? va_arg(ap, long) : va_arg(ap, int);
			if (shorts)
				v = shorts > 1 ? (signed char)v : (short)v;
			u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
			number(&k, u, v < 0, 10, false, left, zero, width);
			continue;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			u = longs > 1 ? va_arg(ap, unsigned long long) :
			    longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			if (shorts)
				u = shorts > 1 ? (unsigned char)u : (unsigned short)u;
			number(&k, u, false, *f == 'u' ? 10 : *f == 'o' ? 8 : 16, *f == 'X',
			       left, zero, width);
			continue;
		case 'c':
			c = (char)va_arg(ap, int);
			s = &c;
			n = 1;
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			break;
		case 'm':
			s = strerror(saved_errno);
			n = strlen(s);
			break;
		case '%':
			s = "%";
			n = 1;
			break;
		default: /* not in the subset (GCC's check passed it): shown as is */
			if (!*f)
				f--;
			s = "%?";
			n = 2;
			break;
		}
		if (!left)
			pad(&k, ' ', width - (int)n);
		put(&k, s, n);
		if (left)
			pad(&k, ' ', width - (int)n);
	}
	if (size)
		buf[k.len < size ? k.len : size - 1] = 0;
	errno = saved_errno;
	return k.len > INT_MAX ? -1 : (int)k.len;
}

int sfmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsfmt(buf, size, f, ap);
	va_end(ap);
	return n;
}

/* ---- struct out ---- */

static void drain(struct out *o)
{
	size_t done = 0;
	while (done < o->len && !o->err) {
		ssize_t n = write(o->fd, o->buf + done, o->len - done);
		if (n < 0 && errno != EINTR)
			o->err = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	o->len = 0;
	if (o->buf)
		o->buf[0] = 0;
}

/* Room for n more bytes and the NUL; false (and err set) without it. */
static bool room(struct out *o, size_t n)
{
	if (o->err)
		return false;
	if (o->len + n < o->cap)
		return true;
	size_t cap = o->cap ? o->cap : 256;
	while (cap <= o->len + n) {
		if (cap > SIZE_MAX / 2) {
			o->err = -ENOMEM;
			return false;
		}
		cap *= 2;
	}
	char *b = realloc(o->buf, cap);
	if (!b) {
		o->err = -ENOMEM;
		return false;
	}
	o->buf = b;
	o->cap = cap;
	return true;
}

static void written(struct out *o, size_t n)
{
	o->len += n;
	o->buf[o->len] = 0;
	if (o->fd >= 0 && o->len >= OUT_DRAIN)
		drain(o);
}

void outf(struct out *o, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsfmt(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0) {
		if (!o->err)
			o->err = -EOVERFLOW;
		return;
	}
	if (!room(o, (size_t)n))
		return;
	va_start(ap, f);
	vsfmt(o->buf + o->len, o->cap - o->len, f, ap);
	va_end(ap);
	written(o, (size_t)n);
}

int fdfmt(int fd, const char *f, ...)
{
	char line[512];
	struct out o = { .buf = line, .cap = sizeof(line), .fd = fd };
	va_list ap;
	va_start(ap, f);
	int n = vsfmt(line, sizeof(line), f, ap);
	va_end(ap);
	if (n < 0)
		return -EOVERFLOW;
	if ((size_t)n >= sizeof(line)) {
		o.buf = NULL;
		o.cap = 0;
		if (!room(&o, (size_t)n))
			return o.err;
		va_start(ap, f);
		vsfmt(o.buf, o.cap, f, ap);
		va_end(ap);
	}
	o.len = (size_t)n;
	drain(&o);
	if (o.buf != line)
		free(o.buf);
	return o.err;
}

void out_write(struct out *o, const void *p, size_t n)
{
	if (!n || !room(o, n)) /* n == 0: p may be an empty out's NULL */
		return;
	memcpy(o->buf + o->len, p, n);
	written(o, n);
}

void out_puts(struct out *o, const char *s)
{
	out_write(o, s, strlen(s));
}

int out_close(struct out *o)
{
	if (o->fd >= 0) {
		drain(o);
		free(o->buf);
		o->buf = NULL;
		o->cap = 0;
	}
	return o->err;
}
