/*
 * link_fields.c - field-level rules for the device-link JSON payloads (see
 * link_fields.h): reading typed members with presence and range checks,
 * validating text and ids, and rounding numbers to the form
 * cJSON prints exactly. Pure functions; any thread.
 */
#include "common/link_fields.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/link_protocol.h"

/* Write "field: problem" into error if the caller gave a buffer; returns -1. */
int link_field_error(char *error, size_t error_size, const char *field, const char *problem)
{
    if (error != NULL && error_size > 0)
        snprintf(error, error_size, "%s: %s", field, problem);
    return -1;
}

/* Start a parse: zero the caller's struct and error; -1 unless json is an object. */
int link_parse_begin(const cJSON *json, void *out, size_t out_size, char *error, size_t error_size)
{
    assert(out != NULL);
    memset(out, 0, out_size);
    if (error != NULL && error_size > 0)
        error[0] = '\0';
    if (!cJSON_IsObject(json))
        return link_field_error(error, error_size, "payload", "not a JSON object");
    return 0;
}

/* ---- field rules ---------------------------------------------------------- */

/* 1 if text is NUL-terminated within buffer_size and not longer than that allows. */
int link_text_fits(const char *text, size_t buffer_size)
{
    return strnlen(text, buffer_size) < buffer_size;
}

/* 1 if text fits, is valid UTF-8 and holds no control characters (safe to log and show). */
int link_text_is_safe(const char *text, size_t buffer_size)
{
    size_t length;

    if (!link_text_fits(text, buffer_size))
        return 0;
    length = strlen(text);
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)text[i];
        if (byte < 0x20 || byte == 0x7f)
            return 0;
    }
    return link_utf8_is_valid((const uint8_t *)text, length);
}

