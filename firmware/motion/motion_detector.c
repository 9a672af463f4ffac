/*
 * motion_detector.c - on-device motion detection (see motion_detector.h).
 *
 * Per frame, on the analysis picture (luma 320x180, chroma 160x90):
 *  1. Load: box-filter downscale of Y, U and V (motion_image.c). Pixels under
 *     a privacy mask (rounded outward) are painted black at once, so nothing
 *     that follows ever sees them.
 *  2. Lighting: the picture is cut into 20x10 blocks. Per block, the median
 *     luma ratio picture/background (above black, in 1/64-octave bins, from
 *     pixels neither too dark nor clipped) and the median chroma offsets are
 *     taken. A block far from the median of its 3x3 neighbours holds an
 *     object and takes that median instead; the field is then interpolated
 *     bilinearly to every pixel and the background is compared only after
 *     applying it. A porch light or a cloud (smooth, multiplicative) thus
 *     makes no foreground, while a person or a car still does.
 *  3. Light switch: when the median gain of all blocks moves by more than a
 *     quarter octave (day/night, the IR look) or more than half of the
 *     picture turns foreground, the background is re-learnt: it takes the
 *     picture, follows it fast for a second, and nothing is detected. When
 *     the compensation is at work in at least 12 blocks at once (a light
 *     over a region: objects hardly ever pass the neighbour test in that
 *     many), those blocks are "relit" for 2 s: nothing is reported in them
 *     while their compensation still changes from frame to frame (the ramp),
 *     and what differs there but does not move is not reported and is
 *     absorbed after 0.5 s (the lamp itself, clipped highlights).
 *  4. Foreground: the background is a running mean per pixel plus a running
 *     mean absolute deviation of the compensated residual (both Q8 fixed
 *     point), for luma and for chroma (|dU| + |dV|). A pixel is foreground
 *     when its residual exceeds floor + k * deviation (floor and k from the
 *     sensitivity) in luma or in its chroma pixel; chroma matters when an
 *     object has the luma of what it hides (a red car on grey asphalt).
 *  5. Learning: mean and deviation follow the picture only where it is
 *     background (time constants about 4 s and 8 s at any frame rate). A
 *     pixel that stays foreground and still (luma within 6 levels of the
 *     previous frame) for 30 s is absorbed into the background: a parked car
 *     stops being motion.
 *  6. Blobs: the foreground inside the zones is opened (3x3: erosion then
 *     dilation, removing specks and thin lines), labelled into connected
 *     components (8-connectivity), components closer than 4 px merged, and
 *     those smaller than min_area dropped.
 *  7. Events: min_frames consecutive frames with blobs start the camera
 *     event; hold_ms without blobs ends it. motion_fusion_step() combines it
 *     with the PIR. Score = blob pixels / (8 x min_area), at most 1 (0.5 when
 *     the event runs on the PIR alone).
 *
 * Owned by one thread. Everything, the lighting tables included, lives in the
 * struct and buffers allocated by motion_detector_create().
 */
#define LOG_MODULE "motion"

#include "motion/motion_detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"
#include "common/log.h"
#include "motion/motion_image.h"
#include "motion/motion_lighting.h"

#define MOTION_WIDTH         MOTION_ANALYSIS_WIDTH
#define MOTION_HEIGHT        MOTION_ANALYSIS_HEIGHT
#define MOTION_PIXELS        (MOTION_WIDTH * MOTION_HEIGHT)
#define MOTION_CHROMA_WIDTH  (MOTION_WIDTH / 2)
#define MOTION_CHROMA_HEIGHT (MOTION_HEIGHT / 2)
#define MOTION_CHROMA_PIXELS (MOTION_CHROMA_WIDTH * MOTION_CHROMA_HEIGHT)

#define MOTION_LIGHT_STEP        16 /* a quarter octave in gain bins: 19 % */
#define MOTION_BLACK             16
#define MOTION_NEUTRAL           128
#define MOTION_WHITE_Q8          (235 << 8) /* brightening saturates like the sensor */
#define MOTION_LEARN_MS          1000
#define MOTION_LEARN_FRAMES      8
#define MOTION_LEARN_SHIFT       2
#define MOTION_MEAN_TAU_MS       4000
#define MOTION_DEVIATION_TAU_MS  8000
#define MOTION_START_DEVIATION   256 /* one level, Q8 */
#define MOTION_ABSORB_MS         30000
#define MOTION_STILL_LEVELS      6
#define MOTION_RELIT_ABSORB_MS   500
#define MOTION_MERGE_GAP         4
#define MOTION_MAX_BLOBS         64
#define MOTION_MIN_FRAGMENT      9 /* the smallest blob an opening leaves */
#define MOTION_PIR_WINDOW_MS     5000
#define MOTION_FIRST_INTERVAL_US 100000
#define MOTION_MAX_INTERVAL_US   5000000

