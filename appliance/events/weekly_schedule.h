/*
 * weekly_schedule.h - a weekly time window in the hub's local time, as the
 * API writes it: {"days":[0..6, 0 = Sunday],"from":"HH:MM","to":"HH:MM"},
 * or the hours of the week one by one (the web UI's week grid):
 * {"hours":[7 numbers, Sunday first]}, each a 24-bit mask whose bit h is
 * the hour from h:00 to h+1:00 of that day.
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
    int by_hour;       /* 1: hours below decides, not days/from/to */
    unsigned hours[7]; /* per weekday, bit h = hour h */
};

#define WEEKLY_SCHEDULE_ALL_HOURS 0xFFFFFFu

/*
 * Parse a schedule object {"days":[0..6,...],"from":"HH:MM","to":"HH:MM"}
 * or {"hours":[m0..m6]} (JSON text). 0, or -1 with a sentence in error. ""
 * means always.
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
