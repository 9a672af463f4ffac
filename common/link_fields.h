/*
 * link_fields.h - the field-level rules shared by the device-link JSON
 * parsers and builders (link_messages.c): typed member readers with range
 * checks, text and identifier validators, canonical number rounding.
 * Internal to common/. Pure functions; any thread.
 */
#ifndef DOORSTEP_LINK_FIELDS_H
#define DOORSTEP_LINK_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/*
 * cJSON 1.7 prints a number with 15 significant digits ("%1.15g") and keeps
 * that text if it reads back within an epsilon, so only integers below 10^15
 * and doubles already rounded to 15 digits survive print and parse unchanged.
 * Parsers and builders therefore round doubles to 15 digits (canonical form).
 */
#define LINK_JSON_MAX_EXACT_INTEGER 999999999999999.0
#define LINK_JSON_MAX_EXACT_UINT    UINT64_C(999999999999999)
#define LINK_BOX_EPSILON            1e-9 /* slack for x + w <= 1 after float rounding */

#define LINK_BITRATE_MIN_KBPS 50
#define LINK_BITRATE_MAX_KBPS 20000
#define LINK_WIDTH_MIN        160
#define LINK_WIDTH_MAX        3840
#define LINK_HEIGHT_MIN       90
#define LINK_HEIGHT_MAX       2160
#define LINK_FPS_MAX          60

enum link_field_presence {
    LINK_FIELD_OPTIONAL,
    LINK_FIELD_REQUIRED,
};

/* Each function is documented above its definition in link_fields.c. */
int link_field_error(char *error, size_t error_size, const char *field, const char *problem);
int link_parse_begin(const cJSON *json, void *out, size_t out_size, char *error, size_t error_size);
int link_text_fits(const char *text, size_t buffer_size);
int link_text_is_safe(const char *text, size_t buffer_size);
int link_device_id_is_valid(const char *text, size_t buffer_size);
int link_error_code_is_valid(const char *text);
int link_video_format_check(int width, int height, int fps, char *error, size_t error_size);
int link_settings_is_valid(const cJSON *settings);
int link_add_settings(cJSON *json, const cJSON *settings);
double link_number_canonical(double value);
int link_json_member(const cJSON *json, const char *field, enum link_field_presence presence,
                     const cJSON **item_out, char *error, size_t error_size);
int link_json_number(const cJSON *json, const char *field, enum link_field_presence presence,
                     double min, double max, double *out, char *error, size_t error_size);
int link_json_integer(const cJSON *json, const char *field, enum link_field_presence presence,
                      double min, double max, int64_t *out, char *error, size_t error_size);
int link_json_int(const cJSON *json, const char *field, enum link_field_presence presence, int min,
                  int max, int *out, char *error, size_t error_size);
int link_json_uint32(const cJSON *json, const char *field, enum link_field_presence presence,
                     uint32_t *out, char *error, size_t error_size);
int link_json_bool(const cJSON *json, const char *field, enum link_field_presence presence,
                   int *out, char *error, size_t error_size);
int link_json_string(const cJSON *json, const char *field, enum link_field_presence presence,
                     char *out, size_t out_size, char *error, size_t error_size);
int link_json_object(const cJSON *json, const char *field, enum link_field_presence presence,
                     const cJSON **out, char *error, size_t error_size);

#endif
