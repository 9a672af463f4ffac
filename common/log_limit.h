/*
 * log_limit.h - the rate limit of log.c: no log line repeats unbounded.
 *
 * Messages are grouped by level, module and text with every run of digits
 * counted as one character, so "overrun (1 so far)" and "overrun (2 so far)"
 * are alike while different texts are not. Each group may print `burst`
 * lines per window of `window_ms`; the rest of the window's lines are
 * counted and, once the window is over, summed up in one summary line
 * ("N similar lines suppressed ..., the last: TEXT"). A table of
 * LOG_LIMIT_SLOTS groups is kept; when more are active the one whose window
 * started first is summed up early and makes room.
 *
 * Pure data structure: the caller passes the time and serialises the calls
 * (log.c holds a mutex); no I/O, no allocation.
 */
#ifndef DOORSTEP_LOG_LIMIT_H
#define DOORSTEP_LOG_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LIMIT_SLOTS          64
#define LOG_LIMIT_DEFAULT_BURST  10
#define LOG_LIMIT_DEFAULT_WINDOW 10000 /* ms */
#define LOG_LIMIT_TEXT_SIZE      240
#define LOG_LIMIT_MODULE_SIZE    24

/* One group's suppressed lines, to be printed as one line. */
struct log_limit_summary {
    int level;
    char module[LOG_LIMIT_MODULE_SIZE];
    uint64_t suppressed;            /* lines not printed */
    int64_t window_ms;              /* over this long */
    char text[LOG_LIMIT_TEXT_SIZE]; /* the last of them */
};

struct log_limit_slot {
    uint64_t key; /* 0 = free */
    int level;
    char module[LOG_LIMIT_MODULE_SIZE];
    int64_t window_start_ms;
    uint32_t printed;
    uint64_t suppressed;
    char text[LOG_LIMIT_TEXT_SIZE];
};

struct log_limit {
    uint32_t burst;
    int64_t window_ms;
    struct log_limit_slot slots[LOG_LIMIT_SLOTS];
};

/* Empty table with `burst` lines per `window_ms` per group (0: defaults). */
void log_limit_init(struct log_limit *limit, uint32_t burst, int64_t window_ms);

/* End the windows that are over at now_ms: groups with suppressed lines go
 * to summaries (at most max; the rest wait for the next call), the others
 * free their slot. Returns how many summaries were written. */
size_t log_limit_expire(struct log_limit *limit, int64_t now_ms,
                        struct log_limit_summary *summaries, size_t max);

/* Whether this message may be printed now (1) or is counted instead (0).
 * If a slot had to be taken from an active group with suppressed lines,
 * *evicted receives its summary and *evicted_count is 1 (else 0). */
int log_limit_admit(struct log_limit *limit, int level, const char *module, const char *text,
                    int64_t now_ms, struct log_limit_summary *evicted, int *evicted_count);

#endif
