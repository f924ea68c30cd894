/* Text without stdio: printf-style formatting into a bounded buffer
 * (sfmt, snprintf's contract), or into a growing buffer that may drain to
 * a file descriptor (struct out).  musl's printf core brings floating point
 * and wide characters along: 17 KiB of a 170 KiB binary.
 *
 * The subset: flags '-' and '0', a width and a precision (digits or '*';
 * the precision only for %s), the lengths hh h l ll z j t, and the
 * conversions d i u x X o c s m %.  The format attribute keeps GCC's
 * checking of every call. */
#ifndef RAMFUSE_FMT_H
#define RAMFUSE_FMT_H

#include <stdarg.h>
#include <stddef.h>

int sfmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
int vsfmt(char *buf, size_t size, const char *f, va_list ap)
	__attribute__((format(printf, 3, 0)));

struct out {
	char *buf;   /* NUL-terminated once anything is written */
	size_t len, cap;
	int fd;      /* drains here when full and at out_close; -1: memory only */
	int err;     /* the first failure, a negative errno */
};
#define OUT_MEM { .fd = -1 }
#define OUT_FD(fd_) { .fd = (fd_) }

void outf(struct out *o, const char *f, ...) __attribute__((format(printf, 2, 3)));
void out_write(struct out *o, const void *p, size_t n);
void out_puts(struct out *o, const char *s);
/* dprintf: one formatted text to fd; 0 or a negative errno */
int fdfmt(int fd, const char *f, ...) __attribute__((format(printf, 2, 3)));
/* Drains an fd's out, frees the buffer; returns the first error or 0.
 * A memory out's buffer is the caller's to take (and free) instead. */
int out_close(struct out *o);

#endif