enum motion_region_bits {
    MOTION_REGION_ZONE = 1,    /* motion here counts */
    MOTION_REGION_PRIVATE = 2, /* never analysed */
};

/* Foreground test per sensitivity: floor (levels) + factor (Q4) x deviation. */
struct motion_thresholds {
    int luma_floor, chroma_floor, factor_q4;
};

static const struct motion_thresholds motion_sensitivity_thresholds[] = {
    [MOTION_SENSITIVITY_LOW] = {16, 20, 96},
    [MOTION_SENSITIVITY_MEDIUM] = {11, 14, 72},
    [MOTION_SENSITIVITY_HIGH] = {7, 9, 56},
};

struct motion_detector {
    struct motion_config config;
    struct motion_thresholds thresholds; /* floors in Q8 */
    int min_area_pixels;
    int analysed_pixels; /* outside privacy masks */
    int has_private;

    /* The analysis picture and the previous luma (for stillness). */
    uint8_t *luma, *chroma_u, *chroma_v, *previous_luma;
    /* Background model, Q8. */
    uint16_t *mean_y, *deviation_y, *mean_u, *mean_v, *deviation_c;
    uint16_t *still_frames;
    uint8_t *region;         /* enum motion_region_bits per luma pixel */
    uint8_t *private_chroma; /* 1 where a chroma pixel touches a privacy mask */
    uint8_t *mask, *scratch; /* foreground inside zones, 0/1 */
    uint8_t chroma_foreground[MOTION_CHROMA_WIDTH];
    uint8_t row_flags[MOTION_WIDTH]; /* enum motion_pixel_flags */
    struct motion_scaler luma_scaler, chroma_scaler;
    struct motion_labeller labeller;
    struct motion_blob blobs[MOTION_MAX_BLOBS];

    struct motion_lighting lighting;
    int row_gain[MOTION_WIDTH], row_u[MOTION_CHROMA_WIDTH], row_v[MOTION_CHROMA_WIDTH];

    /* Model and event state. */
    int loaded, has_model, learning, learn_frames;
    int64_t learn_until_us;
    int has_time;
    int64_t now_us, last_time_us, interval_us;
    int mean_shift, deviation_shift, absorb_frames, relit_absorb_frames;
    int consecutive, camera_event;
    int64_t last_motion_us;
    struct motion_fusion fusion;
};

/* Allocate the detector and every buffer it will use (see header). */
struct motion_detector *motion_detector_create(const struct motion_config *config, char *error,
                                               size_t error_size)
{
    struct motion_detector *detector = calloc(1, sizeof(*detector));
    if (detector == NULL)
        goto fail;
    detector->luma = malloc(MOTION_PIXELS);
    detector->previous_luma = malloc(MOTION_PIXELS);
    detector->chroma_u = malloc(MOTION_CHROMA_PIXELS);
    detector->chroma_v = malloc(MOTION_CHROMA_PIXELS);
    detector->mean_y = malloc(sizeof(uint16_t) * MOTION_PIXELS);
    detector->deviation_y = malloc(sizeof(uint16_t) * MOTION_PIXELS);
    detector->still_frames = calloc(MOTION_PIXELS, sizeof(uint16_t));
    detector->mean_u = malloc(sizeof(uint16_t) * MOTION_CHROMA_PIXELS);
    detector->mean_v = malloc(sizeof(uint16_t) * MOTION_CHROMA_PIXELS);
    detector->deviation_c = malloc(sizeof(uint16_t) * MOTION_CHROMA_PIXELS);
    detector->region = malloc(MOTION_PIXELS);
    detector->private_chroma = malloc(MOTION_CHROMA_PIXELS);
    detector->mask = malloc(MOTION_PIXELS);
    detector->scratch = malloc(MOTION_PIXELS);
    if (detector->luma == NULL || detector->previous_luma == NULL || detector->chroma_u == NULL ||
        detector->chroma_v == NULL || detector->mean_y == NULL || detector->deviation_y == NULL ||
        detector->still_frames == NULL || detector->mean_u == NULL || detector->mean_v == NULL ||
        detector->deviation_c == NULL || detector->region == NULL ||
        detector->private_chroma == NULL || detector->mask == NULL || detector->scratch == NULL ||
        motion_labeller_create(&detector->labeller, MOTION_WIDTH, MOTION_HEIGHT) != 0)
        goto fail;

    motion_lighting_init(&detector->lighting);
    detector->interval_us = MOTION_FIRST_INTERVAL_US;
    motion_detector_configure(detector, config);
    return detector;
fail:
    error_text_set(error, error_size, "out of memory for the motion detector");
    motion_detector_destroy(detector);
    return NULL;
}

