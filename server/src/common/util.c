/*
 * util.c: small pure helpers (see util.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *hex, size_t hexlen, unsigned char *out, size_t outlen)
{
    if (hexlen % 2 != 0 || hexlen / 2 > outlen)
        return -1;
    for (size_t i = 0; i < hexlen / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (int)(hexlen / 2);
}

void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void time_format_ms(int64_t unix_ms, char *out)
{
    time_t secs = (time_t)(unix_ms / 1000);
    int ms = (int)(unix_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL)
        memset(&tm, 0, sizeof(tm)); /* out of range for struct tm: prints year 1900 rather than garbage */
    char buf[64];                   /* wide enough for any int the compiler imagines; real values need 24 */
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    strlcpy(out, buf, HDF_TIME_BUFSZ);
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Postgres (DateStyle ISO, TimeZone UTC) sends "2026-11-24 08:15:30.123456+00". */
int64_t time_parse_pg(const char *s)
{
    struct tm tm = {0};
    int frac_digits = 0;
    long frac = 0;
    const char *p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
            if (frac_digits < 3)
                frac = frac * 10 + (*p - '0');
        }
        for (int i = frac_digits; i < 3; i++)
            frac *= 10;
    }
    if (strcmp(p, "+00") != 0 && *p != '\0')
        return -1;
    return (int64_t)timegm(&tm) * 1000 + frac;
}

int request_id_is_sane(const char *s, size_t len)
{
    if (len == 0 || len > HDF_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:+/=-", c) != NULL;
        if (!ok || c == '\0')
            return 0;
    }
    return 1;
}

void request_id_generate(char *out)
{
    unsigned char raw[16];
    arc4random_buf(raw, sizeof(raw));
    hex_encode(raw, sizeof(raw), out);
}

ptrdiff_t utf8_find_invalid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07;
        } else {
            return (ptrdiff_t)i;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return (ptrdiff_t)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static const uint32_t min_for_len[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return (ptrdiff_t)i;
        i += n + 1;
    }
    return -1;
}

/* Drops a last character whose bytes were cut off (by snprintf, say). */
static void utf8_trim_incomplete(char *s, size_t len)
{
    size_t i = len, cont = 0;
    while (i > 0 && cont < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--, cont++;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
    if (cont + 1 < need)
        s[i - 1] = '\0';
}

void utf8_truncate(char *s, size_t maxbytes)
{
    size_t len = strlen(s);
    if (len > maxbytes) {
        while (maxbytes > 0 && ((unsigned char)s[maxbytes] & 0xC0) == 0x80)
            maxbytes--;
        s[maxbytes] = '\0';
        len = maxbytes;
    }
    utf8_trim_incomplete(s, len);
}

void utf8_cut_invalid(char *s)
{
    ptrdiff_t bad = utf8_find_invalid(s, strlen(s));
    if (bad >= 0)
        s[bad] = '\0';
}

size_t utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

int64_t parse_id(const char *s, size_t len)
{
    if (len == 0 || len > 19 || s[0] == '0')
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}
