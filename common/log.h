/*
 * log.h - levelled logging to stderr, shared by doorstepd, doorstep and doorbelld.
 *
 * Any thread may log; each message is written with one write(2) so lines from
 * different threads never interleave. Under systemd (JOURNAL_STREAM set) lines
 * carry "<N>" syslog priority prefixes so journald keeps the level; otherwise
 * they start with an ISO-8601 UTC timestamp and the level name.
 *
 * No line repeats unbounded: messages alike (same level, module and text,
 * digits aside) print at most 10 lines per 10 s; the rest of such a window
 * is counted and summed up in one line ("N similar lines suppressed in 10 s;
 * the last: ...") printed with the next log line after the window
 * (log_limit.h).
 */
#ifndef DOORSTEP_LOG_H
#define DOORSTEP_LOG_H

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
};

/* Set the most verbose level that is printed (default: info). */
void log_set_level(enum log_level level);

/* Current threshold; lets callers skip building expensive debug output. */
enum log_level log_get_level(void);

/* Parse "error", "warn", "info" or "debug". Returns 0, or -1 if unknown. */
int log_parse_level(const char *text, enum log_level *level_out);

/* Change the rate limit: `burst` lines per `window_ms` for each group of
 * alike messages (0: the defaults, 10 per 10000 ms). Resets the counts. */
void log_set_rate_limit(unsigned burst, int window_ms);

/* Write one line: "<time> LEVEL module: message", unless the rate limit
 * holds it back (then it is counted). Never fails visibly. */
void log_message(enum log_level level, const char *module, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Each .c file defines LOG_MODULE ("http", "link", ...) before using these. */
#define log_error(...) log_message(LOG_LEVEL_ERROR, LOG_MODULE, __VA_ARGS__)
#define log_warn(...)  log_message(LOG_LEVEL_WARN, LOG_MODULE, __VA_ARGS__)
#define log_info(...)  log_message(LOG_LEVEL_INFO, LOG_MODULE, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_get_level() >= LOG_LEVEL_DEBUG)                                                    \
            log_message(LOG_LEVEL_DEBUG, LOG_MODULE, __VA_ARGS__);                                 \
    } while (0)

#endif