/* Free the detector and its buffers; NULL is ignored. */
void motion_detector_destroy(struct motion_detector *detector)
{
    if (detector == NULL)
        return;
    free(detector->luma);
    free(detector->previous_luma);
    free(detector->chroma_u);
    free(detector->chroma_v);
    free(detector->mean_y);
    free(detector->deviation_y);
    free(detector->still_frames);
    free(detector->mean_u);
    free(detector->mean_v);
    free(detector->deviation_c);
    free(detector->region);
    free(detector->private_chroma);
    free(detector->mask);
    free(detector->scratch);
    motion_scaler_release(&detector->luma_scaler);
    motion_scaler_release(&detector->chroma_scaler);
    motion_labeller_release(&detector->labeller);
    free(detector);
}

/* Rasterise zones and masks into the region plane (see header). Privacy
 * masks grow by one analysis pixel so that no pixel partly inside one is
 * analysed. */
void motion_detector_configure(struct motion_detector *detector, const struct motion_config *config)
{
    detector->config = *config;
    const struct motion_thresholds *preset = &motion_sensitivity_thresholds[config->sensitivity];
    detector->thresholds = (struct motion_thresholds){preset->luma_floor << 8,
                                                      preset->chroma_floor << 8, preset->factor_q4};
    detector->min_area_pixels = (int)lround(config->min_area * MOTION_PIXELS);
    if (detector->min_area_pixels < 1)
        detector->min_area_pixels = 1;

    uint8_t *zones = detector->scratch, *masks = detector->mask;
    memset(zones, config->zone_count == 0, MOTION_PIXELS);
    for (int i = 0; i < config->zone_count; i++)
        motion_polygon_fill(&config->zones[i], zones, MOTION_WIDTH, MOTION_WIDTH, MOTION_HEIGHT, 1);
    memset(masks, 0, MOTION_PIXELS);
    for (int i = 0; i < config->mask_count; i++)
        motion_polygon_fill(&config->masks[i], masks, MOTION_WIDTH, MOTION_WIDTH, MOTION_HEIGHT, 1);

    detector->analysed_pixels = 0;
    for (int y = 0; y < MOTION_HEIGHT; y++) {
        for (int x = 0; x < MOTION_WIDTH; x++) {
            int is_private = 0;
            for (int dy = -1; dy <= 1 && !is_private; dy++)
                for (int dx = -1; dx <= 1 && !is_private; dx++) {
                    int nx = x + dx, ny = y + dy;
                    is_private = nx >= 0 && nx < MOTION_WIDTH && ny >= 0 && ny < MOTION_HEIGHT &&
                                 masks[ny * MOTION_WIDTH + nx];
                }
            int index = y * MOTION_WIDTH + x;
            detector->region[index] = (uint8_t)(is_private     ? MOTION_REGION_PRIVATE
                                                : zones[index] ? MOTION_REGION_ZONE
                                                               : 0);
            detector->analysed_pixels += !is_private;
        }
    }
    for (int cy = 0; cy < MOTION_CHROMA_HEIGHT; cy++) {
        for (int cx = 0; cx < MOTION_CHROMA_WIDTH; cx++) {
            const uint8_t *top = detector->region + (2 * cy) * MOTION_WIDTH + 2 * cx;
            const uint8_t *bottom = top + MOTION_WIDTH;
            int bits = top[0] | top[1] | bottom[0] | bottom[1];
            detector->private_chroma[cy * MOTION_CHROMA_WIDTH + cx] =
                (bits & MOTION_REGION_PRIVATE) != 0;
        }
    }
    detector->has_private = config->mask_count > 0;
}

