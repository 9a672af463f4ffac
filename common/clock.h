/*
 * clock.h - the time, read the same way by the hub and the doorbell:
 * CLOCK_MONOTONIC (never jumps; for intervals, timeouts and pacing) and
 * CLOCK_REALTIME (Unix time; for what is stored, sent or shown), in the
 * unit each caller counts in, and deadlines for pthread_cond_timedwait.
 *
 * Threads: any; no state. Ownership: nothing is allocated.
 */
#ifndef DOORSTEP_CLOCK_H
#define DOORSTEP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in milliseconds, microseconds or nanoseconds. */
int64_t clock_monotonic_ms(void);
int64_t clock_monotonic_us(void);
int64_t clock_monotonic_ns(void);

/* CLOCK_REALTIME now: Unix time in milliseconds or microseconds. */
int64_t clock_realtime_ms(void);
uint64_t clock_realtime_us(void);

/* A timespec (of any clock) in nanoseconds. */
int64_t clock_timespec_ns(const struct timespec *time);

/* *deadline = now on clock (CLOCK_MONOTONIC or CLOCK_REALTIME, the one the
 * condition variable waits on) plus milliseconds, normalised. */
void clock_deadline_ms(clockid_t clock, int64_t milliseconds, struct timespec *deadline);

#endif
