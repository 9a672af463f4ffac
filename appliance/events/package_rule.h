/*
 * package_rule.h - whether the hub keeps a doorbell's package candidate
 * (package_delivered / package_taken from its package watch): only when a
 * person was at the door, i.e. that doorbell had a `person` event going on
 * or ended within the last PACKAGE_RULE_WINDOW_MS. A cat lying on the mat
 * is not a delivery.
 *
 * The rule is a pure function over the doorbell's stored person events, so
 * it is tested on a made-up history; package_rule_check() reads them from
 * the events table. Any thread, with its own SQLite connection.
 */
#ifndef DOORSTEP_PACKAGE_RULE_H
#define DOORSTEP_PACKAGE_RULE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define PACKAGE_RULE_WINDOW_MS 120000
#define PACKAGE_RULE_HISTORY   8 /* newest person events looked at */

/* One stored person event of the doorbell. */
struct package_rule_person {
    int active;
    int64_t start_ms, end_ms;
};

/* The rule: 1 keep (a person event active, or ended at or after
 * now_ms - PACKAGE_RULE_WINDOW_MS, and started by now_ms), 0 drop with the
 * reason in words in `why`. persons[] in any order. */
int package_rule_keep(const struct package_rule_person *persons, int count, int64_t now_ms,
                      char *why, size_t why_size);

/* The rule over device_id's newest PACKAGE_RULE_HISTORY person events in
 * the events table: 1 keep, 0 drop (why says why), -1 database error. */
int package_rule_check(sqlite3 *db, const char *device_id, int64_t now_ms, char *why,
                       size_t why_size);

#endif