/* Downscale a frame into the analysis picture and black out private pixels. */
int motion_detector_load(struct motion_detector *detector, const struct camera_frame *frame)
{
    detector->loaded = 0;
    if (motion_scaler_prepare(&detector->luma_scaler, frame->width, frame->height, MOTION_WIDTH,
                              MOTION_HEIGHT) != 0 ||
        motion_scaler_prepare(&detector->chroma_scaler, (frame->width + 1) / 2,
                              (frame->height + 1) / 2, MOTION_CHROMA_WIDTH,
                              MOTION_CHROMA_HEIGHT) != 0)
        return -1;
    motion_scaler_run(&detector->luma_scaler, frame->y, frame->stride_y, 1, detector->luma);
    motion_scaler_run(&detector->chroma_scaler, frame->u, frame->stride_uv, 1, detector->chroma_u);
    motion_scaler_run(&detector->chroma_scaler, frame->v, frame->stride_uv, 1, detector->chroma_v);
    if (detector->has_private) {
        for (int i = 0; i < MOTION_PIXELS; i++)
            if (detector->region[i] & MOTION_REGION_PRIVATE)
                detector->luma[i] = MOTION_BLACK;
        for (int i = 0; i < MOTION_CHROMA_PIXELS; i++)
            if (detector->private_chroma[i]) {
                detector->chroma_u[i] = MOTION_NEUTRAL;
                detector->chroma_v[i] = MOTION_NEUTRAL;
            }
    }
    detector->loaded = 1;
    return 0;
}

/* floor(log2(n)) clamped to [2, 12]: the shift of a running average whose
 * time constant is about n frames. */
static int motion_shift_for(int64_t frames)
{
    int shift = 0;
    while (shift < 12 && ((int64_t)2 << shift) <= frames)
        shift++;
    return shift < 2 ? 2 : shift;
}

/* Track the frame interval and derive the learning rates from it. */
static void motion_detector_clock(struct motion_detector *detector, int64_t time_us)
{
    if (detector->has_time && time_us > detector->last_time_us &&
        time_us - detector->last_time_us < MOTION_MAX_INTERVAL_US)
        detector->interval_us =
            (detector->interval_us * 3 + (time_us - detector->last_time_us)) / 4;
    detector->has_time = 1;
    detector->last_time_us = time_us;
    detector->now_us = time_us;
    int64_t interval = detector->interval_us > 0 ? detector->interval_us : 1;
    detector->mean_shift = motion_shift_for(MOTION_MEAN_TAU_MS * 1000LL / interval);
    detector->deviation_shift = motion_shift_for(MOTION_DEVIATION_TAU_MS * 1000LL / interval);
    int64_t absorb = MOTION_ABSORB_MS * 1000LL / interval;
    detector->absorb_frames = (int)(absorb < 1 ? 1 : absorb > 65535 ? 65535 : absorb);
    int64_t relit_absorb = MOTION_RELIT_ABSORB_MS * 1000LL / interval;
    detector->relit_absorb_frames = (int)(relit_absorb < 1 ? 1 : relit_absorb);
}

/* Start (re)learning: the background takes the picture as it is. The
 * deviations are kept: the sensor's noise has not changed. */
static void motion_detector_relearn(struct motion_detector *detector, int64_t time_us)
{
    for (int i = 0; i < MOTION_PIXELS; i++)
        detector->mean_y[i] = (uint16_t)(detector->luma[i] << 8);
    for (int i = 0; i < MOTION_CHROMA_PIXELS; i++) {
        detector->mean_u[i] = (uint16_t)(detector->chroma_u[i] << 8);
        detector->mean_v[i] = (uint16_t)(detector->chroma_v[i] << 8);
    }
    if (!detector->has_model) {
        for (int i = 0; i < MOTION_PIXELS; i++)
            detector->deviation_y[i] = MOTION_START_DEVIATION;
        for (int i = 0; i < MOTION_CHROMA_PIXELS; i++)
            detector->deviation_c[i] = MOTION_START_DEVIATION;
        detector->has_model = 1;
    }
    memset(detector->still_frames, 0, sizeof(uint16_t) * MOTION_PIXELS);
    memcpy(detector->previous_luma, detector->luma, MOTION_PIXELS);
    detector->learning = 1;
    detector->learn_frames = 0;
    detector->learn_until_us = time_us + MOTION_LEARN_MS * 1000LL;
}

