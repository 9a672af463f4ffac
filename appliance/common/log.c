/*
 * log.c - levelled logging to stderr (see log.h).
 *
 * Thread-safe without a lock: the threshold is an atomic int and each line is
 * formatted into a stack buffer and emitted with a single write(2).
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_threshold = LOG_LEVEL_INFO;

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

void log_message(enum log_level level, const char *module, const char *format, ...)
{
    char line[2048];
    size_t used = 0;
    int written;
    va_list args;

    if ((int)level > atomic_load(&log_threshold))
        return;

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

    va_start(args, format);
    written = vsnprintf(line + used, sizeof(line) - used, format, args);
    va_end(args);
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
