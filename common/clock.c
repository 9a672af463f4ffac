/*
 * clock.c - monotonic and wall-clock time in milliseconds, microseconds and
 * nanoseconds, and condition-variable deadlines (see clock.h).
 *
 * Threads: any; no state. Ownership: nothing is allocated.
 */
#include "common/clock.h"

static const int64_t clock_nanoseconds_per_second = 1000000000;

/* See clock.h. */
int64_t clock_timespec_ns(const struct timespec *time)
{
    return (int64_t)time->tv_sec * clock_nanoseconds_per_second + time->tv_nsec;
}

/* See clock.h. */
int64_t clock_monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return clock_timespec_ns(&now);
}

/* Wall-clock time in nanoseconds since the epoch (what the _ms and _us
 * forms divide). */
static int64_t clock_realtime_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return clock_timespec_ns(&now);
}

/* See clock.h. */
int64_t clock_monotonic_us(void)
{
    return clock_monotonic_ns() / 1000;
}

/* See clock.h. */
int64_t clock_monotonic_ms(void)
{
    return clock_monotonic_ns() / 1000000;
}

/* See clock.h. */
int64_t clock_realtime_ms(void)
{
    return clock_realtime_ns() / 1000000;
}

/* See clock.h. */
uint64_t clock_realtime_us(void)
{
    return (uint64_t)(clock_realtime_ns() / 1000);
}

/* See clock.h. */
void clock_deadline_ms(clockid_t clock, int64_t milliseconds, struct timespec *deadline)
{
    clock_gettime(clock, deadline);
    deadline->tv_sec += (time_t)(milliseconds / 1000);
    deadline->tv_nsec += (long)(milliseconds % 1000) * 1000000L;
    if (deadline->tv_nsec >= clock_nanoseconds_per_second) {
        deadline->tv_sec++;
        deadline->tv_nsec -= clock_nanoseconds_per_second;
    }
}
