/*
 * fuzz_motion_config.c - libFuzzer harness for the motion detection settings
 * parser (common/motion_config.c), fed what a hub could send in a
 * `settings` command.
 *
 * For each input: parse it; on failure the reason must be a non-empty,
 * bounded string. On success every field must be in its documented range;
 * the JSON the config writes must parse back to the same struct; and every
 * zone and mask must rasterise into a small mask and black out a small
 * frame without touching a byte outside them.
 *
 * Runs on libFuzzer's single thread; everything allocated per input is freed
 * before returning.
 * FUZZ_SOURCES: firmware/motion/motion_privacy.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/motion_config.h"
#include "motion/motion_privacy.h"

#define FUZZ_ERROR_SIZE 128
#define FUZZ_WIDTH      64
#define FUZZ_HEIGHT     36
#define FUZZ_GUARD      16 /* bytes after each plane that must stay untouched */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Every polygon of a list within its limits. */
static void fuzz_check_polygons(const struct motion_polygon *polygons, int count)
{
    FUZZ_CHECK(count >= 0 && count <= MOTION_MAX_POLYGONS);
    for (int i = 0; i < count; i++) {
        FUZZ_CHECK(polygons[i].point_count >= 3 &&
                   polygons[i].point_count <= MOTION_MAX_POLYGON_POINTS);
        for (int p = 0; p < polygons[i].point_count; p++) {
            const struct motion_point *point = &polygons[i].points[p];
            FUZZ_CHECK(point->x >= 0.0f && point->x <= 1.0f && point->y >= 0.0f &&
                       point->y <= 1.0f);
        }
    }
}

/* Rasterise and black out the config's polygons on small planes with guard
 * bytes after them. */
static void fuzz_check_raster(const struct motion_config *config)
{
    static uint8_t mask[FUZZ_WIDTH * FUZZ_HEIGHT + FUZZ_GUARD];
    static uint8_t y[FUZZ_WIDTH * FUZZ_HEIGHT + FUZZ_GUARD];
    static uint8_t u[FUZZ_WIDTH * FUZZ_HEIGHT / 4 + FUZZ_GUARD];
    static uint8_t v[FUZZ_WIDTH * FUZZ_HEIGHT / 4 + FUZZ_GUARD];
    memset(mask, 0, sizeof(mask));
    memset(y, 200, sizeof(y));
    memset(u, 90, sizeof(u));
    memset(v, 90, sizeof(v));
    for (int i = 0; i < config->zone_count; i++)
        motion_polygon_fill(&config->zones[i], mask, FUZZ_WIDTH, FUZZ_WIDTH, FUZZ_HEIGHT, 1);
    for (int i = 0; i < FUZZ_GUARD; i++)
        FUZZ_CHECK(mask[FUZZ_WIDTH * FUZZ_HEIGHT + i] == 0);
    struct camera_frame frame = {
        .y = y,
        .u = u,
        .v = v,
        .width = FUZZ_WIDTH,
        .height = FUZZ_HEIGHT,
        .stride_y = FUZZ_WIDTH,
        .stride_uv = FUZZ_WIDTH / 2,
    };
    motion_privacy_blackout(config, &frame);
    for (int i = 0; i < FUZZ_GUARD; i++) {
        FUZZ_CHECK(y[FUZZ_WIDTH * FUZZ_HEIGHT + i] == 200);
        FUZZ_CHECK(u[FUZZ_WIDTH * FUZZ_HEIGHT / 4 + i] == 90);
        FUZZ_CHECK(v[FUZZ_WIDTH * FUZZ_HEIGHT / 4 + i] == 90);
    }
    for (int i = 0; i < FUZZ_WIDTH * FUZZ_HEIGHT; i++)
        FUZZ_CHECK(y[i] == 200 || y[i] == 16);
}

/* One input: see the top of the file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct motion_config config;
    char error[FUZZ_ERROR_SIZE];
    memset(error, 0, sizeof(error));
    if (motion_config_parse((const char *)data, size, &config, error, sizeof(error)) != 0) {
        size_t length = strnlen(error, sizeof(error));
        FUZZ_CHECK(length > 0 && length < sizeof(error));
        return 0;
    }
    FUZZ_CHECK(config.sensitivity >= MOTION_SENSITIVITY_LOW &&
               config.sensitivity <= MOTION_SENSITIVITY_HIGH);
    FUZZ_CHECK(config.mode >= MOTION_MODE_PIR && config.mode <= MOTION_MODE_EITHER);
    FUZZ_CHECK(config.min_area >= 0.0005 && config.min_area <= 0.5);
    FUZZ_CHECK(config.min_frames >= 1 && config.min_frames <= 30);
    FUZZ_CHECK(config.hold_ms >= 0 && config.hold_ms <= 60000);
    fuzz_check_polygons(config.zones, config.zone_count);
    fuzz_check_polygons(config.masks, config.mask_count);

    cJSON *json = motion_config_to_json(&config);
    FUZZ_CHECK(json != NULL);
    struct motion_config again;
    FUZZ_CHECK(motion_config_from_json(json, &again, error, sizeof(error)) == 0);
    cJSON_Delete(json);
    /* hold_s goes through a number of seconds and back: whole milliseconds. */
    FUZZ_CHECK(memcmp(&config, &again, sizeof(config)) == 0);

    fuzz_check_raster(&config);
    return 0;
}
