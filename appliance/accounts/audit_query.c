/*
 * audit_query.c - reading the audit log back and writing it as CSV (see
 * audit_query.h).
 *
 * Called from HTTP handler threads (GET /api/v1/audit, .csv) and the CLI,
 * each with its own SQLite connection. No state: every statement is built
 * from a fixed set of clauses and every value is a bound parameter.
 */
#define LOG_MODULE "accounts"

#include "accounts/audit_query.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

#define AUDIT_QUERY_SQL_MAX 2048

const char audit_csv_header[] = "id,time,at_ms,user,action,target,detail,address\r\n";

int audit_filter_add_actions(struct audit_filter *filter, const char *list)
{
    const char *start = list;

    assert(filter != NULL && list != NULL);
    while (*start != '\0') {
        const char *end = strchr(start, ',');
        size_t length = end != NULL ? (size_t)(end - start) : strlen(start);

        if (length == 0 || length > AUDIT_QUERY_NAME_MAX ||
            filter->action_count >= AUDIT_QUERY_ACTIONS_MAX)
            return -1;
        for (size_t i = 0; i < length; i++) {
            char c = start[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                return -1;
        }
        memcpy(filter->actions[filter->action_count], start, length);
        filter->actions[filter->action_count][length] = '\0';
        filter->action_count++;
        if (end == NULL)
            break;
        start = end + 1;
        if (*start == '\0')
            return -1; /* a trailing comma */
    }
    return 0;
}

/* True if text is a positive decimal integer that fits an int64. */
static bool audit_query_is_id(const char *text, int64_t *id_out)
{
    char *end = NULL;
    long long value;

    if (text[0] < '0' || text[0] > '9')
        return false;
    value = strtoll(text, &end, 10);
    if (*end != '\0' || value <= 0)
        return false;
    *id_out = value;
    return true;
}

/*
 * Append the WHERE clause for filter to sql (size bytes) and bind its values
 * later with audit_query_bind(), which walks the same order. with_cursor adds
 * the before_id bound. -1 if sql is too small.
 */
static int audit_query_where(const struct audit_filter *filter, bool with_cursor, char *sql,
                             size_t size)
{
    size_t used = strlen(sql);
    int length;

#define AUDIT_APPEND(...)                                                                          \
    do {                                                                                           \
        length = snprintf(sql + used, size - used, __VA_ARGS__);                                   \
        if (length < 0 || (size_t)length >= size - used)                                           \
            return -1;                                                                             \
        used += (size_t)length;                                                                    \
    } while (0)

    AUDIT_APPEND(" WHERE 1");
    if (filter->user[0] != '\0')
        AUDIT_APPEND(" AND (username = ? COLLATE NOCASE OR user_id = ?)");
    if (filter->action_count > 0) {
        AUDIT_APPEND(" AND action IN (");
        for (int i = 0; i < filter->action_count; i++)
            AUDIT_APPEND(i == 0 ? "?" : ", ?");
        AUDIT_APPEND(")");
    }
    if (filter->target[0] != '\0')
        AUDIT_APPEND(" AND target = ?");
    if (filter->from_ms > 0)
        AUDIT_APPEND(" AND at >= ?");
    if (filter->to_ms > 0)
        AUDIT_APPEND(" AND at <= ?");
    if (with_cursor && filter->before_id > 0)
        AUDIT_APPEND(" AND id < ?");
#undef AUDIT_APPEND
    return 0;
}

/* Bind the values of audit_query_where()'s clause, in its order; returns the
 * next free parameter index, or -1. */
static int audit_query_bind(sqlite3_stmt *statement, const struct audit_filter *filter,
                            bool with_cursor)
{
    int index = 1, rc = SQLITE_OK;
    int64_t id = -1;

    if (filter->user[0] != '\0') {
        if (!audit_query_is_id(filter->user, &id))
            id = -1;
        rc = sqlite3_bind_text(statement, index++, filter->user, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(statement, index++, id);
    }
    for (int i = 0; rc == SQLITE_OK && i < filter->action_count; i++)
        rc = sqlite3_bind_text(statement, index++, filter->actions[i], -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && filter->target[0] != '\0')
        rc = sqlite3_bind_text(statement, index++, filter->target, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && filter->from_ms > 0)
        rc = sqlite3_bind_int64(statement, index++, filter->from_ms);
    if (rc == SQLITE_OK && filter->to_ms > 0)
        rc = sqlite3_bind_int64(statement, index++, filter->to_ms);
    if (rc == SQLITE_OK && with_cursor && filter->before_id > 0)
        rc = sqlite3_bind_int64(statement, index++, filter->before_id);
    return rc == SQLITE_OK ? index : -1;
}

/* Copy text column column into out (AUDIT_FIELD_MAX + 1 bytes), cut. */
static void audit_query_copy(sqlite3_stmt *statement, int column, char out[AUDIT_FIELD_MAX + 1])
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    snprintf(out, AUDIT_FIELD_MAX + 1, "%s", text != NULL ? (const char *)text : "");
}

int audit_query_list(sqlite3 *db, const struct audit_filter *filter, int limit,
                     audit_entry_callback callback, void *data, int64_t *last_id_out)
{
    char sql[AUDIT_QUERY_SQL_MAX] = "SELECT id, at, user_id, username, action, target, detail, "
                                    "remote_address FROM audit_log";
    sqlite3_stmt *statement = NULL;
    struct audit_entry *entry = NULL;
    int count = -1, index, rc;
    int64_t last_id = 0;

    assert(db != NULL && filter != NULL && callback != NULL);
    if (limit < 1)
        limit = 1;
    if (limit > AUDIT_QUERY_PAGE_MAX + 1)
        limit = AUDIT_QUERY_PAGE_MAX + 1;
    entry = malloc(sizeof(*entry));
    if (entry == NULL)
        goto out;
    if (audit_query_where(filter, true, sql, sizeof(sql)) != 0 || strlen(sql) + 40 >= sizeof(sql)) {
        log_error("audit query too long");
        goto out;
    }
    strcat(sql, " ORDER BY id DESC LIMIT ?");
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        log_error("preparing the audit query: %s", sqlite3_errmsg(db));
        goto out;
    }
    index = audit_query_bind(statement, filter, true);
    if (index < 0 || sqlite3_bind_int(statement, index, limit) != SQLITE_OK) {
        log_error("binding the audit query: %s", sqlite3_errmsg(db));
        goto out;
    }
    count = 0;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        entry->id = sqlite3_column_int64(statement, 0);
        entry->at = sqlite3_column_int64(statement, 1);
        entry->user_id = sqlite3_column_int64(statement, 2); /* NULL reads as 0 */
        audit_query_copy(statement, 3, entry->username);
        audit_query_copy(statement, 4, entry->action);
        audit_query_copy(statement, 5, entry->target);
        audit_query_copy(statement, 6, entry->detail);
        audit_query_copy(statement, 7, entry->remote_address);
        last_id = entry->id;
        count++;
        if (callback(entry, data) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("reading the audit log: %s", sqlite3_errmsg(db));
        count = -1;
    }
out:
    sqlite3_finalize(statement);
    free(entry);
    if (last_id_out != NULL)
        *last_id_out = count > 0 ? last_id : 0;
    return count;
}

