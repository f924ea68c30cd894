/* Messages on stderr, prefixed with the program name. */
#ifndef RAMFUSE_LOG_H
#define RAMFUSE_LOG_H

#include <stdbool.h>

void log_set_debug(bool on);
bool log_debug_on(void);
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
