/*
 * routes_audit.c - reading the audit log (admins only): GET /api/v1/audit
 * (JSON, a page at a time, newest first, behind an id cursor) and
 * GET /api/v1/audit.csv (the same filters, every matching entry as a CSV
 * download, read and sent a page at a time so a huge log never sits in
 * memory). Filters: user (name or id), action (one or a comma list), device
 * (the target), from and to (ms since the epoch, inclusive); paging: limit
 * (1..500, default 100) and before (an id). A CSV export is itself audited.
 *
 * civetweb worker threads; the router has checked the admin role.
 */
#define LOG_MODULE "auth"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/audit.h"
#include "accounts/audit_query.h"
#include "civetweb.h"
#include "common/log.h"
#include "http/routes.h"
#include "storage/database.h"

#define ROUTES_AUDIT_DEFAULT_LIMIT 100
#define ROUTES_AUDIT_ACTIONS_TEXT  (AUDIT_QUERY_ACTIONS_MAX * (AUDIT_QUERY_NAME_MAX + 1))

/* A text query parameter into out; "" when absent. -1 if too long. */
static int routes_audit_query_text(const struct http_request *request, const char *name, char *out,
                                   size_t size)
{
    int length;

    out[0] = '\0';
    if (request->query == NULL)
        return 0;
    length = mg_get_var(request->query, strlen(request->query), name, out, size);
    if (length == -2) /* the buffer is too small */
        return -1;
    if (length < 0)
        out[0] = '\0';
    return 0;
}

/* Fill filter and *limit from the query string. 0, or -1 after a 400. */
static int routes_audit_parse(struct http_request *request, struct audit_filter *filter,
                              int64_t *limit)
{
    char actions[ROUTES_AUDIT_ACTIONS_TEXT];

    memset(filter, 0, sizeof(*filter));
    if (routes_audit_query_text(request, "user", filter->user, sizeof(filter->user)) != 0 ||
        routes_audit_query_text(request, "device", filter->target, sizeof(filter->target)) != 0 ||
        routes_audit_query_text(request, "action", actions, sizeof(actions)) != 0) {
        http_send_error(request, 400, "invalid", "a filter is too long");
        return -1;
    }
    if (audit_filter_add_actions(filter, actions) != 0) {
        http_send_error(request, 400, "invalid",
                        "action: one action name or a comma-separated list of them");
        return -1;
    }
    if (routes_query_int64(request, "from", 0, &filter->from_ms) != 0 ||
        routes_query_int64(request, "to", 0, &filter->to_ms) != 0 ||
        routes_query_int64(request, "before", 0, &filter->before_id) != 0 ||
        routes_query_int64(request, "limit", ROUTES_AUDIT_DEFAULT_LIMIT, limit) != 0 ||
        *limit < 1 || *limit > AUDIT_QUERY_PAGE_MAX) {
        http_send_error(request, 400, "invalid",
                        "from, to and before are non-negative integers; limit is 1 to 500");
        return -1;
    }
    return 0;
}

/* One entry as the API's JSON object. Caller deletes. */
static cJSON *routes_audit_json(const struct audit_entry *entry)
{
    cJSON *item = cJSON_CreateObject();

    cJSON_AddNumberToObject(item, "id", (double)entry->id);
    cJSON_AddNumberToObject(item, "at", (double)entry->at);
    if (entry->user_id > 0)
        cJSON_AddNumberToObject(item, "user_id", (double)entry->user_id);
    else
        cJSON_AddNullToObject(item, "user_id");
    cJSON_AddStringToObject(item, "username", entry->username);
    cJSON_AddStringToObject(item, "action", entry->action);
    cJSON_AddStringToObject(item, "target", entry->target);
    cJSON_AddStringToObject(item, "detail", entry->detail);
    cJSON_AddStringToObject(item, "address", entry->remote_address);
    return item;
}

struct routes_audit_page {
    cJSON *array;
    int64_t wanted; /* entries to put in the page; one more only says there is a next */
    int64_t added;
    int64_t last_id;
};

/* audit_query_list callback for the JSON page. */
static int routes_audit_add(const struct audit_entry *entry, void *data)
{
    struct routes_audit_page *page = data;

    if (page->added == page->wanted)
        return 1; /* the one more: a next page exists */
    cJSON_AddItemToArray(page->array, routes_audit_json(entry));
    page->added++;
    page->last_id = entry->id;
    return 0;
}

/* GET /api/v1/audit: {"entries": [...], "next": id or null, "total": N}.
 * next is the before= of the following page; total counts every match. */
