/*
 * motion_config.c - motion detection settings (see motion_config.h): the
 * defaults, the JSON parser/validator with cJSON and its inverse, and
 * polygon rasterisation.
 *
 * Pure functions, any thread. The parser fills a caller-owned struct only
 * once everything validated, so a bad message never half-applies. The
 * rasteriser works one scan line at a time from the polygon's edges: no
 * allocation, which lets the doorbell's privacy blackout
 * (firmware/motion/motion_privacy.c) run on every frame before encoding.
 */
#include "common/motion_config.h"

#include <math.h>
#include <string.h>

#include "common/error_text.h"

#define MOTION_CONFIG_MIN_AREA_MIN   0.0005
#define MOTION_CONFIG_MIN_AREA_MAX   0.5
#define MOTION_CONFIG_MIN_FRAMES_MAX 30
#define MOTION_CONFIG_HOLD_S_MAX     60
#define MOTION_CONFIG_PACKAGE_S_MIN  2
#define MOTION_CONFIG_PACKAGE_S_MAX  60
#define MOTION_POLYGON_MIN_POINTS    3
#define MOTION_POLYGON_MIN_AREA      1e-6 /* of the frame: rejects collinear points */

static const char *const motion_sensitivity_names[] = {
    [MOTION_SENSITIVITY_LOW] = "low",
    [MOTION_SENSITIVITY_MEDIUM] = "medium",
    [MOTION_SENSITIVITY_HIGH] = "high",
};

static const char *const motion_mode_names[] = {
    [MOTION_MODE_PIR] = "pir",
    [MOTION_MODE_CV] = "cv",
    [MOTION_MODE_EITHER] = "either",
};

/* The defaults documented in motion_config.h. */
void motion_config_defaults(struct motion_config *config)
{
    memset(config, 0, sizeof(*config));
    config->sensitivity = MOTION_SENSITIVITY_MEDIUM;
    config->mode = MOTION_MODE_CV;
    config->min_area = 0.003;
    config->min_frames = 3;
    config->hold_ms = 2000;
    config->package_still_ms = 10000;
}

/* Index of `text` in a table of names, or -1. */
static int motion_config_name_index(const char *text, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(text, names[i]) == 0)
            return i;
    return -1;
}

/* A number member in [low, high]: 0 with *out set (untouched if absent),
 * -1 with a reason. */
static int motion_config_number(const cJSON *json, const char *key, double low, double high,
                                double *out, char *error, size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
    if (item == NULL)
        return 0;
    if (!cJSON_IsNumber(item)) {
        error_text_set(error, error_size, "%s must be a number", key);
        return -1;
    }
    double value = item->valuedouble;
    if (!isfinite(value) || value < low || value > high) {
        error_text_set(error, error_size, "%s must be between %g and %g", key, low, high);
        return -1;
    }
    *out = value;
    return 0;
}

/* An integer member in [low, high], same contract as motion_config_number(). */
static int motion_config_integer(const cJSON *json, const char *key, int low, int high, int *out,
                                 char *error, size_t error_size)
{
    double value = *out;
    if (motion_config_number(json, key, low, high, &value, error, error_size) != 0)
        return -1;
    if (value != floor(value)) {
        error_text_set(error, error_size, "%s must be a whole number", key);
        return -1;
    }
    *out = (int)value;
    return 0;
}

/* A string member naming one of `names`: 0 with *out set (untouched if
 * absent), -1 with a reason. */
static int motion_config_enum(const cJSON *json, const char *key, const char *const *names,
                              int count, int *out, char *error, size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
    if (item == NULL)
        return 0;
    int index =
        cJSON_IsString(item) ? motion_config_name_index(item->valuestring, names, count) : -1;
    if (index < 0) {
        error_text_set(error, error_size, "%s must be one of %s, %s, %s", key, names[0], names[1],
                       names[2]);
        return -1;
    }
    *out = index;
    return 0;
}