/* What a row of the per-pixel loop needs besides the planes. */
struct motion_row_rules {
    int floor, factor_q4; /* foreground threshold, Q8 and Q4 */
    int mean_shift, deviation_shift;
    int enabled;                            /* 0 while learning: nothing is foreground */
    int absorb_frames, relit_absorb_frames; /* still this long: background */
};

/* Per-pixel flags of one row. */
enum motion_pixel_flags {
    MOTION_PIXEL_ZONE = MOTION_REGION_ZONE,
    MOTION_PIXEL_PRIVATE = MOTION_REGION_PRIVATE,
    MOTION_PIXEL_RELIT = 4,    /* the light changed here a moment ago */
    MOTION_PIXEL_RAMPING = 16, /* ...and is still changing */
    MOTION_PIXEL_CHROMA = 8,   /* the chroma pixel is foreground */
};

/*
 * The branch-free per-pixel work of one luma row (the arrays never overlap,
 * which lets the compiler vectorise): compare with the compensated
 * background, write the zone mask, learn where background, count still
 * frames where foreground. Returns the foreground pixels (inside zones or
 * not); *absorb_out says how many pixels have been still for long enough,
 * whose absorption (rare work) is left to the caller.
 */
static int motion_luma_pixels(uint8_t *restrict mask, uint16_t *restrict mean,
                              uint16_t *restrict deviation, uint16_t *restrict still,
                              uint8_t *restrict previous, const uint8_t *restrict picture,
                              const int *restrict gain, const uint8_t *restrict flags,
                              const struct motion_row_rules *rules, int *absorb_out)
{
    const int absorb = rules->absorb_frames, relit_absorb = rules->relit_absorb_frames;
    int absorbing = 0;
    const int floor = rules->floor, factor = rules->factor_q4, mean_shift = rules->mean_shift;
    const int deviation_shift = rules->deviation_shift, enabled = rules->enabled;
    int count = 0;
    for (int x = 0; x < MOTION_WIDTH; x++) {
        int value = picture[x] << 8, old = mean[x], spread = deviation[x], flag = flags[x];
        int expected = MOTION_BLACK * 256 + (((old - MOTION_BLACK * 256) * gain[x]) >> 8);
        int white = old > MOTION_WHITE_Q8 ? old : MOTION_WHITE_Q8;
        expected = expected < white ? expected : white;
        int residual = abs(value - expected);
        int changed = residual > floor + ((factor * spread) >> 4);
        int foreground = (changed | ((flag & MOTION_PIXEL_CHROMA) != 0)) &
                         ((flag & MOTION_PIXEL_PRIVATE) == 0) & enabled;
        int moving = abs(picture[x] - previous[x]) > MOTION_STILL_LEVELS;
        /* Where the light just changed, what does not move is being learnt. */
        mask[x] = (uint8_t)(foreground & (moving | ((flag & MOTION_PIXEL_RELIT) == 0)) &
                            ((flag & MOTION_PIXEL_RAMPING) == 0) & (flag & MOTION_PIXEL_ZONE));
        count += foreground;
        residual = residual < 65535 ? residual : 65535;
        int learnt = old + ((value - old) >> mean_shift);
        int settled = spread + ((residual - spread) >> deviation_shift);
        /* Selects by masks rather than branches keep the loop vectorisable. */
        int keep = -foreground, counting = -(foreground & !moving);
        mean[x] = (uint16_t)((old & keep) | (learnt & ~keep));
        deviation[x] = (uint16_t)((spread & keep) | (settled & ~keep));
        int frames = (still[x] + (still[x] != 65535)) & counting;
        still[x] = (uint16_t)frames;
        absorbing += frames >= ((flag & MOTION_PIXEL_RELIT) ? relit_absorb : absorb);
        previous[x] = picture[x];
    }
    *absorb_out = absorbing;
    return count;
}

/* The branch-free per-pixel work of one chroma row, like
 * motion_luma_pixels(): foreground[x] = 1 where |dU| + |dV| after the
 * offsets is too large; learning elsewhere. */
