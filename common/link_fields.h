/*
 * link_fields.h - the field-level rules shared by the device-link JSON
 * parsers and builders (link_messages.c): typed member readers with range
 * checks, text and identifier validators, canonical number rounding, and the
 * field tables with the generic parser and builder that walk them.
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

/*
 * Field tables: one table per JSON payload describes each field (its JSON
 * key, its type, whether it is required, the range a parser accepts, where it
 * lives in the struct), and one generic parser and one generic builder walk
 * it (link_layout_parse, link_layout_build). Fields are read and written in
 * table order, which is therefore the order of keys on the wire and of the
 * checks a parser makes. Rules across fields, and rules both directions
 * share, stay in the layout's check function.
 */
enum link_field_type {
    LINK_FIELD_TEXT,         /* char[size]; too long is an error, never truncated */
    LINK_FIELD_INT,          /* int, an integer in [min, max] */
    LINK_FIELD_UINT32,       /* uint32_t, 0..2^32-1 */
    LINK_FIELD_UINT64,       /* uint64_t, an integer in [min, max] (max below 10^15) */
    LINK_FIELD_NUMBER,       /* double in [min, max], canonical (link_number_canonical) */
    LINK_FIELD_BOOL,         /* int 0/1 from a JSON boolean */
    LINK_FIELD_OBJECT,       /* const cJSON *, borrowed on parse, copied on build ({} if NULL) */
    LINK_FIELD_EVENT_TYPE,   /* enum link_event_type by its wire name (size: name buffer) */
    LINK_FIELD_COMMAND_TYPE, /* enum link_command_type by its wire name (size: name buffer) */
    LINK_FIELD_ARRAY,        /* elements of `array` at offset, their count at count_offset */
};

struct link_field_array;

struct link_field {
    const char *key;
    enum link_field_type type;
    enum link_field_presence presence;
    size_t offset; /* of the member in the struct */
    size_t size;   /* LINK_FIELD_TEXT and the name types: the buffer a value must fit */
    double min, max;
    double initial;                       /* optional numbers and booleans: the value when absent */
    const struct link_field_array *array; /* LINK_FIELD_ARRAY only */
};

/* The elements of a LINK_FIELD_ARRAY: JSON objects described by a table. */
struct link_field_array {
    const struct link_field *fields;
    size_t field_count;
    size_t element_size;
    int max_count;
    size_t count_offset;  /* of the int that counts the elements */
    const char *too_many; /* the problem when there are more than max_count */
    /* Rules of one element, shared by parser and builder; 0 or -1 with reason. */
    int (*check)(const void *element, char *error, size_t error_size);
};

/* A whole payload: its fields, and its rules shared by parser and builder. */
struct link_layout {
    const struct link_field *fields;
    size_t field_count;
    size_t struct_size;
    int (*check)(const void *in, char *error, size_t error_size);
    /* Optional: more fields that depend on those already parsed (a command's
     * parameters); NULL when there are none. count_out receives their count. */
    const struct link_field *(*variant)(const void *in, size_t *count_out);
};

#define LINK_LAYOUT_MAX_STRUCT_SIZE 1024 /* the builder's working copy */

/* One table entry: member of struct type, JSON key, field type, presence,
 * range (numbers) and, for an optional number or boolean, its value when absent. */
#define LINK_FIELD(struct_name, member, key_text, field_type, field_presence, minimum, maximum,    \
                   when_absent)                                                                    \
    {                                                                                              \
        .key = (key_text), .type = (field_type), .presence = (field_presence),                     \
        .offset = offsetof(struct struct_name, member),                                            \
        .size = sizeof(((struct struct_name *)0)->member), .min = (minimum), .max = (maximum),     \
        .initial = (when_absent)                                                                   \
    }
#define LINK_REQUIRED(struct_name, member, field_type, minimum, maximum)                           \
    LINK_FIELD(struct_name, member, #member, field_type, LINK_FIELD_REQUIRED, minimum, maximum, 0)
#define LINK_OPTIONAL(struct_name, member, field_type, minimum, maximum, when_absent)              \
    LINK_FIELD(struct_name, member, #member, field_type, LINK_FIELD_OPTIONAL, minimum, maximum,    \
               when_absent)
#define LINK_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* Each function is documented above its definition in link_fields.c. */
int link_layout_parse(const struct link_layout *layout, const cJSON *json, void *out, char *error,
                      size_t error_size);
cJSON *link_layout_build(const struct link_layout *layout, const void *in);
int link_field_error(char *error, size_t error_size, const char *field, const char *problem);
int link_parse_begin(const cJSON *json, void *out, size_t out_size, char *error, size_t error_size);
int link_text_fits(const char *text, size_t buffer_size);
int link_text_is_safe(const char *text, size_t buffer_size);
int link_device_id_is_valid(const char *text, size_t buffer_size);
int link_error_code_is_valid(const char *text);
int link_video_format_check(int width, int height, int fps, char *error, size_t error_size);
int link_settings_is_valid(const cJSON *settings);
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