/* 1 if every byte of a non-empty text within buffer_size is in [A-Za-z0-9_-]. */
int link_device_id_is_valid(const char *text, size_t buffer_size)
{
    size_t length = strnlen(text, buffer_size);

    if (length == 0 || length >= buffer_size)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* 1 if a LINK_ERROR code is [a-z0-9_]{1,63}. */
int link_error_code_is_valid(const char *text)
{
    size_t length = strnlen(text, LINK_ERROR_CODE_MAX);

    if (length == 0 || length >= LINK_ERROR_CODE_MAX)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Check a video format: 0 means unknown/unchanged; width and height go together. */
int link_video_format_check(int width, int height, int fps, char *error, size_t error_size)
{
    if (width != 0 && (width < LINK_WIDTH_MIN || width > LINK_WIDTH_MAX || width % 2 != 0))
        return link_field_error(error, error_size, "width", "must be 0 or even 160..3840");
    if (height != 0 && (height < LINK_HEIGHT_MIN || height > LINK_HEIGHT_MAX || height % 2 != 0))
        return link_field_error(error, error_size, "height", "must be 0 or even 90..2160");
    if ((width == 0) != (height == 0))
        return link_field_error(error, error_size, "width", "width and height must both be set");
    if (fps < 0 || fps > LINK_FPS_MAX)
        return link_field_error(error, error_size, "fps", "must be 0..60");
    return 0;
}

/* 1 if settings is absent or a JSON object. */
int link_settings_is_valid(const cJSON *settings)
{
    return settings == NULL || cJSON_IsObject(settings);
}

/* Add "settings": a copy of settings, or {} if NULL; -1 if out of memory. */
int link_add_settings(cJSON *json, const cJSON *settings)
{
    cJSON *copy = settings != NULL ? cJSON_Duplicate(settings, 1) : cJSON_CreateObject();

    if (copy == NULL)
        return -1;
    if (!cJSON_AddItemToObject(json, "settings", copy)) {
        cJSON_Delete(copy);
        return -1;
    }
    return 0;
}

/* ---- JSON field extraction -------------------------------------------------- */

/* Round to 15 significant digits, the form cJSON prints exactly; -0 becomes +0. */
double link_number_canonical(double value)
{
    char text[40];

    if (!isfinite(value))
        return value;
    snprintf(text, sizeof(text), "%.15g", value);
    return strtod(text, NULL) + 0.0;
}

/* Find a member of an object; a missing required one is an error. */
int link_json_member(const cJSON *json, const char *field, enum link_field_presence presence,
                     const cJSON **item_out, char *error, size_t error_size)
{
    *item_out = cJSON_GetObjectItemCaseSensitive(json, field);
    if (*item_out == NULL && presence == LINK_FIELD_REQUIRED)
        return link_field_error(error, error_size, field, "missing");
    return 0;
}

/* Read a finite number in [min, max]; an absent optional field leaves *out alone. */
int link_json_number(const cJSON *json, const char *field, enum link_field_presence presence,
                     double min, double max, double *out, char *error, size_t error_size)
{
    const cJSON *item;
    double value;

    if (link_json_member(json, field, presence, &item, error, error_size) != 0)
        return -1;
    if (item == NULL)
        return 0;
    if (!cJSON_IsNumber(item))
        return link_field_error(error, error_size, field, "not a number");
    value = link_number_canonical(item->valuedouble);
    if (!isfinite(value) || value < min || value > max)
        return link_field_error(error, error_size, field, "out of range");
    *out = value;
    return 0;
}

/* Read an integral number in [min, max] (both below 10^15 in magnitude). */
int link_json_integer(const cJSON *json, const char *field, enum link_field_presence presence,
                      double min, double max, int64_t *out, char *error, size_t error_size)
{
    double value = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, field);

    assert(min >= -LINK_JSON_MAX_EXACT_INTEGER && max <= LINK_JSON_MAX_EXACT_INTEGER);
    if (link_json_number(json, field, presence, min, max, &value, error, error_size) != 0)
        return -1;
    if (item == NULL)
        return 0;
    if (value != floor(value))
        return link_field_error(error, error_size, field, "not an integer");
    *out = (int64_t)value;
    return 0;
}

/* Read an int in [min, max]; an absent optional field leaves *out alone. */
int link_json_int(const cJSON *json, const char *field, enum link_field_presence presence, int min,
                  int max, int *out, char *error, size_t error_size)
{
    int64_t value = *out;

    if (link_json_integer(json, field, presence, min, max, &value, error, error_size) != 0)
        return -1;
    *out = (int)value;
    return 0;
}

/* Read a uint32 (0..2^32-1); an absent optional field leaves *out alone. */
int link_json_uint32(const cJSON *json, const char *field, enum link_field_presence presence,
                     uint32_t *out, char *error, size_t error_size)
{
    int64_t value = *out;

    if (link_json_integer(json, field, presence, 0, (double)UINT32_MAX, &value, error,
                          error_size) != 0)
        return -1;
    *out = (uint32_t)value;
    return 0;
}

/* Read a JSON boolean as 0/1; an absent optional field leaves *out alone. */
int link_json_bool(const cJSON *json, const char *field, enum link_field_presence presence,
                   int *out, char *error, size_t error_size)
{
    const cJSON *item;

    if (link_json_member(json, field, presence, &item, error, error_size) != 0)
        return -1;
    if (item == NULL)
        return 0;
    if (!cJSON_IsBool(item))
        return link_field_error(error, error_size, field, "not a boolean");
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return 0;
}

/* Copy a string member into out (out_size bytes); too long is an error, never truncated.
 * An absent optional field leaves out alone. */
int link_json_string(const cJSON *json, const char *field, enum link_field_presence presence,
                     char *out, size_t out_size, char *error, size_t error_size)
{
    const cJSON *item;
    size_t length;

    assert(out_size > 0);
    if (link_json_member(json, field, presence, &item, error, error_size) != 0)
        return -1;
    if (item == NULL)
        return 0;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return link_field_error(error, error_size, field, "not a string");
    length = strnlen(item->valuestring, out_size);
    if (length >= out_size)
        return link_field_error(error, error_size, field, "too long");
    memcpy(out, item->valuestring, length + 1);
    return 0;
}

/* Borrow an object member (e.g. "settings"); an absent optional field gives NULL. */
int link_json_object(const cJSON *json, const char *field, enum link_field_presence presence,
                     const cJSON **out, char *error, size_t error_size)
{
    const cJSON *item;

    if (link_json_member(json, field, presence, &item, error, error_size) != 0)
        return -1;
    if (item != NULL && !cJSON_IsObject(item))
        return link_field_error(error, error_size, field, "not an object");
    *out = item;
    return 0;
}

/* ---- hello ------------------------------------------------------------------ */