/* Twice the signed area of a polygon (shoelace formula). */
static double motion_polygon_area2(const struct motion_polygon *polygon)
{
    double sum = 0.0;
    for (int i = 0; i < polygon->point_count; i++) {
        const struct motion_point *a = &polygon->points[i];
        const struct motion_point *b = &polygon->points[(i + 1) % polygon->point_count];
        sum += (double)a->x * b->y - (double)b->x * a->y;
    }
    return sum;
}

/* One polygon: an array of 3..16 [x, y] pairs in 0..1 with some area. */
static int motion_config_polygon(const cJSON *json, const char *key, int index,
                                 struct motion_polygon *polygon, char *error, size_t error_size)
{
    if (!cJSON_IsArray(json)) {
        error_text_set(error, error_size, "%s[%d] must be an array of points", key, index);
        return -1;
    }
    int count = cJSON_GetArraySize(json);
    if (count < MOTION_POLYGON_MIN_POINTS || count > MOTION_MAX_POLYGON_POINTS) {
        error_text_set(error, error_size, "%s[%d] must have %d to %d points", key, index,
                       MOTION_POLYGON_MIN_POINTS, MOTION_MAX_POLYGON_POINTS);
        return -1;
    }
    polygon->point_count = 0;
    const cJSON *point;
    cJSON_ArrayForEach(point, json)
    {
        const cJSON *x = NULL, *y = NULL;
        if (cJSON_IsArray(point) && cJSON_GetArraySize(point) == 2) {
            x = cJSON_GetArrayItem(point, 0);
            y = cJSON_GetArrayItem(point, 1);
        }
        if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y)) {
            error_text_set(error, error_size, "%s[%d]: a point must be [x, y]", key, index);
            return -1;
        }
        if (!(x->valuedouble >= 0.0 && x->valuedouble <= 1.0 && y->valuedouble >= 0.0 &&
              y->valuedouble <= 1.0)) {
            error_text_set(error, error_size, "%s[%d]: coordinates must be between 0 and 1", key,
                           index);
            return -1;
        }
        struct motion_point *out = &polygon->points[polygon->point_count++];
        out->x = (float)x->valuedouble;
        out->y = (float)y->valuedouble;
    }
    if (fabs(motion_polygon_area2(polygon)) < 2.0 * MOTION_POLYGON_MIN_AREA) {
        error_text_set(error, error_size, "%s[%d] has no area", key, index);
        return -1;
    }
    return 0;
}

/* An optional array of up to 8 polygons into polygons[] and *count_out. */
static int motion_config_polygons(const cJSON *json, const char *key,
                                  struct motion_polygon *polygons, int *count_out, char *error,
                                  size_t error_size)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, key);
    if (list == NULL)
        return 0;
    if (!cJSON_IsArray(list)) {
        error_text_set(error, error_size, "%s must be an array of polygons", key);
        return -1;
    }
    if (cJSON_GetArraySize(list) > MOTION_MAX_POLYGONS) {
        error_text_set(error, error_size, "at most %d %s", MOTION_MAX_POLYGONS, key);
        return -1;
    }
    int count = 0;
    const cJSON *polygon;
    cJSON_ArrayForEach(polygon, list)
    {
        if (motion_config_polygon(polygon, key, count, &polygons[count], error, error_size) != 0)
            return -1;
        count++;
    }
    *count_out = count;
    return 0;
}

/* The optional "package_zone" polygon into parsed; 0 or -1 with a reason. */
static int motion_config_package_zone(const cJSON *json, struct motion_config *parsed, char *error,
                                      size_t error_size)
{
    const cJSON *zone = cJSON_GetObjectItemCaseSensitive(json, "package_zone");
    double still_s = parsed->package_still_ms / 1000.0;

    if (motion_config_number(json, "package_still_s", MOTION_CONFIG_PACKAGE_S_MIN,
                             MOTION_CONFIG_PACKAGE_S_MAX, &still_s, error, error_size) != 0)
        return -1;
    parsed->package_still_ms = (int)lround(still_s * 1000.0);
    if (zone == NULL || cJSON_IsNull(zone))
        return 0;
    if (motion_config_polygon(zone, "package_zone", 0, &parsed->package_zone, error, error_size) !=
        0)
        return -1;
    parsed->has_package_zone = 1;
    return 0;
}

