/*
 * weekly_schedule.h - a weekly time window in the hub's local time, as the
 * API writes it: {"days":[0..6, 0 = Sunday],"from":"HH:MM","to":"HH:MM"}.
 * When notification targets are told, and when a doorbell's motion counts.
 * Pure functions; any thread.
 */
#ifndef DOORSTEP_WEEKLY_SCHEDULE_H
#define DOORSTEP_WEEKLY_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* On these weekdays (bit 0 = Sunday), from `from` to `to` minutes after
 * local midnight. A window with to < from runs past midnight and belongs to
 * the day it starts on; from == to is the whole day. */
struct weekly_schedule {
    int set;       /* 0: always */
    unsigned days; /* bit mask, bit d = weekday d (0 Sunday .. 6 Saturday) */
    int from_minute, to_minute;
};

/*
 * Parse a schedule object {"days":[0..6,...],"from":"HH:MM","to":"HH:MM"}
 * (JSON text). 0, or -1 with a sentence in error. "" means always.
 */
int weekly_schedule_parse(const char *json, struct weekly_schedule *out, char *error,
                          size_t error_size);

/* The normalised JSON text of a schedule ("" when not set). */
void weekly_schedule_format(const struct weekly_schedule *schedule, char *out, size_t out_size);

/* Does the schedule allow weekday (0 Sunday) at minute (0..1439) local time? */
int weekly_schedule_allows(const struct weekly_schedule *schedule, int weekday, int minute);

/* Does the schedule allow the instant time_ms (ms since the epoch), in the
 * hub's local time? An unset schedule allows everything. */
int weekly_schedule_allows_at(const struct weekly_schedule *schedule, int64_t time_ms);

#endif
