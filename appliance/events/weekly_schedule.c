/*
 * weekly_schedule.c - weekly time windows (see weekly_schedule.h).
 */
#include "events/weekly_schedule.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/error_text.h"

/* "HH:MM" into minutes after midnight, or -1. */
static int weekly_schedule_time(const cJSON *item)
{
    const char *text = cJSON_IsString(item) ? item->valuestring : NULL;

    if (text == NULL || strlen(text) != 5 || text[2] != ':' || strspn(text, "0123456789:") != 5 ||
        strchr(text + 3, ':') != NULL)
        return -1;
    int hours = (text[0] - '0') * 10 + (text[1] - '0');
    int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    return hours < 24 && minutes < 60 ? hours * 60 + minutes : -1;
}

/* {"hours":[7 masks of 24 bits]} into out. 0 or -1. */
static int weekly_schedule_parse_hours(const cJSON *root, struct weekly_schedule *out)
{
    const cJSON *hours = cJSON_GetObjectItemCaseSensitive(root, "hours"), *member;
    int day = 0;

    if (cJSON_GetArraySize(root) != 1 || !cJSON_IsArray(hours) || cJSON_GetArraySize(hours) != 7)
        return -1;
    cJSON_ArrayForEach(member, hours)
    {
        if (!cJSON_IsNumber(member) || member->valuedouble < 0 ||
            member->valuedouble > (double)WEEKLY_SCHEDULE_ALL_HOURS ||
            member->valuedouble != (double)(long)member->valuedouble)
            return -1;
        out->hours[day++] = (unsigned)member->valuedouble;
    }
    out->set = 1;
    out->by_hour = 1;
    return 0;
}

int weekly_schedule_parse(const char *json, struct weekly_schedule *out, char *error,
                          size_t error_size)
{
    cJSON *root = NULL;
    const cJSON *days, *member;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (json[0] == '\0')
        return 0;
    root = cJSON_Parse(json);
    if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "hours") != NULL) {
        rc = weekly_schedule_parse_hours(root, out);
        if (rc != 0)
            goto invalid;
        goto out;
    }
    days = cJSON_GetObjectItemCaseSensitive(root, "days");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(days) || cJSON_GetArraySize(days) < 1 ||
        cJSON_GetArraySize(days) > 7)
        goto invalid;
    cJSON_ArrayForEach(member, root)
    {
        if (member->string == NULL ||
            (strcmp(member->string, "days") != 0 && strcmp(member->string, "from") != 0 &&
             strcmp(member->string, "to") != 0))
            goto invalid;
    }
    cJSON_ArrayForEach(member, days)
    {
        if (!cJSON_IsNumber(member) || member->valuedouble < 0 || member->valuedouble > 6 ||
            member->valuedouble != (double)(int)member->valuedouble)
            goto invalid;
        out->days |= 1u << (int)member->valuedouble;
    }
    out->from_minute = weekly_schedule_time(cJSON_GetObjectItemCaseSensitive(root, "from"));
    out->to_minute = weekly_schedule_time(cJSON_GetObjectItemCaseSensitive(root, "to"));
    if (out->from_minute < 0 || out->to_minute < 0)
        goto invalid;
    out->set = 1;
    rc = 0;
    goto out;
invalid:
    memset(out, 0, sizeof(*out));
    error_text_set(error, error_size,
                   "schedule: {\"days\":[0..6, 0 = Sunday],\"from\":\"HH:MM\",\"to\":\"HH:MM\"} "
                   "or {\"hours\":[7 masks of 24 bits, Sunday first]} in the hub's local time, "
                   "or null");
out:
    cJSON_Delete(root);
    return rc;
}

void weekly_schedule_format(const struct weekly_schedule *schedule, char *out, size_t out_size)
{
    size_t used;

    if (!schedule->set) {
        snprintf(out, out_size, "%s", "");
        return;
    }
    if (schedule->by_hour) {
        snprintf(out, out_size, "{\"hours\":[%u,%u,%u,%u,%u,%u,%u]}", schedule->hours[0],
                 schedule->hours[1], schedule->hours[2], schedule->hours[3], schedule->hours[4],
                 schedule->hours[5], schedule->hours[6]);
        return;
    }
    used = (size_t)snprintf(out, out_size, "{\"days\":[");
    for (int day = 0, first = 1; day < 7 && used < out_size; day++) {
        if (schedule->days & (1u << day)) {
            used += (size_t)snprintf(out + used, out_size - used, "%s%d", first ? "" : ",", day);
            first = 0;
        }
    }
    if (used < out_size)
        snprintf(out + used, out_size - used, "],\"from\":\"%02d:%02d\",\"to\":\"%02d:%02d\"}",
                 schedule->from_minute / 60, schedule->from_minute % 60, schedule->to_minute / 60,
                 schedule->to_minute % 60);
}

int weekly_schedule_allows(const struct weekly_schedule *schedule, int weekday, int minute)
{
    int yesterday = (weekday + 6) % 7;

    if (!schedule->set)
        return 1;
    if (schedule->by_hour)
        return weekday >= 0 && weekday < 7 && minute >= 0 && minute < 24 * 60 &&
               ((schedule->hours[weekday] >> (minute / 60)) & 1u);
    if (schedule->from_minute == schedule->to_minute)
        return (schedule->days >> weekday) & 1u;
    if (schedule->from_minute < schedule->to_minute)
        return ((schedule->days >> weekday) & 1u) && minute >= schedule->from_minute &&
               minute < schedule->to_minute;
    /* Past midnight: the evening part is today's window, the morning part
     * belongs to the window that started yesterday. */
    if (minute >= schedule->from_minute)
        return (schedule->days >> weekday) & 1u;
    return minute < schedule->to_minute && ((schedule->days >> yesterday) & 1u);
}

int weekly_schedule_allows_at(const struct weekly_schedule *schedule, int64_t time_ms)
{
    time_t seconds = (time_t)(time_ms / 1000);
    struct tm local;

    if (!schedule->set || localtime_r(&seconds, &local) == NULL)
        return 1;
    return weekly_schedule_allows(schedule, local.tm_wday, local.tm_hour * 60 + local.tm_min);
}
