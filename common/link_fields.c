/*
 * link_fields.c - field-level rules for the device-link JSON payloads (see
 * link_fields.h): reading typed members with presence and range checks,
 * validating text and ids, rounding numbers to the form cJSON prints
 * exactly, and the generic parser and builder that walk a payload's field
 * table (link_layout_parse, link_layout_build). Pure functions on constant
 * tables; any thread. Builders return trees the caller deletes.
 */
#include "common/error_text.h"
#include "common/link_fields.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/link_protocol.h"

/* Write "field: problem" into error if the caller gave a buffer; returns -1. */
int link_field_error(char *error, size_t error_size, const char *field, const char *problem)
{
    if (error != NULL && error_size > 0)
        error_text_set(error, error_size, "%s: %s", field, problem);
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

/* ---- field tables ----------------------------------------------------------- */

/* Give every optional number and boolean of a table its value when absent
 * (the struct is zeroed already, so only non-zero ones are written). */
static void link_fields_initial(const struct link_field *fields, size_t count, void *out)
{
    for (size_t i = 0; i < count; i++) {
        const struct link_field *field = &fields[i];
        unsigned char *member = (unsigned char *)out + field->offset;
        if (field->presence != LINK_FIELD_OPTIONAL || field->initial == 0)
            continue;
        if (field->type == LINK_FIELD_INT || field->type == LINK_FIELD_BOOL)
            *(int *)member = (int)field->initial;
        else if (field->type == LINK_FIELD_NUMBER)
            *(double *)member = field->initial;
    }
}

static int link_fields_parse(const struct link_field *fields, size_t count, const cJSON *json,
                             void *out, char *error, size_t error_size);

/* Parse an array field: at most max_count objects, each by its table and
 * then its element rules. */
static int link_fields_parse_array(const struct link_field *field, const cJSON *json, void *out,
                                   char *error, size_t error_size)
{
    const struct link_field_array *array = field->array;
    int *element_count = (int *)((unsigned char *)out + array->count_offset);
    const cJSON *items, *item;

    if (link_json_member(json, field->key, field->presence, &items, error, error_size) != 0)
        return -1;
    if (items == NULL)
        return 0;
    if (!cJSON_IsArray(items))
        return link_field_error(error, error_size, field->key, "not an array");
    cJSON_ArrayForEach(item, items)
    {
        void *element;
        if (*element_count >= array->max_count)
            return link_field_error(error, error_size, field->key, array->too_many);
        if (!cJSON_IsObject(item))
            return link_field_error(error, error_size, field->key, "entry is not an object");
        element =
            (unsigned char *)out + field->offset + (size_t)*element_count * array->element_size;
        if (link_fields_parse(array->fields, array->field_count, item, element, error,
                              error_size) != 0 ||
            array->check(element, error, error_size) != 0)
            return -1;
        (*element_count)++;
    }
    return 0;
}

/* Read a wire name into a buffer of field->size bytes; "" (and 0) when absent. */
static int link_fields_parse_name(const struct link_field *field, const cJSON *json, char *name,
                                  char *error, size_t error_size)
{
    assert(field->size > 0 && field->size <= LINK_TEXT_MAX);
    name[0] = '\0';
    return link_json_string(json, field->key, field->presence, name, field->size, error,
                            error_size);
}

/* 1 if a table entry's member has the size its type reads and writes (a
 * wrong table is a programming error: asserted in debug builds). */
static int link_field_size_matches(const struct link_field *field)
{
    switch (field->type) {
    case LINK_FIELD_INT:
    case LINK_FIELD_BOOL:
        return field->size == sizeof(int);
    case LINK_FIELD_UINT32:
        return field->size == sizeof(uint32_t);
    case LINK_FIELD_UINT64:
        return field->size == sizeof(uint64_t);
    case LINK_FIELD_NUMBER:
        return field->size == sizeof(double);
    case LINK_FIELD_OBJECT:
        return field->size == sizeof(const cJSON *);
    case LINK_FIELD_TEXT:
    case LINK_FIELD_EVENT_TYPE:
    case LINK_FIELD_COMMAND_TYPE:
        return field->size > 0;
    case LINK_FIELD_ARRAY:
        return field->array != NULL &&
               field->size == (size_t)field->array->max_count * field->array->element_size;
    }
    return 0;
}

/* Read one field of json into its member of out; 0 or -1 with reason. */
static int link_fields_parse_one(const struct link_field *field, const cJSON *json, void *out,
                                 char *error, size_t error_size)
{
    unsigned char *member = (unsigned char *)out + field->offset;
    char name[LINK_TEXT_MAX];
    int64_t integer;

    assert(link_field_size_matches(field));
    switch (field->type) {
    case LINK_FIELD_TEXT:
        return link_json_string(json, field->key, field->presence, (char *)member, field->size,
                                error, error_size);
    case LINK_FIELD_INT:
        return link_json_int(json, field->key, field->presence, (int)field->min, (int)field->max,
                             (int *)member, error, error_size);
    case LINK_FIELD_UINT32:
        return link_json_uint32(json, field->key, field->presence, (uint32_t *)member, error,
                                error_size);
    case LINK_FIELD_UINT64:
        integer = (int64_t) * (uint64_t *)member;
        if (link_json_integer(json, field->key, field->presence, field->min, field->max, &integer,
                              error, error_size) != 0)
            return -1;
        *(uint64_t *)member = (uint64_t)integer;
        return 0;
    case LINK_FIELD_NUMBER:
        return link_json_number(json, field->key, field->presence, field->min, field->max,
                                (double *)member, error, error_size);
    case LINK_FIELD_BOOL:
        return link_json_bool(json, field->key, field->presence, (int *)member, error, error_size);
    case LINK_FIELD_OBJECT:
        return link_json_object(json, field->key, field->presence, (const cJSON **)member, error,
                                error_size);
    case LINK_FIELD_EVENT_TYPE:
        if (link_fields_parse_name(field, json, name, error, error_size) != 0)
            return -1;
        if (name[0] == '\0' && field->presence == LINK_FIELD_OPTIONAL)
            return 0;
        if (link_event_type_from_name(name, (enum link_event_type *)member) != 0)
            return link_field_error(error, error_size, field->key, "unknown event type");
        return 0;
    case LINK_FIELD_COMMAND_TYPE:
        if (link_fields_parse_name(field, json, name, error, error_size) != 0)
            return -1;
        if (name[0] == '\0' && field->presence == LINK_FIELD_OPTIONAL)
            return 0;
        if (link_command_type_from_name(name, (enum link_command_type *)member) != 0)
            return link_field_error(error, error_size, field->key, "unknown command");
        return 0;
    case LINK_FIELD_ARRAY:
        return link_fields_parse_array(field, json, out, error, error_size);
    }
    return link_field_error(error, error_size, field->key, "unknown field type");
}

/* Read every field of a table, in order, after giving the optional ones
 * their values for when they are absent; 0 or -1 with the first reason. */
static int link_fields_parse(const struct link_field *fields, size_t count, const cJSON *json,
                             void *out, char *error, size_t error_size)
{
    link_fields_initial(fields, count, out);
    for (size_t i = 0; i < count; i++)
        if (link_fields_parse_one(&fields[i], json, out, error, error_size) != 0)
            return -1;
    return 0;
}

/*
 * The generic parser: zero *out (layout->struct_size bytes), read the
 * layout's fields and then its variant fields, then apply its rules. 0, or
 * -1 with a reason naming the field (never echoing input). OBJECT fields are
 * borrowed from json. Any thread.
 */
int link_layout_parse(const struct link_layout *layout, const cJSON *json, void *out, char *error,
                      size_t error_size)
{
    const struct link_field *variant = NULL;
    size_t variant_count = 0;

    if (link_parse_begin(json, out, layout->struct_size, error, error_size) != 0 ||
        link_fields_parse(layout->fields, layout->field_count, json, out, error, error_size) != 0)
        return -1;
    if (layout->variant != NULL) {
        variant = layout->variant(out, &variant_count);
        if (variant == NULL)
            return link_field_error(error, error_size, layout->fields[0].key, "unknown");
        if (link_fields_parse(variant, variant_count, json, out, error, error_size) != 0)
            return -1;
    }
    return layout->check(out, error, error_size);
}

/* Round every number of a table (and of its arrays' elements) to the form
 * cJSON prints exactly, in place. */
static void link_fields_canonical(const struct link_field *fields, size_t count, void *inout)
{
    for (size_t i = 0; i < count; i++) {
        const struct link_field *field = &fields[i];
        unsigned char *member = (unsigned char *)inout + field->offset;
        if (field->type == LINK_FIELD_NUMBER) {
            *(double *)member = link_number_canonical(*(double *)member);
        } else if (field->type == LINK_FIELD_ARRAY) {
            const struct link_field_array *array = field->array;
            int elements = *(const int *)((unsigned char *)inout + array->count_offset);
            for (int index = 0; index < elements && index < array->max_count; index++)
                link_fields_canonical(array->fields, array->field_count,
                                      member + (size_t)index * array->element_size);
        }
    }
}

static int link_fields_build(const struct link_field *fields, size_t count, const void *in,
                             cJSON *json);

/* Add an array field: every counted element as an object (the rules have
 * checked the count). -1 if out of memory. */
static int link_fields_build_array(const struct link_field *field, const void *in, cJSON *json)
{
    const struct link_field_array *array = field->array;
    int elements = *(const int *)((const unsigned char *)in + array->count_offset);
    cJSON *items = cJSON_AddArrayToObject(json, field->key);

    if (items == NULL)
        return -1;
    for (int index = 0; index < elements; index++) {
        const unsigned char *element =
            (const unsigned char *)in + field->offset + (size_t)index * array->element_size;
        cJSON *item = cJSON_CreateObject();
        if (item == NULL)
            return -1;
        if (!cJSON_AddItemToArray(items, item)) {
            cJSON_Delete(item);
            return -1;
        }
        if (link_fields_build(array->fields, array->field_count, element, item) != 0)
            return -1;
    }
    return 0;
}

/* Add an object field: a copy of the borrowed tree, {} if NULL. -1 if out of memory. */
static int link_fields_build_object(const struct link_field *field, const cJSON *object,
                                    cJSON *json)
{
    cJSON *copy = object != NULL ? cJSON_Duplicate(object, 1) : cJSON_CreateObject();

    if (copy == NULL)
        return -1;
    if (!cJSON_AddItemToObject(json, field->key, copy)) {
        cJSON_Delete(copy);
        return -1;
    }
    return 0;
}

/* Add one field of in to json; -1 if out of memory. */
static int link_fields_build_one(const struct link_field *field, const void *in, cJSON *json)
{
    const unsigned char *member = (const unsigned char *)in + field->offset;
    const cJSON *added = NULL;

    switch (field->type) {
    case LINK_FIELD_TEXT:
        added = cJSON_AddStringToObject(json, field->key, (const char *)member);
        break;
    case LINK_FIELD_INT:
        added = cJSON_AddNumberToObject(json, field->key, *(const int *)member);
        break;
    case LINK_FIELD_UINT32:
        added = cJSON_AddNumberToObject(json, field->key, *(const uint32_t *)member);
        break;
    case LINK_FIELD_UINT64:
        added = cJSON_AddNumberToObject(json, field->key, (double)*(const uint64_t *)member);
        break;
    case LINK_FIELD_NUMBER:
        added = cJSON_AddNumberToObject(json, field->key, *(const double *)member);
        break;
    case LINK_FIELD_BOOL:
        added = cJSON_AddBoolToObject(json, field->key, *(const int *)member);
        break;
    case LINK_FIELD_OBJECT:
        return link_fields_build_object(field, *(const cJSON *const *)member, json);
    case LINK_FIELD_EVENT_TYPE:
        added = cJSON_AddStringToObject(
            json, field->key, link_event_type_name(*(const enum link_event_type *)member));
        break;
    case LINK_FIELD_COMMAND_TYPE:
        added = cJSON_AddStringToObject(
            json, field->key, link_command_type_name(*(const enum link_command_type *)member));
        break;
    case LINK_FIELD_ARRAY:
        return link_fields_build_array(field, in, json);
    }
    return added != NULL ? 0 : -1;
}

/* Add every field of a table to json, in order; -1 if out of memory. */
static int link_fields_build(const struct link_field *fields, size_t count, const void *in,
                             cJSON *json)
{
    for (size_t i = 0; i < count; i++)
        if (link_fields_build_one(&fields[i], in, json) != 0)
            return -1;
    return 0;
}

/*
 * The generic builder: copy *in, round its numbers to canonical form, apply
 * the layout's rules, and emit the layout's fields and then its variant
 * fields. Returns a new tree (the caller deletes it), or NULL if out of
 * memory or if the rules refuse the struct, so whatever is built parses back
 * to the same struct. Any thread.
 */
cJSON *link_layout_build(const struct link_layout *layout, const void *in)
{
    _Alignas(max_align_t) unsigned char copy[LINK_LAYOUT_MAX_STRUCT_SIZE];
    const struct link_field *variant = NULL;
    size_t variant_count = 0;
    cJSON *json;

    assert(in != NULL && layout->struct_size <= sizeof(copy));
    memcpy(copy, in, layout->struct_size);
    if (layout->variant != NULL) {
        variant = layout->variant(copy, &variant_count);
        if (variant == NULL)
            return NULL; /* a type without a table: the rules refuse it too */
        link_fields_canonical(variant, variant_count, copy);
    }
    link_fields_canonical(layout->fields, layout->field_count, copy);
    if (layout->check(copy, NULL, 0) != 0)
        return NULL;
    json = cJSON_CreateObject();
    if (json == NULL || link_fields_build(layout->fields, layout->field_count, copy, json) != 0 ||
        (variant != NULL && link_fields_build(variant, variant_count, copy, json) != 0)) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}
