/* Declarations shared only inside core/. */
#ifndef ROSTER_CORE_RS_INT_H
#define ROSTER_CORE_RS_INT_H

#include <stddef.h>

/*
 * Length of str[0..len) without a UTF-8 sequence cut short at its end, so that a string
 * truncated to fit a buffer stays valid UTF-8 (errors and log lines end up in JSON and in log
 * pipelines that reject broken sequences). Bytes that are invalid anyway are left alone.
 */
static inline size_t rs_utf8_complete_len(const char *str, size_t len)
{
    size_t start = len;
    size_t need;
    unsigned char lead;

    while (start > 0 && len - start < 3 && ((unsigned char)str[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return len;
    lead = (unsigned char)str[start - 1];
    if (lead < 0xC0)
        return len; /* ends in ASCII or in a complete (or invalid) sequence */
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return len - (start - 1) < need ? start - 1 : len;
}

#endif