static void motion_chroma_pixels(uint8_t *restrict foreground, uint16_t *restrict mean_u,
                                 uint16_t *restrict mean_v, uint16_t *restrict deviation,
                                 const uint8_t *restrict picture_u,
                                 const uint8_t *restrict picture_v,
                                 const uint8_t *restrict private_pixels,
                                 const int *restrict offset_u, const int *restrict offset_v,
                                 const struct motion_row_rules *rules)
{
    const int floor = rules->floor, factor = rules->factor_q4, mean_shift = rules->mean_shift;
    const int deviation_shift = rules->deviation_shift, enabled = rules->enabled;
    for (int x = 0; x < MOTION_CHROMA_WIDTH; x++) {
        int u = picture_u[x] << 8, v = picture_v[x] << 8;
        int old_u = mean_u[x], old_v = mean_v[x], spread = deviation[x];
        int residual = abs(u - old_u - offset_u[x]) + abs(v - old_v - offset_v[x]);
        int changed = residual > floor + ((factor * spread) >> 4);
        int moving = changed & (private_pixels[x] == 0) & enabled;
        foreground[x] = (uint8_t)moving;
        residual = residual < 65535 ? residual : 65535;
        int keep = -moving;
        int learnt_u = old_u + ((u - old_u) >> mean_shift);
        int learnt_v = old_v + ((v - old_v) >> mean_shift);
        int settled = spread + ((residual - spread) >> deviation_shift);
        mean_u[x] = (uint16_t)((old_u & keep) | (learnt_u & ~keep));
        mean_v[x] = (uint16_t)((old_v & keep) | (learnt_v & ~keep));
        deviation[x] = (uint16_t)((spread & keep) | (settled & ~keep));
    }
}

/* The learning rates and thresholds of this frame for luma or chroma. */
static struct motion_row_rules motion_row_rules_for(const struct motion_detector *detector,
                                                    int floor)
{
    return (struct motion_row_rules){
        .floor = floor,
        .factor_q4 = detector->thresholds.factor_q4,
        .mean_shift = detector->learning ? MOTION_LEARN_SHIFT : detector->mean_shift,
        .deviation_shift = detector->learning ? MOTION_LEARN_SHIFT : detector->deviation_shift,
        .enabled = !detector->learning,
        .absorb_frames = detector->absorb_frames,
        .relit_absorb_frames = detector->relit_absorb_frames,
    };
}

/* Chroma foreground of one chroma row into detector->chroma_foreground,
 * learning where it is background. */
static void motion_chroma_row(struct motion_detector *detector, int cy)
{
    motion_lighting_offset_rows(&detector->lighting, cy, detector->row_u, detector->row_v);
    struct motion_row_rules rules =
        motion_row_rules_for(detector, detector->thresholds.chroma_floor);
    int base = cy * MOTION_CHROMA_WIDTH;
    motion_chroma_pixels(detector->chroma_foreground, detector->mean_u + base,
                         detector->mean_v + base, detector->deviation_c + base,
                         detector->chroma_u + base, detector->chroma_v + base,
                         detector->private_chroma + base, detector->row_u, detector->row_v, &rules);
}

/* Luma foreground of one row combined with its chroma row (see
 * motion_luma_pixels), then absorption of pixels still for long enough.
 * Returns how many pixels were foreground. */
static int motion_luma_row(struct motion_detector *detector, int y)
{
    motion_lighting_gain_row(&detector->lighting, y, detector->row_gain);
    /* Flags: the region, then relit blocks, then the chroma foreground. */
    int base = y * MOTION_WIDTH;
    uint8_t *flags = detector->row_flags;
    memcpy(flags, detector->region + base, MOTION_WIDTH);
    int block_row = y / MOTION_BLOCK_HEIGHT;
    for (int column = 0; column < MOTION_BLOCK_COLUMNS; column++) {
        int state = motion_lighting_state(&detector->lighting, block_row, column, detector->now_us);
        int flag = ((state & MOTION_LIGHTING_RELIT) ? MOTION_PIXEL_RELIT : 0) |
                   ((state & MOTION_LIGHTING_RAMPING) ? MOTION_PIXEL_RAMPING : 0);
        for (int x = column * MOTION_BLOCK_WIDTH;
             flag != 0 && x < (column + 1) * MOTION_BLOCK_WIDTH; x++)
            flags[x] |= (uint8_t)flag;
    }
    for (int x = 0; x < MOTION_CHROMA_WIDTH; x++) {
        int chroma = detector->chroma_foreground[x] ? MOTION_PIXEL_CHROMA : 0;
        flags[2 * x] |= (uint8_t)chroma;
        flags[2 * x + 1] |= (uint8_t)chroma;
    }
    struct motion_row_rules rules = motion_row_rules_for(detector, detector->thresholds.luma_floor);
    int absorbing;
    int count = motion_luma_pixels(detector->mask + base, detector->mean_y + base,
                                   detector->deviation_y + base, detector->still_frames + base,
                                   detector->previous_luma + base, detector->luma + base,
                                   detector->row_gain, flags, &rules, &absorbing);
    for (int x = 0; absorbing > 0 && x < MOTION_WIDTH; x++) {
        int limit =
            (flags[x] & MOTION_PIXEL_RELIT) ? rules.relit_absorb_frames : rules.absorb_frames;
        if (detector->still_frames[base + x] < limit)
            continue;
        /* Parked for long enough: this is background now. */
        int c = (y >> 1) * MOTION_CHROMA_WIDTH + (x >> 1);
        detector->mean_y[base + x] = (uint16_t)(detector->luma[base + x] << 8);
        detector->mean_u[c] = (uint16_t)(detector->chroma_u[c] << 8);
        detector->mean_v[c] = (uint16_t)(detector->chroma_v[c] << 8);
        detector->still_frames[base + x] = 0;
        absorbing--;
    }
    return count;
}