int64_t audit_query_count(sqlite3 *db, const struct audit_filter *filter)
{
    char sql[AUDIT_QUERY_SQL_MAX] = "SELECT count(*) FROM audit_log";
    sqlite3_stmt *statement = NULL;
    int64_t total = -1;

    assert(db != NULL && filter != NULL);
    if (audit_query_where(filter, false, sql, sizeof(sql)) != 0)
        goto out;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK ||
        audit_query_bind(statement, filter, false) < 0) {
        log_error("counting the audit log: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) == SQLITE_ROW)
        total = sqlite3_column_int64(statement, 0);
    else
        log_error("counting the audit log: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(statement);
    return total;
}

/* Append one CSV cell of text (see audit_csv_line) to out at *used; a comma
 * first unless first. false when out is too small. */
static bool audit_csv_cell(const char *text, bool first, char *out, size_t size, size_t *used)
{
    bool formula = text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                   text[0] == '\t' || text[0] == '\r';
    bool quote = strpbrk(text, ",\"\r\n") != NULL;
    size_t need = strlen(text) * 2 + 5;

    if (*used + need >= size)
        return false;
    if (!first)
        out[(*used)++] = ',';
    if (quote)
        out[(*used)++] = '"';
    if (formula)
        out[(*used)++] = '\'';
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '"')
            out[(*used)++] = '"';
        out[(*used)++] = *c;
    }
    if (quote)
        out[(*used)++] = '"';
    out[*used] = '\0';
    return true;
}

size_t audit_csv_line(const struct audit_entry *entry, char *out, size_t size)
{
    char number[32], time_text[40];
    time_t seconds = (time_t)(entry->at / 1000);
    struct tm utc;
    size_t used = 0;
    bool fits;

    if (size == 0)
        return 0;
    out[0] = '\0';
    if (gmtime_r(&seconds, &utc) == NULL ||
        strftime(time_text, sizeof(time_text), "%Y-%m-%dT%H:%M:%S", &utc) == 0)
        time_text[0] = '\0';
    else
        snprintf(time_text + strlen(time_text), sizeof(time_text) - strlen(time_text), ".%03dZ",
                 (int)(entry->at % 1000));
    snprintf(number, sizeof(number), "%lld", (long long)entry->id);
    fits = audit_csv_cell(number, true, out, size, &used);
    fits = fits && audit_csv_cell(time_text, false, out, size, &used);
    snprintf(number, sizeof(number), "%lld", (long long)entry->at);
    fits = fits && audit_csv_cell(number, false, out, size, &used);
    fits = fits && audit_csv_cell(entry->username, false, out, size, &used);
    fits = fits && audit_csv_cell(entry->action, false, out, size, &used);
    fits = fits && audit_csv_cell(entry->target, false, out, size, &used);
    fits = fits && audit_csv_cell(entry->detail, false, out, size, &used);
    fits = fits && audit_csv_cell(entry->remote_address, false, out, size, &used);
    if (!fits || used + 3 > size) {
        out[0] = '\0';
        return 0;
    }
    memcpy(out + used, "\r\n", 3);
    return used + 2;
}
