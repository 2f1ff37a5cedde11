/* Test helper: reading fixture files of the source tree (ROSTER_SOURCE_DIR, set by CTest). */
#ifndef ROSTER_RT_FIXTURE_H
#define ROSTER_RT_FIXTURE_H

#include <stddef.h>

/*
 * The bytes of <source dir>/<dir>/<name>, NUL-terminated (free() them); *len (may be NULL)
 * receives their count. Fails the running cmocka test when the file is missing or empty.
 */
char *rt_fixture_read(const char *dir, const char *name, size_t *len);

#endif
