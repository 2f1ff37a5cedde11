/* Unit tests for core/rs_log.c: line format, levels, quoting, and per-thread context. */
#include "roster/rs_log.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_LINES 16

static int saved_stderr = -1;
static FILE *capture_file;
static char *captured;
static char *lines[MAX_LINES];
static int line_count;

/* Sends stderr to a temporary file until capture_end. */
static void capture_begin(void)
{
    capture_file = tmpfile();
    assert_non_null(capture_file);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

/* Restores stderr and splits what was written into lines[], each of which ended in '\n'. */
static void capture_end(void)
{
    long size;
    char *p;

    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    assert_int_equal(fseek(capture_file, 0, SEEK_END), 0);
    size = ftell(capture_file);
    rewind(capture_file);
    free(captured);
    captured = calloc(1, (size_t)size + 1);
    assert_non_null(captured);
    assert_int_equal(fread(captured, 1, (size_t)size, capture_file), (size_t)size);
    fclose(capture_file);
    line_count = 0;
    for (p = captured; *p; line_count++) {
        char *end = strchr(p, '\n');

        assert_non_null(end); /* every line is complete */
        assert_true(line_count < MAX_LINES);
        *end = '\0';
        lines[line_count] = p;
        p = end + 1;
    }
}

static int reset(void **state)
{
    (void)state;
    rs_log_set_level(RS_LOG_INFO);
    rs_log_clear_context();
    return 0;
}

static bool digits(const char *p, int n)
{
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
    }
    return true;
}

/* Checks `ts=YYYY-MM-DDTHH:MM:SS.mmmZ ` and returns what follows it. */
static const char *after_timestamp(const char *line)
{
    const char *p = line + 3;

    assert_memory_equal(line, "ts=", 3);
    assert_true(digits(p, 4) && p[4] == '-' && digits(p + 5, 2) && p[7] == '-');
    assert_true(digits(p + 8, 2) && p[10] == 'T' && digits(p + 11, 2));
    assert_true(p[13] == ':' && digits(p + 14, 2) && p[16] == ':');
    assert_true(digits(p + 17, 2) && p[19] == '.' && digits(p + 20, 3));
    assert_memory_equal(p + 23, "Z ", 2);
    return p + 25;
}

static void test_line_format(void **state)
{
    (void)state;
    capture_begin();
    rs_log(RS_LOG_INFO, "sync finished", "provider=%s rows=%d", "bamboohr", 42);
    rs_log_set_context("req-1", "0f8fad5b-d9cb-469f-a165-70867728950e");
    rs_log(RS_LOG_ERROR, "say \"hi\"", NULL);
    rs_log_set_context("req 2\"x", NULL); /* a client-chosen id cannot break the line */
    rs_log(RS_LOG_WARN, "m", "%s", "");
    rs_log_clear_context();
    rs_log(RS_LOG_INFO, "two\nlines", "k=%s",
           "a\nb\rc\x1f\x7f"); /* one line whatever callers pass */
    capture_end();
    assert_int_equal(line_count, 4);
    assert_string_equal(after_timestamp(lines[0]),
                        "level=info msg=\"sync finished\" provider=bamboohr rows=42");
    assert_string_equal(after_timestamp(lines[1]), "level=error msg=\"say \\\"hi\\\"\" req=req-1 "
                                                   "account=0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_string_equal(after_timestamp(lines[2]), "level=warn msg=\"m\" req=\"req 2\\\"x\"");
    assert_string_equal(after_timestamp(lines[3]), "level=info msg=\"two\\nlines\" k=a?b?c??");
}

static int count_calls;

static int counted(void)
{
    return ++count_calls;
}

static void test_levels(void **state)
{
    (void)state;
    rs_log_set_level(RS_LOG_WARN);
    assert_false(rs_log_enabled(RS_LOG_DEBUG));
    assert_false(rs_log_enabled(RS_LOG_INFO));
    assert_true(rs_log_enabled(RS_LOG_WARN));
    assert_true(rs_log_enabled(RS_LOG_ERROR));
    count_calls = 0;
    capture_begin();
    rs_log(RS_LOG_INFO, "dropped", NULL);
    RS_LOG(RS_LOG_DEBUG, "dropped", "n=%d", counted()); /* arguments not even evaluated */
    RS_LOG(RS_LOG_ERROR, "kept", "n=%d", counted());
    rs_log_set_level(RS_LOG_DEBUG);
    RS_LOG(RS_LOG_DEBUG, "kept too", "n=%d", counted());
    capture_end();
    assert_int_equal(count_calls, 2);
    assert_int_equal(line_count, 2);
    assert_string_equal(after_timestamp(lines[0]), "level=error msg=\"kept\" n=1");
    assert_string_equal(after_timestamp(lines[1]), "level=debug msg=\"kept too\" n=2");
}

