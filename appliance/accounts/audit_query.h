/*
 * audit_query.h - reading the audit log back: entries matching a filter
 * (who, which actions, which target, a time range), newest first, a page at
 * a time behind an id cursor; how many match; and one entry as a CSV line
 * (RFC 4180 quoting, spreadsheet formulas neutralised). Used by
 * GET /api/v1/audit(.csv) and `doorstep audit`.
 *
 * Any thread may call these with its own SQLite connection; nothing here
 * keeps state.
 */
#ifndef DOORSTEP_AUDIT_QUERY_H
#define DOORSTEP_AUDIT_QUERY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts/audit.h"

#define AUDIT_QUERY_ACTIONS_MAX 32  /* actions in one filter */
#define AUDIT_QUERY_NAME_MAX    64  /* an action name or a username */
#define AUDIT_QUERY_PAGE_MAX    500 /* entries in one page */
#define AUDIT_CSV_LINE_MAX      (6 * (2 * AUDIT_FIELD_MAX + 4) + 64)

/* What to read; zero-initialised = everything. */
struct audit_filter {
    char user[AUDIT_QUERY_NAME_MAX + 1]; /* username (any case) or user id; "" = anyone */
    char actions[AUDIT_QUERY_ACTIONS_MAX][AUDIT_QUERY_NAME_MAX + 1];
    int action_count;                 /* 0 = any action */
    char target[AUDIT_FIELD_MAX + 1]; /* exact target (a doorbell id...); "" = any */
    int64_t from_ms;                  /* at >= from_ms; 0 = no bound */
    int64_t to_ms;                    /* at <= to_ms; 0 = no bound */
    int64_t before_id;                /* id < before_id (the paging cursor); 0 = newest */
};

/* One row of audit_log. */
struct audit_entry {
    int64_t id;
    int64_t at;      /* ms since the epoch */
    int64_t user_id; /* 0 for the system or an unknown user */
    char username[AUDIT_FIELD_MAX + 1];
    char action[AUDIT_FIELD_MAX + 1];
    char target[AUDIT_FIELD_MAX + 1];
    char detail[AUDIT_FIELD_MAX + 1];
    char remote_address[AUDIT_FIELD_MAX + 1];
};

/* Called once per entry; return non-zero to stop. */
typedef int (*audit_entry_callback)(const struct audit_entry *entry, void *data);

/*
 * Add a comma-separated list of action names ("login,login_failed") to
 * filter->actions. 0, or -1 if a name is empty, too long or not
 * [a-z0-9_], or there are more than AUDIT_QUERY_ACTIONS_MAX.
 */
int audit_filter_add_actions(struct audit_filter *filter, const char *list);

/*
 * Call callback for at most limit (1..AUDIT_QUERY_PAGE_MAX + 1: one more than
 * a page tells whether a next page exists) entries matching
 * filter, newest (highest id) first. Returns how many were handed over, or
 * -1 on a database failure (logged). *last_id_out (may be NULL) gets the id
 * of the last entry handed over (the next page's before_id), 0 if none.
 */
int audit_query_list(sqlite3 *db, const struct audit_filter *filter, int limit,
                     audit_entry_callback callback, void *data, int64_t *last_id_out);

/* How many entries match filter, its before_id ignored; -1 on failure. */
int64_t audit_query_count(sqlite3 *db, const struct audit_filter *filter);

/* The CSV header line: "id,time,at_ms,user,action,target,detail,address\r\n". */
extern const char audit_csv_header[];

/*
 * Write entry as one CSV line ending in CRLF into out (size bytes, at least
 * AUDIT_CSV_LINE_MAX for any entry). Text cells that start with = + - @,
 * a tab or a carriage return get a leading ' so a spreadsheet does not run
 * them; cells with a comma, quote or line break are quoted with quotes
 * doubled. Returns the length, or 0 if out is too small.
 */
size_t audit_csv_line(const struct audit_entry *entry, char *out, size_t size);

#endif
