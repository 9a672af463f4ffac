/*
 * log.c - levelled logging to stderr (see log.h).
 *
 * Thread-safe: the threshold is an atomic int, each line is formatted into a
 * stack buffer and emitted with a single write(2), and the rate limit's
 * table (log_limit.h) is guarded by log_limit_lock, held only to look the
 * message up, never while writing.
 */
#include "common/log.h"
#include "common/mutex.h"

#include <pthread.h>
#include <stdint.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log_limit.h"

#define LOG_LINE_SIZE 2048

static atomic_int log_threshold = LOG_LEVEL_INFO;

static pthread_mutex_t log_limit_lock = MUTEX_INITIALIZER;
static struct log_limit log_limit_table; /* guarded by log_limit_lock */
static int log_limit_ready;              /* guarded by log_limit_lock */

static const char *const log_level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
/* syslog priorities for journald: err, warning, info, debug */
static const int log_syslog_priority[] = {3, 4, 6, 7};

void log_set_level(enum log_level level)
{
    atomic_store(&log_threshold, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_threshold);
}

int log_parse_level(const char *text, enum log_level *level_out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *level_out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Format and write one line: prefix, text, newline, in one write(2). */
static void log_write_line(enum log_level level, const char *module, const char *text)
{
    char line[LOG_LINE_SIZE];
    size_t used = 0;
    int written;

    if (getenv("JOURNAL_STREAM") != NULL) {
        written = snprintf(line, sizeof(line), "<%d>%s: ", log_syslog_priority[level], module);
    } else {
        struct timespec now;
        struct tm utc;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &utc);
        written = snprintf(line, sizeof(line),
                           "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", utc.tm_year + 1900,
                           utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                           now.tv_nsec / 1000000L, log_level_names[level], module);
    }
    if (written > 0)
        used = (size_t)written < sizeof(line) ? (size_t)written : sizeof(line) - 1;
    written = snprintf(line + used, sizeof(line) - used, "%s", text);
    if (written > 0)
        used += (size_t)written < sizeof(line) - used ? (size_t)written : sizeof(line) - used - 1;

    /* Keep one line per message even if the text held newlines or was cut. */
    for (size_t i = 0; i < used; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (used >= sizeof(line) - 1)
        used = sizeof(line) - 2;
    line[used++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, used);
    (void)ignored;
}

/* Print a group's summary at the level of its lines. */
static void log_write_summary(const struct log_limit_summary *summary)
{
    char text[LOG_LIMIT_TEXT_SIZE + 96];
    snprintf(text, sizeof(text), "%llu similar lines suppressed in %lld s; the last: %s",
             (unsigned long long)summary->suppressed,
             (long long)((summary->window_ms + 999) / 1000), summary->text);
    log_write_line((enum log_level)summary->level, summary->module, text);
}

/* See log.h. */
void log_set_rate_limit(unsigned burst, int window_ms)
{
    pthread_mutex_lock(&log_limit_lock);
    log_limit_init(&log_limit_table, burst, window_ms);
    log_limit_ready = 1;
    pthread_mutex_unlock(&log_limit_lock);
}

/* See log.h. */
void log_message(enum log_level level, const char *module, const char *format, ...)
{
    char text[LOG_LINE_SIZE];
    struct log_limit_summary summaries[4], evicted;
    size_t summary_count;
    int evicted_count = 0, admitted;
    va_list args;

    if ((int)level > atomic_load(&log_threshold))
        return;
    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);

    pthread_mutex_lock(&log_limit_lock);
    if (!log_limit_ready) {
        log_limit_init(&log_limit_table, 0, 0);
        log_limit_ready = 1;
    }
    int64_t now = clock_monotonic_ms();
    summary_count = log_limit_expire(&log_limit_table, now, summaries,
                                     sizeof(summaries) / sizeof(summaries[0]));
    admitted =
        log_limit_admit(&log_limit_table, (int)level, module, text, now, &evicted, &evicted_count);
    pthread_mutex_unlock(&log_limit_lock);

    for (size_t i = 0; i < summary_count; i++)
        log_write_summary(&summaries[i]);
    if (evicted_count > 0)
        log_write_summary(&evicted);
    if (admitted)
        log_write_line(level, module, text);
}