/* Validate everything into a scratch config, then copy (see header). */
int motion_config_from_json(const cJSON *json, struct motion_config *config, char *error,
                            size_t error_size)
{
    if (!cJSON_IsObject(json)) {
        error_text_set(error, error_size, "motion settings must be an object");
        return -1;
    }
    struct motion_config parsed;
    motion_config_defaults(&parsed);
    int sensitivity = (int)parsed.sensitivity, mode = (int)parsed.mode;
    double hold_s = parsed.hold_ms / 1000.0;
    if (motion_config_enum(json, "sensitivity", motion_sensitivity_names, 3, &sensitivity, error,
                           error_size) != 0 ||
        motion_config_enum(json, "mode", motion_mode_names, 3, &mode, error, error_size) != 0 ||
        motion_config_number(json, "min_area", MOTION_CONFIG_MIN_AREA_MIN,
                             MOTION_CONFIG_MIN_AREA_MAX, &parsed.min_area, error,
                             error_size) != 0 ||
        motion_config_integer(json, "min_frames", 1, MOTION_CONFIG_MIN_FRAMES_MAX,
                              &parsed.min_frames, error, error_size) != 0 ||
        motion_config_number(json, "hold_s", 0, MOTION_CONFIG_HOLD_S_MAX, &hold_s, error,
                             error_size) != 0 ||
        motion_config_polygons(json, "zones", parsed.zones, &parsed.zone_count, error,
                               error_size) != 0 ||
        motion_config_polygons(json, "masks", parsed.masks, &parsed.mask_count, error,
                               error_size) != 0 ||
        motion_config_package_zone(json, &parsed, error, error_size) != 0)
        return -1;
    parsed.sensitivity = (enum motion_sensitivity)sensitivity;
    parsed.mode = (enum motion_mode)mode;
    parsed.hold_ms = (int)lround(hold_s * 1000.0);
    *config = parsed;
    return 0;
}

/* Parse text, then validate the tree (see header). */
int motion_config_parse(const char *text, size_t length, struct motion_config *config, char *error,
                        size_t error_size)
{
    cJSON *json = cJSON_ParseWithLength(text, length);
    if (json == NULL) {
        error_text_set(error, error_size, "motion settings are not valid JSON");
        return -1;
    }
    int result = motion_config_from_json(json, config, error, error_size);
    cJSON_Delete(json);
    return result;
}

/* The [[x, y], ...] array of one polygon, or NULL if out of memory. */
static cJSON *motion_config_polygon_json(const struct motion_polygon *polygon)
{
    cJSON *points = cJSON_CreateArray();
    for (int p = 0; points != NULL && p < polygon->point_count; p++) {
        const float pair[2] = {polygon->points[p].x, polygon->points[p].y};
        cJSON *point = cJSON_CreateFloatArray(pair, 2);
        if (point == NULL || !cJSON_AddItemToArray(points, point)) {
            cJSON_Delete(point);
            cJSON_Delete(points);
            return NULL;
        }
    }
    return points;
}

/* Add one polygon under key; -1 if out of memory. */
static int motion_config_add_polygon(cJSON *json, const char *key,
                                     const struct motion_polygon *polygon)
{
    cJSON *points = motion_config_polygon_json(polygon);
    if (points == NULL || !cJSON_AddItemToObject(json, key, points)) {
        cJSON_Delete(points);
        return -1;
    }
    return 0;
}

