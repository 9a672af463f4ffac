/*
 * cli_audit.c - `doorstep audit` (see cli_audit.h): parses the filters,
 * reads the audit log a page at a time (accounts/audit_query.h) and prints
 * each entry as it comes, so a huge log is never held in memory. Text
 * output replaces control characters (a hostile username from a failed
 * login) so nothing reaches the terminal as an escape sequence.
 * Single-threaded.
 */
#define LOG_MODULE "doorstep"

#include "cli/cli_audit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/audit_query.h"
#include "storage/database.h"

struct cli_audit_output {
    bool csv;
    int64_t left; /* entries still to print; -1 = no limit */
    char line[AUDIT_CSV_LINE_MAX];
};

/*
 * A time for --since/--until into *ms_out: "7d", "24h", "30m" (that long
 * before now), "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]" (local time), or ms
 * since the epoch. 0, or -1 if malformed.
 */
static int cli_audit_parse_time(const char *text, int64_t *ms_out)
{
    struct tm local;
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    int64_t unit = 0;

    if (end != text && value >= 0) {
        if (strcmp(end, "d") == 0)
            unit = 24LL * 60 * 60 * 1000;
        else if (strcmp(end, "h") == 0)
            unit = 60LL * 60 * 1000;
        else if (strcmp(end, "m") == 0)
            unit = 60LL * 1000;
        else if (*end == '\0' && value > 100000000000LL) {
            *ms_out = value; /* already ms since the epoch */
            return 0;
        }
        if (unit != 0) {
            *ms_out = database_now_ms() - value * unit;
            return 0;
        }
    }
    memset(&local, 0, sizeof(local));
    end = strptime(text, "%Y-%m-%d", &local);
    if (end != NULL && (*end == 'T' || *end == ' '))
        end = strptime(end + 1, "%H:%M", &local);
    if (end != NULL && *end == ':')
        end = strptime(end + 1, "%S", &local);
    if (end == NULL || *end != '\0')
        return -1;
    local.tm_isdst = -1;
    *ms_out = (int64_t)mktime(&local) * 1000;
    return 0;
}

/* Print text with control characters shown as '?'. */
static void cli_audit_print_clean(const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
        putchar(*c < 0x20 || *c == 0x7F ? '?' : *c);
}

/* audit_query_list callback: print one entry. */
static int cli_audit_print(const struct audit_entry *entry, void *data)
{
    struct cli_audit_output *output = data;
    time_t seconds = (time_t)(entry->at / 1000);
    struct tm local;
    char when[32];

    if (output->left == 0)
        return 1;
    if (output->left > 0)
        output->left--;
    if (output->csv) {
        if (audit_csv_line(entry, output->line, sizeof(output->line)) > 0)
            fputs(output->line, stdout);
        return 0;
    }
    if (localtime_r(&seconds, &local) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &local) == 0)
        snprintf(when, sizeof(when), "%lld", (long long)entry->at);
    printf("%s  ", when);
    cli_audit_print_clean(entry->username[0] ? entry->username : "-");
    printf("  %s", entry->action);
    if (entry->target[0]) {
        printf("  ");
        cli_audit_print_clean(entry->target);
    }
    if (entry->detail[0]) {
        printf("  ");
        cli_audit_print_clean(entry->detail);
    }
    if (entry->remote_address[0]) {
        printf("  (");
        cli_audit_print_clean(entry->remote_address);
        printf(")");
    }
    putchar('\n');
    return 0;
}

int cli_audit(sqlite3 *db, int argc, char **argv)
{
    struct audit_filter filter;
    struct cli_audit_output *output = calloc(1, sizeof(*output));
    int64_t last_id = 0;
    int count, rc = 2;

    memset(&filter, 0, sizeof(filter));
    if (output == NULL)
        return 1;
    output->left = -1;
    for (int i = 0; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;

        if (strcmp(argv[i], "--csv") == 0) {
            output->csv = true;
            continue;
        }
        if (value == NULL) {
            fprintf(stderr, "doorstep: audit: %s needs a value\n", argv[i]);
            goto out;
        }
        if (strcmp(argv[i], "--user") == 0)
            ok = snprintf(filter.user, sizeof(filter.user), "%s", value) < (int)sizeof(filter.user);
        else if (strcmp(argv[i], "--device") == 0)
            ok = snprintf(filter.target, sizeof(filter.target), "%s", value) <
                 (int)sizeof(filter.target);
        else if (strcmp(argv[i], "--action") == 0)
            ok = audit_filter_add_actions(&filter, value) == 0;
        else if (strcmp(argv[i], "--since") == 0)
            ok = cli_audit_parse_time(value, &filter.from_ms) == 0;
        else if (strcmp(argv[i], "--until") == 0)
            ok = cli_audit_parse_time(value, &filter.to_ms) == 0;
        else if (strcmp(argv[i], "--limit") == 0) {
            char *end = NULL;
            output->left = strtoll(value, &end, 10);
            ok = *value != '\0' && *end == '\0' && output->left > 0;
        } else {
            fprintf(stderr, "doorstep: audit: unknown option %s (try --help)\n", argv[i]);
            goto out;
        }
        if (!ok) {
            fprintf(stderr, "doorstep: audit: %s %s is not usable\n", argv[i], value);
            goto out;
        }
        i++;
    }
    if (output->csv)
        fputs(audit_csv_header, stdout);
    do {
        count =
            audit_query_list(db, &filter, AUDIT_QUERY_PAGE_MAX, cli_audit_print, output, &last_id);
        filter.before_id = last_id;
    } while (count == AUDIT_QUERY_PAGE_MAX && output->left != 0);
    if (count < 0) {
        fprintf(stderr, "doorstep: cannot read the audit log\n");
        rc = 1;
        goto out;
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    free(output);
    return rc;
}
