/*
 * motion_config.h - the settings of on-device motion detection and
 * their JSON form, as the hub sends them inside the doorbell settings:
 *
 *   {"sensitivity": "low" | "medium" | "high",      default "medium"
 *    "mode": "pir" | "cv" | "either",               default "cv"
 *    "min_area": 0.0005..0.5,                       default 0.003 (of the frame)
 *    "min_frames": 1..30,                           default 3
 *    "hold_s": 0..60,                               default 2
 *    "zones": [POLYGON, ...],                       at most 8; none = whole frame
 *    "masks": [POLYGON, ...],                       at most 8 privacy masks
 *    "package_zone": POLYGON,                       the doorstep area; absent = no
 *                                                   package watch
 *    "package_still_s": 2..60}                      default 10: how long a new object
 *                                                   (or its absence) must stay still
 *
 * POLYGON is an array of 3..16 points [x, y], normalised to the frame (0..1,
 * origin top-left). Every key is optional; unknown keys (such as "schedule",
 * which the hub applies) are ignored so that a newer hub can add settings.
 *
 * Also: rasterising polygons into masks. Pure functions; any thread.
 */
#ifndef DOORSTEP_MOTION_CONFIG_H
#define DOORSTEP_MOTION_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define MOTION_MAX_POLYGONS       8
#define MOTION_MAX_POLYGON_POINTS 16

enum motion_sensitivity {
    MOTION_SENSITIVITY_LOW,
    MOTION_SENSITIVITY_MEDIUM,
    MOTION_SENSITIVITY_HIGH,
};

/* How camera motion and the PIR sensor combine into a motion event. */
enum motion_mode {
    MOTION_MODE_PIR,    /* camera motion counts only while the PIR sees a warm body */
    MOTION_MODE_CV,     /* camera motion alone; the PIR is ignored */
    MOTION_MODE_EITHER, /* camera motion or the PIR */
};

struct motion_point {
    float x, y; /* 0..1 */
};

struct motion_polygon {
    int point_count; /* 3..MOTION_MAX_POLYGON_POINTS */
    struct motion_point points[MOTION_MAX_POLYGON_POINTS];
};

struct motion_config {
    enum motion_sensitivity sensitivity;
    enum motion_mode mode;
    double min_area; /* smallest blob that counts, as a fraction of the frame */
    int min_frames;  /* consecutive frames with motion before an event starts */
    int hold_ms;     /* an event ends after this long without motion */
    int zone_count;  /* 0: the whole frame is a zone */
    struct motion_polygon zones[MOTION_MAX_POLYGONS];
    int mask_count;
    struct motion_polygon masks[MOTION_MAX_POLYGONS];
    int has_package_zone; /* 0: packages are not watched */
    struct motion_polygon package_zone;
    int package_still_ms; /* stillness before package_delivered / package_taken */
};

/* Fill *config with the defaults listed above. */
void motion_config_defaults(struct motion_config *config);

/* Parse and validate a motion settings object. On success returns 0 with
 * *config filled (defaults for absent keys); on failure returns -1, leaves
 * *config untouched and writes a short reason (never the offending input)
 * into error. json belongs to the caller. */
int motion_config_from_json(const cJSON *json, struct motion_config *config, char *error,
                            size_t error_size);

/* The same from text of `length` bytes (need not be NUL-terminated). */
int motion_config_parse(const char *text, size_t length, struct motion_config *config, char *error,
                        size_t error_size);

/* The JSON form of a config; the caller frees it with cJSON_Delete(). NULL
 * if out of memory. motion_config_from_json() of it gives the config back. */
cJSON *motion_config_to_json(const struct motion_config *config);

/* Set mask[y * stride + x] = value for every pixel of a width x height
 * raster whose centre lies inside the polygon (even-odd rule); other pixels
 * are left alone, so several polygons can be painted into one mask. */
void motion_polygon_fill(const struct motion_polygon *polygon, uint8_t *mask, int stride, int width,
                         int height, uint8_t value);

/* The pixel spans [x0, x1) of one raster row inside a polygon (even-odd),
 * for the row whose centre is at normalised height row_y of a raster
 * `width` pixels wide. x0_out and x1_out hold MOTION_MAX_POLYGON_POINTS / 2
 * entries (one span per pair of edge crossings); returns how many spans. */
int motion_polygon_spans(const struct motion_polygon *polygon, double row_y, int width, int *x0_out,
                         int *x1_out);

#endif