/* Add polygons as an array of [x, y] arrays under key; -1 if out of memory. */
static int motion_config_add_polygons(cJSON *json, const char *key,
                                      const struct motion_polygon *polygons, int count)
{
    cJSON *list = cJSON_AddArrayToObject(json, key);
    if (list == NULL)
        return -1;
    for (int i = 0; i < count; i++) {
        cJSON *points = cJSON_CreateArray();
        if (points == NULL || !cJSON_AddItemToArray(list, points))
            return -1;
        for (int p = 0; p < polygons[i].point_count; p++) {
            const float pair[2] = {polygons[i].points[p].x, polygons[i].points[p].y};
            cJSON *point = cJSON_CreateFloatArray(pair, 2);
            if (point == NULL || !cJSON_AddItemToArray(points, point))
                return -1;
        }
    }
    return 0;
}

/* Build the JSON form (see header); the caller frees it. */
cJSON *motion_config_to_json(const struct motion_config *config)
{
    cJSON *json = cJSON_CreateObject();
    if (json == NULL)
        return NULL;
    if (cJSON_AddStringToObject(json, "sensitivity",
                                motion_sensitivity_names[config->sensitivity]) == NULL ||
        cJSON_AddStringToObject(json, "mode", motion_mode_names[config->mode]) == NULL ||
        cJSON_AddNumberToObject(json, "min_area", config->min_area) == NULL ||
        cJSON_AddNumberToObject(json, "min_frames", config->min_frames) == NULL ||
        cJSON_AddNumberToObject(json, "hold_s", config->hold_ms / 1000.0) == NULL ||
        motion_config_add_polygons(json, "zones", config->zones, config->zone_count) != 0 ||
        motion_config_add_polygons(json, "masks", config->masks, config->mask_count) != 0 ||
        cJSON_AddNumberToObject(json, "package_still_s", config->package_still_ms / 1000.0) ==
            NULL ||
        (config->has_package_zone &&
         motion_config_add_polygon(json, "package_zone", &config->package_zone) != 0)) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* The pixel spans of one raster row inside a polygon (see header). */
int motion_polygon_spans(const struct motion_polygon *polygon, double row_y, int width, int *x0_out,
                         int *x1_out)
{
    double crossings[MOTION_MAX_POLYGON_POINTS];
    int count = 0;
    for (int i = 0; i < polygon->point_count; i++) {
        const struct motion_point *a = &polygon->points[i];
        const struct motion_point *b = &polygon->points[(i + 1) % polygon->point_count];
        /* Half-open in y so a vertex shared by two edges crosses once. */
        if ((a->y <= row_y && row_y < b->y) || (b->y <= row_y && row_y < a->y))
            crossings[count++] = a->x + (row_y - a->y) * (b->x - a->x) / (b->y - a->y);
    }
    /* Insertion sort: at most 16 crossings. */
    for (int i = 1; i < count; i++) {
        double value = crossings[i];
        int j = i - 1;
        for (; j >= 0 && crossings[j] > value; j--)
            crossings[j + 1] = crossings[j];
        crossings[j + 1] = value;
    }
    int spans = 0;
    for (int i = 0; i + 1 < count; i += 2) {
        /* Pixels whose centre (x + 0.5) / width is in [left, right). */
        int x0 = (int)ceil(crossings[i] * width - 0.5);
        int x1 = (int)ceil(crossings[i + 1] * width - 0.5);
        x0 = x0 < 0 ? 0 : x0;
        x1 = x1 > width ? width : x1;
        if (x1 > x0) {
            x0_out[spans] = x0;
            x1_out[spans] = x1;
            spans++;
        }
    }
    return spans;
}

/* Rasterise one polygon into a mask (see header). */
void motion_polygon_fill(const struct motion_polygon *polygon, uint8_t *mask, int stride, int width,
                         int height, uint8_t value)
{
    int x0[MOTION_MAX_POLYGON_POINTS / 2], x1[MOTION_MAX_POLYGON_POINTS / 2];
    for (int y = 0; y < height; y++) {
        int spans = motion_polygon_spans(polygon, (y + 0.5) / height, width, x0, x1);
        for (int i = 0; i < spans; i++)
            memset(mask + (size_t)y * (size_t)stride + (size_t)x0[i], value,
                   (size_t)(x1[i] - x0[i]));
    }
}
