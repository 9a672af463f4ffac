/*
 * test_log_limit.c - cmocka tests of the log's rate limit: the table
 * (log_limit.c) driven with made-up times, and log_message() itself with
 * stderr redirected to a temporary file: a message logged 1000 times comes
 * out as its burst and one summary, whatever thread logs it.
 *
 * Single-threaded except the last test's four logging threads. The stderr
 * test restores file descriptor 2 and removes its file.
 */
/* clang-format off */
/*
 * UNIT_SOURCES: tests/unit/support/test_files.c
 */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/log_limit.h"
#include "support/test_files.h"

#define LOG_MODULE "test"

/* Admit `text` n times at now_ms; returns how many may print. */
static int admit_many(struct log_limit *limit, const char *text, int n, int64_t now_ms)
{
    struct log_limit_summary evicted;
    int evicted_count = 0, printed = 0;
    for (int i = 0; i < n; i++) {
        printed +=
            log_limit_admit(limit, LOG_LEVEL_WARN, "audio", text, now_ms, &evicted, &evicted_count);
        assert_int_equal(evicted_count, 0);
    }
    return printed;
}

/* 1000 identical lines in a window: the burst prints, the rest is one summary. */
static void test_burst_then_summary(void **state)
{
    (void)state;
    struct log_limit limit;
    struct log_limit_summary summaries[4];
    log_limit_init(&limit, 5, 1000);

    assert_int_equal(admit_many(&limit, "invalid frames 0", 1000, 100), 5);
    assert_int_equal(log_limit_expire(&limit, 1099, summaries, 4), 0); /* window still open */
    assert_int_equal(log_limit_expire(&limit, 1100, summaries, 4), 1);
    assert_int_equal(summaries[0].suppressed, 995);
    assert_int_equal(summaries[0].level, LOG_LEVEL_WARN);
    assert_string_equal(summaries[0].module, "audio");
    assert_string_equal(summaries[0].text, "invalid frames 0");
    assert_int_equal(summaries[0].window_ms, 1000);
    /* Summed up once; the next window starts afresh with a full burst. */
    assert_int_equal(log_limit_expire(&limit, 5000, summaries, 4), 0);
    assert_int_equal(admit_many(&limit, "invalid frames 0", 7, 5000), 5);
}

/* Digits do not make a message new; other words, modules or levels do. */
static void test_grouping(void **state)
{
    (void)state;
    struct log_limit limit;
    struct log_limit_summary evicted, summaries[4];
    int evicted_count;
    char text[64];
    log_limit_init(&limit, 3, 1000);

    int printed = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "capture overrun (%d so far)", i * 37);
        printed +=
            log_limit_admit(&limit, LOG_LEVEL_WARN, "audio", text, 0, &evicted, &evicted_count);
    }
    assert_int_equal(printed, 3);
    assert_int_equal(admit_many(&limit, "capture overrun", 1, 0), 1); /* no digits: other text */
    assert_int_equal(log_limit_admit(&limit, LOG_LEVEL_WARN, "link", "capture overrun (1 so far)",
                                     0, &evicted, &evicted_count),
                     1);
    assert_int_equal(log_limit_admit(&limit, LOG_LEVEL_INFO, "audio", "capture overrun (1 so far)",
                                     0, &evicted, &evicted_count),
                     1);
    assert_int_equal(log_limit_expire(&limit, 1000, summaries, 4), 1);
    assert_int_equal(summaries[0].suppressed, 97);
    assert_string_equal(summaries[0].text, "capture overrun (3663 so far)");
}

/* More groups than slots: the oldest active group makes room, summed up. */
static void test_table_full(void **state)
{
    (void)state;
    struct log_limit limit;
    struct log_limit_summary evicted;
    int evicted_count = 0;
    log_limit_init(&limit, 1, 1000);

    assert_int_equal(admit_many(&limit, "first", 4, 0), 1); /* 3 suppressed */
    for (int i = 0; i < LOG_LIMIT_SLOTS - 1; i++) {
        char text[32];
        snprintf(text, sizeof(text), "group %c%c", 'a' + i % 26, 'a' + i / 26);
        assert_int_equal(
            log_limit_admit(&limit, LOG_LEVEL_INFO, "m", text, 10 + i, &evicted, &evicted_count),
            1);
        assert_int_equal(evicted_count, 0);
    }
    /* The table is full: a new group takes the oldest slot ("first"). */
    assert_int_equal(
        log_limit_admit(&limit, LOG_LEVEL_INFO, "m", "newcomer", 500, &evicted, &evicted_count), 1);
    assert_int_equal(evicted_count, 1);
    assert_int_equal(evicted.suppressed, 3);
    assert_string_equal(evicted.text, "first");
    assert_int_equal(evicted.window_ms, 500);
}

/* Summaries beyond `max` wait for the next call instead of being lost. */
static void test_expire_max(void **state)
{
    (void)state;
    struct log_limit limit;
    struct log_limit_summary summaries[2];
    log_limit_init(&limit, 1, 1000);
    assert_int_equal(admit_many(&limit, "one", 2, 0), 1);
    assert_int_equal(admit_many(&limit, "two", 2, 0), 1);
    assert_int_equal(admit_many(&limit, "three", 2, 0), 1);
    assert_int_equal(log_limit_expire(&limit, 2000, summaries, 2), 2);
    assert_int_equal(log_limit_expire(&limit, 2000, summaries, 2), 1);
    assert_int_equal(log_limit_expire(&limit, 2000, summaries, 2), 0);
}

/* What a logging thread logs: the same warning 250 times. */
static void *log_a_lot(void *argument)
{
    (void)argument;
    for (int i = 0; i < 250; i++)
        log_warn("alsa-lib pcm.c:3349 (snd_pcm_areas_copy): invalid frames 0");
    return NULL;
}

/* Count the lines of a file holding `needle`. */
static int count_lines(const char *text, const char *needle)
{
    int count = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        if (memmem(line, length, needle, strlen(needle)) != NULL)
            count++;
        line = end != NULL ? end + 1 : NULL;
    }
    return count;
}

/* log_message end to end: 4 threads x 250 identical lines print the burst
 * (10), then, with the next line after the window, one summary of 990. */
static void test_log_message(void **state)
{
    (void)state;
    char path[] = "/tmp/doorstep-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);

    log_set_rate_limit(10, 300);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, log_a_lot, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    /* The window is over after 300 ms of CLOCK_MONOTONIC: wait that long. */
    struct timespec pause = {0, 350 * 1000000L};
    nanosleep(&pause, NULL);
    log_warn("something else");
    log_set_rate_limit(0, 0);

    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    close(fd);
    size_t size = 0;
    char *text = test_read_file(path, &size);
    unlink(path);
    char *copy = calloc(1, size + 1);
    assert_non_null(copy);
    memcpy(copy, text, size);
    print_message("%s", copy);
    assert_int_equal(count_lines(copy, "invalid frames 0"), 11);
    assert_int_equal(count_lines(copy, "990 similar lines suppressed in 1 s; the last: alsa-lib"),
                     1);
    assert_int_equal(count_lines(copy, "something else"), 1);
    free(copy);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_summary), cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_table_full),         cmocka_unit_test(test_expire_max),
        cmocka_unit_test(test_log_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
