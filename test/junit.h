/* SPDX-License-Identifier: MIT */
/*
 * junit.h - JUnit XML from run-tests' output (its nested TAP), for CI test
 * reporters (GitLab, Jenkins, GitHub).  run-tests feeds its own output here
 * for --junit; --tap-to-junit feeds a saved stream (e.g. a VM's console),
 * so both come from this one reader.
 */
#ifndef RAMFUSE_TEST_JUNIT_H
#define RAMFUSE_TEST_JUNIT_H

#include <stddef.h>

struct junit;

struct junit *junit_new(void);
/* Any bytes; split into lines here.  Lines that are not run-tests' output
 * (kernel messages on a console, init's lines) are ignored. */
void junit_feed(struct junit *j, const char *data, size_t len);
/* Write the XML to path (through a temporary file and rename); 0 or -errno. */
int junit_write(struct junit *j, const char *path);
void junit_free(struct junit *j);

#endif /* RAMFUSE_TEST_JUNIT_H */