static void test_parse_level(void **state)
{
    enum rs_log_level level = RS_LOG_ERROR;

    (void)state;
    assert_int_equal(rs_log_parse_level("debug", &level), RS_OK);
    assert_int_equal(level, RS_LOG_DEBUG);
    assert_int_equal(rs_log_parse_level("info", &level), RS_OK);
    assert_int_equal(level, RS_LOG_INFO);
    assert_int_equal(rs_log_parse_level("WARN", &level), RS_OK);
    assert_int_equal(level, RS_LOG_WARN);
    assert_int_equal(rs_log_parse_level("error", &level), RS_OK);
    assert_int_equal(level, RS_LOG_ERROR);
    assert_int_equal(rs_log_parse_level("warning", &level), RS_ERR_INVALID);
    assert_int_equal(rs_log_parse_level("", &level), RS_ERR_INVALID);
    assert_int_equal(rs_log_parse_level("info ", &level), RS_ERR_INVALID);
    assert_int_equal(rs_log_parse_level(NULL, &level), RS_ERR_INVALID);
    assert_int_equal(level, RS_LOG_ERROR);
}

static void test_quote(void **state)
{
    char out[64];
    char tiny[8];

    (void)state;
    assert_ptr_equal(rs_log_quote("plain", out, sizeof(out)), out);
    assert_string_equal(out, "\"plain\"");
    assert_string_equal(rs_log_quote("a \"b\" \\c", out, sizeof(out)), "\"a \\\"b\\\" \\\\c\"");
    assert_string_equal(rs_log_quote("l1\nl2\r\t\x01\x7f", out, sizeof(out)),
                        "\"l1\\nl2\\r\\t\\u0001\\u007f\"");
    assert_string_equal(rs_log_quote("", out, sizeof(out)), "\"\"");
    assert_string_equal(rs_log_quote(NULL, out, sizeof(out)), "\"\"");
    assert_string_equal(rs_log_quote("caf\xc3\xa9", out, sizeof(out)), "\"caf\xc3\xa9\"");
    /* truncation keeps both quotes, never splits an escape or a UTF-8 character */
    assert_string_equal(rs_log_quote("abcdefghij", tiny, sizeof(tiny)), "\"abcde\"");
    assert_string_equal(rs_log_quote("abcd\"efg", tiny, sizeof(tiny)), "\"abcd\"");
    assert_string_equal(rs_log_quote("abc\"efg", tiny, sizeof(tiny)), "\"abc\\\"\"");
    assert_string_equal(rs_log_quote("abcd\xc3\xa9", tiny, sizeof(tiny)), "\"abcd\"");
    assert_string_equal(rs_log_quote("abc\xc3\xa9", tiny, sizeof(tiny)), "\"abc\xc3\xa9\"");
    assert_string_equal(rs_log_quote("x", tiny, 3), "\"\"");
    tiny[0] = 'z';
    assert_string_equal(rs_log_quote("x", tiny, 2), "");
    tiny[0] = 'z';
    rs_log_quote("x", tiny, 0);
    assert_int_equal(tiny[0], 'z'); /* nothing written */
}

static void test_long_line_is_truncated(void **state)
{
    char *big = malloc(10000);

    (void)state;
    assert_non_null(big);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    capture_begin();
    rs_log(RS_LOG_INFO, big, "k=%s", big);
    rs_log(RS_LOG_INFO, "short", "k=%s", big);
    capture_end();
    assert_int_equal(line_count, 2);
    assert_int_equal(strlen(lines[0]), 4095); /* 4096 with its newline */
    assert_int_equal(strlen(lines[1]), 4095);
    assert_non_null(strstr(lines[1], "msg=\"short\" k=xxx"));
    free(big);
}

static void test_errno_preserved(void **state)
{
    (void)state;
    capture_begin();
    errno = ENOENT;
    rs_log(RS_LOG_ERROR, "open failed", NULL);
    assert_int_equal(errno, ENOENT);
    capture_end();
}

static void *other_thread(void *arg)
{
    (void)arg;
    rs_log_set_context("req-thread", "acct-thread");
    rs_log(RS_LOG_INFO, "from thread", NULL);
    return NULL;
}

static void test_context_is_per_thread(void **state)
{
    pthread_t thread;

    (void)state;
    rs_log_set_context("req-main", NULL);
    capture_begin();
    assert_int_equal(pthread_create(&thread, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    rs_log(RS_LOG_INFO, "from main", NULL);
    capture_end();
    assert_int_equal(line_count, 2);
    assert_string_equal(after_timestamp(lines[0]),
                        "level=info msg=\"from thread\" req=req-thread account=acct-thread");
    assert_string_equal(after_timestamp(lines[1]), "level=info msg=\"from main\" req=req-main");
}

static int teardown_all(void **state)
{
    (void)state;
    free(captured);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_line_format, reset),
        cmocka_unit_test_setup(test_levels, reset),
        cmocka_unit_test_setup(test_parse_level, reset),
        cmocka_unit_test_setup(test_quote, reset),
        cmocka_unit_test_setup(test_long_line_is_truncated, reset),
        cmocka_unit_test_setup(test_errno_preserved, reset),
        cmocka_unit_test_setup(test_context_is_per_thread, reset),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