int routes_audit_list(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    struct audit_filter filter;
    struct routes_audit_page page = {0};
    int64_t limit, total;
    cJSON *body;
    int count, status;

    if (routes_audit_parse(request, &filter, &limit) != 0)
        return 400;
    body = cJSON_CreateObject();
    page.array = cJSON_AddArrayToObject(body, "entries");
    page.wanted = limit;
    count = audit_query_list(db, &filter, (int)limit + 1, routes_audit_add, &page, NULL);
    total = audit_query_count(db, &filter);
    if (count < 0 || total < 0) {
        cJSON_Delete(body);
        return http_send_error(request, 500, "internal", "database error");
    }
    if (count > page.added)
        cJSON_AddNumberToObject(body, "next", (double)page.last_id);
    else
        cJSON_AddNullToObject(body, "next");
    cJSON_AddNumberToObject(body, "total", (double)total);
    status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/* Lines are gathered into one write of up to this many bytes: one TLS record
 * per line would cost more than the query. */
#define ROUTES_AUDIT_CSV_BUFFER (64 * 1024)

struct routes_audit_csv_output {
    struct mg_connection *connection;
    bool chunked;
    bool failed; /* the client went away */
    size_t used; /* bytes waiting in buffer */
    char buffer[ROUTES_AUDIT_CSV_BUFFER];
    char line[AUDIT_CSV_LINE_MAX];
};

/* Send what waits in the buffer as part of the CSV body. */
static void routes_audit_csv_flush(struct routes_audit_csv_output *output)
{
    int sent;

    if (output->failed || output->used == 0)
        return;
    sent = output->chunked
               ? mg_send_chunk(output->connection, output->buffer, (unsigned int)output->used)
               : mg_write(output->connection, output->buffer, output->used);
    if (sent <= 0)
        output->failed = true;
    output->used = 0;
}

/* Add text (length bytes, at most AUDIT_CSV_LINE_MAX) to the body. */
static void routes_audit_csv_send(struct routes_audit_csv_output *output, const char *text,
                                  size_t length)
{
    if (output->used + length > sizeof(output->buffer))
        routes_audit_csv_flush(output);
    if (output->failed)
        return;
    memcpy(output->buffer + output->used, text, length);
    output->used += length;
}

/* audit_query_list callback for the CSV: one line. */
static int routes_audit_csv_add(const struct audit_entry *entry, void *data)
{
    struct routes_audit_csv_output *output = data;
    size_t length = audit_csv_line(entry, output->line, sizeof(output->line));

    routes_audit_csv_send(output, output->line, length);
    return output->failed ? 1 : 0;
}

/* GET /api/v1/audit.csv: every entry matching the filters (limit and before
 * are ignored but before still bounds the start), newest first, as
 * text/csv. Pages of AUDIT_QUERY_PAGE_MAX are read one after the other. */
int routes_audit_csv(struct http_request *request)
{
    static const char disposition[] = "attachment; filename=\"doorstep-audit-%Y%m%d-%H%M%S.csv\"";
    sqlite3 *db = database_thread_connection();
    const struct mg_request_info *info = mg_get_request_info(request->connection);
    struct routes_audit_csv_output *output;
    struct audit_filter filter;
    char detail[3 * AUDIT_FIELD_MAX], actions[AUDIT_FIELD_MAX], header[96];
    size_t used = 0;
    time_t now = time(NULL);
    struct tm utc;
    int64_t limit, last_id;
    int count;

    if (routes_audit_parse(request, &filter, &limit) != 0)
        return 400;
    output = calloc(1, sizeof(*output));
    if (output == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    output->connection = request->connection;
    output->chunked = info->http_version != NULL && strcmp(info->http_version, "1.1") == 0;

    actions[0] = '\0';
    for (int i = 0; i < filter.action_count && used < sizeof(actions); i++)
        used += (size_t)snprintf(actions + used, sizeof(actions) - used, "%s%s", i ? "," : "",
                                 filter.actions[i]);
    snprintf(detail, sizeof(detail), "user=%s;action=%s;device=%s;from=%lld;to=%lld", filter.user,
             actions, filter.target, (long long)filter.from_ms, (long long)filter.to_ms);
    audit_record(db, request->auth.user.id, request->auth.user.username, "audit_export", "", detail,
                 request->remote_address);

    http_response_begin(request->connection, 200, "text/csv; charset=utf-8", -1);
    if (gmtime_r(&now, &utc) == NULL || strftime(header, sizeof(header), disposition, &utc) == 0)
        snprintf(header, sizeof(header), "attachment; filename=\"doorstep-audit.csv\"");
    mg_response_header_add(request->connection, "Content-Disposition", header, -1);
    if (output->chunked)
        mg_response_header_add(request->connection, "Transfer-Encoding", "chunked", -1);
    else
        mg_disable_connection_keep_alive(request->connection); /* the close ends the body */
    mg_response_header_send(request->connection);

    routes_audit_csv_send(output, audit_csv_header, strlen(audit_csv_header));
    do {
        count = audit_query_list(db, &filter, AUDIT_QUERY_PAGE_MAX, routes_audit_csv_add, output,
                                 &last_id);
        filter.before_id = last_id;
    } while (count == AUDIT_QUERY_PAGE_MAX && !output->failed);
    if (count < 0)
        log_error("the audit CSV export stopped early: database error");
    routes_audit_csv_flush(output);
    if (output->chunked && !output->failed)
        mg_send_chunk(request->connection, "", 0); /* the last chunk */
    free(output);
    return 200;
}