/* Whether two blobs' boxes come within MOTION_MERGE_GAP pixels. */
static int motion_blobs_near(const struct motion_blob *a, const struct motion_blob *b)
{
    return a->x0 - MOTION_MERGE_GAP < b->x1 && b->x0 - MOTION_MERGE_GAP < a->x1 &&
           a->y0 - MOTION_MERGE_GAP < b->y1 && b->y0 - MOTION_MERGE_GAP < a->y1;
}

/* Despeckle, label and merge the zone mask into result->boxes (step 6);
 * returns the pixels of the boxes' blobs. */
static int motion_detector_boxes(struct motion_detector *detector, struct motion_result *result)
{
    motion_mask_open(detector->mask, detector->scratch, MOTION_WIDTH, MOTION_HEIGHT);
    int fragment = detector->min_area_pixels / 8;
    fragment = fragment < MOTION_MIN_FRAGMENT ? MOTION_MIN_FRAGMENT : fragment;
    struct motion_blob *blobs = detector->blobs;
    int count =
        motion_label(&detector->labeller, detector->mask, fragment, blobs, MOTION_MAX_BLOBS);
    for (int merged = 1; merged;) {
        merged = 0;
        for (int i = 0; i < count; i++) {
            for (int j = i + 1; j < count; j++) {
                if (!motion_blobs_near(&blobs[i], &blobs[j]))
                    continue;
                blobs[i].x0 = blobs[j].x0 < blobs[i].x0 ? blobs[j].x0 : blobs[i].x0;
                blobs[i].y0 = blobs[j].y0 < blobs[i].y0 ? blobs[j].y0 : blobs[i].y0;
                blobs[i].x1 = blobs[j].x1 > blobs[i].x1 ? blobs[j].x1 : blobs[i].x1;
                blobs[i].y1 = blobs[j].y1 > blobs[i].y1 ? blobs[j].y1 : blobs[i].y1;
                blobs[i].area += blobs[j].area;
                blobs[j--] = blobs[--count];
                merged = 1;
            }
        }
    }
    /* Keep those of min_area, largest first (insertion sort: few blobs). */
    int kept = 0, pixels = 0;
    for (int i = 0; i < count; i++) {
        if (blobs[i].area < detector->min_area_pixels)
            continue;
        struct motion_blob blob = blobs[i];
        int j = kept - 1;
        for (; j >= 0 && blobs[j].area < blob.area; j--)
            blobs[j + 1] = blobs[j];
        blobs[j + 1] = blob;
        kept++;
    }
    result->box_count = kept < MOTION_MAX_BOXES ? kept : MOTION_MAX_BOXES;
    for (int i = 0; i < result->box_count; i++) {
        const struct motion_blob *blob = &blobs[i];
        result->boxes[i] = (struct motion_box){
            (double)blob->x0 / MOTION_WIDTH,
            (double)blob->y0 / MOTION_HEIGHT,
            (double)(blob->x1 - blob->x0) / MOTION_WIDTH,
            (double)(blob->y1 - blob->y0) / MOTION_HEIGHT,
        };
        pixels += blob->area;
    }
    return pixels;
}

