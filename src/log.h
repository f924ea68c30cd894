/* Messages, prefixed with the program name: on stderr while starting, then
 * to the log target chosen with log= (kmsg, syslog or a file). */
#ifndef RAMFUSE_LOG_H
#define RAMFUSE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* syslog's levels */
#define LOG_LEVEL_WARNING 4
#define LOG_LEVEL_DEBUG 7

void log_set_debug(bool on);
bool log_debug_on(void);
/* Opens the target now, so that it stays what the user named after
 * switch_root: "kmsg", "syslog" or a file to append to.  On error a message
 * naming it in err. */
int log_open(const char *spec, char *err, size_t errlen);
/* Served: with a target, messages stop going to stderr. */
void log_detach(void);
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
