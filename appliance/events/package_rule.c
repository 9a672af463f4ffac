/*
 * package_rule.c - the person precondition of package events (see
 * package_rule.h): a pure rule, and the events table read that feeds it.
 *
 * Any thread; no state. Bound parameters only.
 */
#define LOG_MODULE "events"

#include "events/package_rule.h"

#include <stdio.h>

#include "common/error_text.h"
#include "common/log.h"

/* The rule (see header). */
int package_rule_keep(const struct package_rule_person *persons, int count, int64_t now_ms,
                      char *why, size_t why_size)
{
    int64_t newest_end = -1;

    for (int i = 0; i < count; i++) {
        const struct package_rule_person *person = &persons[i];
        if (person->start_ms > now_ms)
            continue; /* not yet: a clock step; it says nothing about now */
        if (person->active || person->end_ms >= now_ms - PACKAGE_RULE_WINDOW_MS)
            return 1;
        if (person->end_ms > newest_end)
            newest_end = person->end_ms;
    }
    if (newest_end < 0)
        error_text_set(why, why_size, "no person event on this doorbell");
    else
        error_text_set(why, why_size, "the last person event ended %lld s ago (more than %d s)",
                       (long long)((now_ms - newest_end) / 1000), PACKAGE_RULE_WINDOW_MS / 1000);
    return 0;
}

/* Read the newest person events, then apply the rule (see header). */
int package_rule_check(sqlite3 *db, const char *device_id, int64_t now_ms, char *why,
                       size_t why_size)
{
    struct package_rule_person persons[PACKAGE_RULE_HISTORY];
    sqlite3_stmt *statement = NULL;
    int count = 0, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT active, start_ms, end_ms FROM events WHERE device_id = ? AND "
                           "type = 'person' ORDER BY start_ms DESC, id DESC LIMIT ?",
                           -1, &statement, NULL) != SQLITE_OK) {
        log_error("reading person events: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 2, PACKAGE_RULE_HISTORY);
    while (count < PACKAGE_RULE_HISTORY && (step = sqlite3_step(statement)) == SQLITE_ROW) {
        persons[count].active = sqlite3_column_int(statement, 0);
        persons[count].start_ms = sqlite3_column_int64(statement, 1);
        persons[count].end_ms = sqlite3_column_int64(statement, 2);
        count++;
    }
    if (count < PACKAGE_RULE_HISTORY && step != SQLITE_DONE) {
        log_error("reading person events: %s", sqlite3_errmsg(db));
        sqlite3_finalize(statement);
        return -1;
    }
    sqlite3_finalize(statement);
    return package_rule_keep(persons, count, now_ms, why, why_size);
}