/* Camera event and PIR fusion (step 7). */
static void motion_detector_events(struct motion_detector *detector, int64_t time_us, int pir,
                                   int pixels, struct motion_result *result)
{
    int frame_motion = result->box_count > 0;
    if (frame_motion) {
        detector->consecutive++;
        detector->last_motion_us = time_us;
    } else {
        detector->consecutive = 0;
    }
    if (!detector->camera_event && detector->consecutive >= detector->config.min_frames)
        detector->camera_event = 1;
    else if (detector->camera_event && !frame_motion &&
             time_us - detector->last_motion_us >= detector->config.hold_ms * 1000LL)
        detector->camera_event = 0;

    int was_active = detector->fusion.active;
    int active = motion_fusion_step(&detector->fusion, detector->config.mode,
                                    detector->camera_event, pir, time_us, detector->config.hold_ms);
    result->frame_motion = frame_motion;
    result->camera_event = detector->camera_event;
    result->active = active;
    result->started = active && !was_active;
    result->ended = !active && was_active;
    double score = (double)pixels / (8.0 * detector->min_area_pixels);
    result->score = frame_motion ? (score > 1.0 ? 1.0 : score) : 0.0;
    if (active && !detector->camera_event && result->score < 0.5)
        result->score = 0.5;
}

/* Analyse the loaded picture (see the algorithm above). */
void motion_detector_analyse(struct motion_detector *detector, int64_t time_us, int pir,
                             struct motion_result *result)
{
    memset(result, 0, sizeof(*result));
    int pixels = 0;
    if (!detector->loaded)
        goto events;
    motion_detector_clock(detector, time_us);
    if (!detector->has_model) {
        motion_detector_relearn(detector, time_us);
        result->learning = 1;
        goto events;
    }
    struct motion_planes planes = {detector->luma,   detector->chroma_u, detector->chroma_v,
                                   detector->mean_y, detector->mean_u,   detector->mean_v};
    if (abs(motion_lighting_estimate(&detector->lighting, &planes, detector->now_us)) >
        MOTION_LIGHT_STEP) {
        log_debug("lighting step: re-learning the background");
        result->light_switch = 1;
        motion_detector_relearn(detector, time_us);
    }
    if (detector->learning && detector->learn_frames >= MOTION_LEARN_FRAMES &&
        time_us >= detector->learn_until_us)
        detector->learning = 0;
    result->learning = detector->learning;
    detector->learn_frames++;

    int foreground = 0;
    for (int cy = 0; cy < MOTION_CHROMA_HEIGHT; cy++) {
        motion_chroma_row(detector, cy);
        foreground += motion_luma_row(detector, 2 * cy);
        foreground += motion_luma_row(detector, 2 * cy + 1);
    }
    if (detector->learning)
        goto events;
    if (foreground * 2 > detector->analysed_pixels) {
        log_debug("%d of %d pixels changed: re-learning the background", foreground,
                  detector->analysed_pixels);
        result->light_switch = 1;
        result->learning = 1;
        motion_detector_relearn(detector, time_us);
        goto events;
    }
    pixels = motion_detector_boxes(detector, result);
events:
    motion_detector_events(detector, time_us, pir, pixels, result);
}

/* Load then analyse (see header). */
int motion_detector_process(struct motion_detector *detector, const struct camera_frame *frame,
                            int64_t time_us, int pir, struct motion_result *result)
{
    int loaded = motion_detector_load(detector, frame);
    motion_detector_analyse(detector, time_us, pir, result);
    return loaded;
}

/* The analysis luma (see header). */
const uint8_t *motion_detector_luma(const struct motion_detector *detector)
{
    return detector->luma;
}

/*
 * PIR fusion. cv: the camera event as it is. pir: a camera event may start
 * only within MOTION_PIR_WINDOW_MS of the PIR firing (the PIR gates false
 * alarms from shadows and rain) and then lasts as long as the camera event.
 * either: the camera event, or the PIR within hold_ms of its last firing.
 */
int motion_fusion_step(struct motion_fusion *fusion, enum motion_mode mode, int camera_event,
                       int pir, int64_t time_us, int hold_ms)
{
    if (pir) {
        fusion->has_pir = 1;
        fusion->last_pir_us = time_us;
    }
    int64_t since_pir = fusion->has_pir ? time_us - fusion->last_pir_us : INT64_MAX;
    int active;
    switch (mode) {
    case MOTION_MODE_PIR:
        active = camera_event && (fusion->active || since_pir <= MOTION_PIR_WINDOW_MS * 1000LL);
        break;
    case MOTION_MODE_EITHER:
        active = camera_event || since_pir <= hold_ms * 1000LL;
        break;
    case MOTION_MODE_CV:
    default:
        active = camera_event;
        break;
    }
    fusion->active = active;
    return active;
}
