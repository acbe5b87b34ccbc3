/*
 * email.c: email normalisation and validation (see email.h for the rules and why).
 */
#include <string.h>
#include "model/email.h"

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext, plus any byte of a UTF-8 multi-byte character (RFC 6531). */
static int is_local_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int is_label_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c >= 0x80;
}

/* C1 controls, no-break space and the other Unicode spaces, which the ASCII tests below would
 * let through as "non-ASCII". s is valid UTF-8 and NUL-terminated. */
static int is_unicode_space_or_control(const unsigned char *s)
{
    if (s[0] == 0xC2)
        return s[1] >= 0x80 && s[1] <= 0xA0; /* U+0080..U+00A0 */
    if (s[0] == 0xE1)
        return s[1] == 0x9A && s[2] == 0x80; /* U+1680 */
    if (s[0] == 0xE2 && s[1] == 0x80)
        return s[2] <= 0x8F || (s[2] >= 0xA8 && s[2] <= 0xAF); /* U+2000..U+200F, U+2028..U+202F */
    if (s[0] == 0xE2 && s[1] == 0x81)
        return s[2] >= 0x9F && s[2] <= 0xAF; /* U+205F..U+206F */
    if (s[0] == 0xE3)
        return s[1] == 0x80 && s[2] == 0x80; /* U+3000 */
    if (s[0] == 0xEF)
        return s[1] == 0xBB && s[2] == 0xBF; /* U+FEFF */
    return 0;
}

static int has_unicode_space_or_control(const char *s)
{
    for (; *s != '\0'; s++)
        if (is_unicode_space_or_control((const unsigned char *)s))
            return 1;
    return 0;
}

static int local_part_ok(const char *s, size_t len)
{
    if (len == 0 || len > HDF_EMAIL_LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !is_local_char(c))
            return 0;
    }
    return 1;
}

static int label_ok(const char *s, size_t len)
{
    if (len == 0 || len > HDF_EMAIL_LABEL_MAX || s[0] == '-' || s[len - 1] == '-')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_label_char((unsigned char)s[i]))
            return 0;
    return 1;
}

static int domain_ok(const char *s, size_t len)
{
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (!label_ok(s + start, i - start))
            return 0;
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

enum hdf_email_result email_normalize(const char *s, size_t len, char out[HDF_EMAIL_MAX + 1])
{
    out[0] = '\0';
    while (len > 0 && is_space((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return HDF_EMAIL_EMPTY;
    if (len > HDF_EMAIL_MAX)
        return HDF_EMAIL_TOO_LONG;
    const char *at = memchr(s, '@', len);
    if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL)
        return HDF_EMAIL_INVALID;
    size_t local = (size_t)(at - s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[len] = '\0';
    if (!local_part_ok(out, local) || !domain_ok(out + local + 1, len - local - 1) || has_unicode_space_or_control(out)) {
        out[0] = '\0';
        return HDF_EMAIL_INVALID;
    }
    return HDF_EMAIL_OK;
}

const char *email_result_message(enum hdf_email_result res)
{
    switch (res) {
    case HDF_EMAIL_OK:
        return "is a valid email address";
    case HDF_EMAIL_EMPTY:
        return "must not be empty";
    case HDF_EMAIL_TOO_LONG:
        return "exceeds 254 bytes";
    default:
        return "is not a valid email address (local@domain.tld, no spaces)";
    }
}
