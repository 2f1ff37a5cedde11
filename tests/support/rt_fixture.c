/* Test helper: reading fixture files of the source tree. */
#include "rt_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

char *rt_fixture_read(const char *dir, const char *name, size_t *len)
{
    const char *src = getenv("ROSTER_SOURCE_DIR");
    char path[1024];
    FILE *fp;
    long size;
    char *text;

    snprintf(path, sizeof(path), "%s/%s/%s", src ? src : ".", dir, name);
    fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s (set ROSTER_SOURCE_DIR)", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size > 0);
    rewind(fp);
    text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
    text[size] = '\0';
    fclose(fp);
    if (len)
        *len = (size_t)size;
    return text;
}
