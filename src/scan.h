/* Numbers from text: strtoull and strtoll's contract (leading blanks, a
 * sign, base 0 meaning 0x hex or 0 octal, *end after the digits, errno
 * ERANGE and the clamped value on overflow, EINVAL without digits as in
 * musl), without musl's scanner, which reads through a FILE and brings
 * stdio along. */
#ifndef RAMFUSE_SCAN_H
#define RAMFUSE_SCAN_H

unsigned long long scan_ull(const char *s, char **end, int base);
long long scan_ll(const char *s, char **end, int base);

#endif
