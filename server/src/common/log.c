/*
 * log.c: JSON lines on stdout (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "common/util.h"

static enum hdf_log_level min_level = HDF_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum hdf_log_level level)
{
    min_level = level;
}

int log_enabled(enum hdf_log_level level)
{
    return level >= min_level;
}

void log_escape(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *s != '\0' && o + 7 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, outsz - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    utf8_truncate(out, o);
}

/* Request lines are most of the log. A worker thread gathers its own and writes them once per
 * event-loop iteration (log_flush) instead of one write(2) per request. A write never exceeds
 * PIPE_BUF, so lines of different threads never interleave on a pipe; other lines flush the
 * thread's buffer first, keeping its order. */
#define LOG_BATCH_MAX 4096
static __thread char batch[LOG_BATCH_MAX];
static __thread size_t batch_len;
static __thread int batching;

void log_batch_start(void)
{
    batching = 1;
}

void log_flush(void)
{
    if (batch_len == 0)
        return;
    ssize_t r = write(STDOUT_FILENO, batch, batch_len);
    (void)r; /* nowhere better to report a failed log write */
    batch_len = 0;
}

static void write_line(char *buf, size_t len, size_t cap)
{
    log_flush();
    if (len >= cap - 1)
        len = cap - 2;
    buf[len++] = '\n';
    ssize_t r = write(STDOUT_FILENO, buf, len);
    (void)r; /* nowhere better to report a failed log write */
}

void log_line(enum hdf_log_level level, const char *msg, const char *extra_fmt, ...)
{
    if (!log_enabled(level))
        return;
    char ts[HDF_TIME_BUFSZ], extra[1536] = "", buf[2048];
    time_format_ms(time_now_ms(), ts);
    if (extra_fmt != NULL) {
        va_list ap;
        va_start(ap, extra_fmt);
        vsnprintf(extra, sizeof(extra), extra_fmt, ap);
        va_end(ap);
    }
    int n = snprintf(buf, sizeof(buf), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"%s%s}", ts, level_names[level], msg,
                     extra[0] != '\0' ? "," : "", extra);
    write_line(buf, n < 0 ? 0 : (size_t)n, sizeof(buf));
}

size_t log_format_request(const struct hdf_request_log *r, char *buf, size_t bufsz)
{
    char ts[HDF_TIME_BUFSZ], key[24];
    time_format_ms(time_now_ms(), ts);
    if (r->key_id > 0)
        snprintf(key, sizeof(key), "%lld", (long long)r->key_id);
    else
        strlcpy(key, "null", sizeof(key));
    /* request_id is either generated or passed request_id_is_sane: no escaping needed. */
    int n = snprintf(buf, bufsz,
                     "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":\"%s\",\"key_id\":%s,"
                     "\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f}",
                     ts, r->request_id, key, r->method, r->route, r->status, r->duration_ms);
    if (n < 0)
        return 0;
    return (size_t)n < bufsz ? (size_t)n : bufsz - 1;
}

void log_request(const struct hdf_request_log *r)
{
    if (!log_enabled(HDF_LOG_INFO))
        return;
    char buf[512];
    size_t n = log_format_request(r, buf, sizeof(buf));
    if (!batching) {
        write_line(buf, n, sizeof(buf));
        return;
    }
    if (batch_len + n + 1 > LOG_BATCH_MAX)
        log_flush();
    memcpy(batch + batch_len, buf, n);
    batch[batch_len + n] = '\n';
    batch_len += n + 1;
}
