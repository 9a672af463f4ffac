/*
 * package_watch.c - package delivered / taken in the doorstep area (see
 * package_watch.h and docs/packages.md).
 *
 * Per analysed frame (about 10 per second), on the motion detector's luma:
 *  1. The picture is averaged 2x2 (160x90) and turned into log-luma above
 *     black: L = 64 * log2(max(Y - 16, 0) + 8), 64 units to the octave. A
 *     camera gain or exposure change, the day/night switch and a light that
 *     brightens a surface multiply Y - 16: in L they add a constant (or, for
 *     a light pool, a slowly varying) offset.
 *  2. Comparison uses gradients of L (central differences in x and y): a
 *     pixel differs from the reference when |dgx| + |dgy| exceeds
 *     PACKAGE_EDGE_THRESHOLD. Offsets and smooth ramps vanish in the
 *     gradients; the outline of a new object does not. The zone is cut into
 *     4x4-pixel cells; a cell with PACKAGE_CELL_PIXELS differing pixels is
 *     "changed".
 *  3. Re-basing: the median of L - reference over the zone moves by more
 *     than PACKAGE_REBASE_UNITS (a quarter octave: the IR switch, a camera
 *     gain step) while no event is active, or the detector reports a light
 *     switch. The median is robust to an object covering less than half of
 *     the zone. The watch pauses PACKAGE_SETTLE_US (the ramp), then the
 *     reference takes the new picture except around what is present (or a
 *     candidate), where the old reference is shifted by the median: a parcel
 *     delivered by day is still told from the empty step at night. Clocks
 *     keep running through the pause.
 *  4. Busy: the PIR (or, for tests, the caller's motion flag) or movement in
 *     the zone (gradients differing from the previous frame's, held 1 s).
 *     The motion detector's own event is not used: it reports a new still
 *     object as motion until it absorbs it 30 s later. "No event active"
 *     below means not busy.
 *  5. Empty zone: the reference follows the picture slowly (1/32 per frame)
 *     while no cell changed and no event is active. Changed cells of at
 *     least max(PACKAGE_MIN_CELLS, PACKAGE_MIN_FRACTION of the zone) with
 *     no event active make a candidate; the candidate must keep its cells
 *     (overlap PACKAGE_SAME_OVERLAP) with no event active for
 *     package_still_ms: then "delivered", with the box of its cells.
 *  6. Present: the object is gone when, within its box grown by a cell, at
 *     most PACKAGE_GONE_FRACTION of its cell count still differ from the
 *     empty reference. Gone, with no event active, for package_still_ms:
 *     "taken", back to empty.
 *
 * Owned by one thread; everything is allocated by package_watch_create().
 */
#include "motion/package_watch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PACKAGE_WIDTH          (MOTION_ANALYSIS_WIDTH / 2)
#define PACKAGE_HEIGHT         (MOTION_ANALYSIS_HEIGHT / 2)
#define PACKAGE_PIXELS         (PACKAGE_WIDTH * PACKAGE_HEIGHT)
#define PACKAGE_CELL           4
#define PACKAGE_CELLS_X        (PACKAGE_WIDTH / PACKAGE_CELL)
#define PACKAGE_CELLS_Y        ((PACKAGE_HEIGHT + PACKAGE_CELL - 1) / PACKAGE_CELL)
#define PACKAGE_CELL_COUNT     (PACKAGE_CELLS_X * PACKAGE_CELLS_Y)
#define PACKAGE_EDGE_THRESHOLD 22 /* log units (64 per octave), |dgx| + |dgy| */
#define PACKAGE_CELL_PIXELS    3
#define PACKAGE_MIN_CELLS      3
#define PACKAGE_MIN_FRACTION   0.03
#define PACKAGE_SAME_OVERLAP   0.6
#define PACKAGE_GONE_FRACTION  0.3
#define PACKAGE_REBASE_UNITS   16 /* a quarter octave */
#define PACKAGE_SETTLE_US      1500000LL
#define PACKAGE_MOVING_HOLD_US 1000000LL
#define PACKAGE_ADAPT_SHIFT    5 /* the empty reference follows 1/32 per frame */
#define PACKAGE_Q              4 /* references keep L in Q4 */
#define PACKAGE_HISTOGRAM      1024

enum package_state {
    PACKAGE_LEARNING, /* no reference yet, or settling after a re-base */
    PACKAGE_EMPTY,
    PACKAGE_PRESENT,
};

struct package_cells {
    uint8_t changed[PACKAGE_CELL_COUNT];
    int count;
    int x0, y0, x1, y1; /* bounding box in cells, half-open */
};

struct package_watch {
    int enabled;
    struct motion_polygon zone;
    int still_ms;
    uint8_t *zone_mask; /* PACKAGE_PIXELS, 1 inside the zone (and not on its border row) */
    int zone_pixels, zone_cells;
    uint8_t zone_cell[PACKAGE_CELL_COUNT];
    int16_t *log_now;   /* L of this frame */
    int16_t *empty_ref; /* Q4: the zone empty */
    int16_t *previous;  /* Q4: the previous frame, for movement */
    int has_previous;
    int64_t moving_until_us;
    uint32_t *histogram; /* PACKAGE_HISTOGRAM */
    int16_t log_table[256];

    enum package_state state;
    int settling; /* a re-base waits for the light to settle */
    int64_t settle_until_us;
    int candidate;
    int64_t candidate_since_us;
    struct package_cells candidate_cells, present_cells;
    int64_t gone_since_us;
    int gone;
};

/* Allocate a watch (see header). */
struct package_watch *package_watch_create(void)
{
    struct package_watch *watch = calloc(1, sizeof(*watch));
    if (watch == NULL)
        return NULL;
    watch->zone_mask = calloc(PACKAGE_PIXELS, 1);
    watch->log_now = calloc(PACKAGE_PIXELS, sizeof(int16_t));
    watch->empty_ref = calloc(PACKAGE_PIXELS, sizeof(int16_t));
    watch->previous = calloc(PACKAGE_PIXELS, sizeof(int16_t));
    watch->histogram = calloc(PACKAGE_HISTOGRAM, sizeof(uint32_t));
    if (watch->zone_mask == NULL || watch->log_now == NULL || watch->empty_ref == NULL ||
        watch->previous == NULL || watch->histogram == NULL) {
        package_watch_destroy(watch);
        return NULL;
    }
    for (int value = 0; value < 256; value++) {
        int above = value > 16 ? value - 16 : 0;
        watch->log_table[value] = (int16_t)lround(64.0 * log2(above + 8.0));
    }
    watch->still_ms = 10000;
    return watch;
}

void package_watch_destroy(struct package_watch *watch)
{
    if (watch == NULL)
        return;
    free(watch->zone_mask);
    free(watch->log_now);
    free(watch->empty_ref);
    free(watch->previous);
    free(watch->histogram);
    free(watch);
}

/* Start over: nothing learnt, nothing present. */
static void package_watch_reset(struct package_watch *watch)
{
    watch->state = PACKAGE_LEARNING;
    watch->settling = 0;
    watch->settle_until_us = 0;
    watch->candidate = 0;
    watch->gone = 0;
    watch->has_previous = 0;
    watch->moving_until_us = 0;
}

/* Apply settings (see header). */
void package_watch_configure(struct package_watch *watch, const struct motion_config *config)
{
    watch->still_ms = config->package_still_ms;
    if (!config->has_package_zone) {
        watch->enabled = 0;
        return;
    }
    if (watch->enabled && memcmp(&watch->zone, &config->package_zone, sizeof(watch->zone)) == 0)
        return;
    watch->zone = config->package_zone;
    watch->enabled = 1;
    memset(watch->zone_mask, 0, PACKAGE_PIXELS);
    motion_polygon_fill(&watch->zone, watch->zone_mask, PACKAGE_WIDTH, PACKAGE_WIDTH,
                        PACKAGE_HEIGHT, 1);
    /* Gradients need both neighbours: the frame's border pixels are out. */
    for (int y = 0; y < PACKAGE_HEIGHT; y++) {
        watch->zone_mask[y * PACKAGE_WIDTH] = 0;
        watch->zone_mask[y * PACKAGE_WIDTH + PACKAGE_WIDTH - 1] = 0;
    }
    memset(watch->zone_mask, 0, PACKAGE_WIDTH);
    memset(watch->zone_mask + (PACKAGE_HEIGHT - 1) * PACKAGE_WIDTH, 0, PACKAGE_WIDTH);
    watch->zone_pixels = 0;
    memset(watch->zone_cell, 0, sizeof(watch->zone_cell));
    for (int y = 0; y < PACKAGE_HEIGHT; y++)
        for (int x = 0; x < PACKAGE_CELLS_X * PACKAGE_CELL; x++)
            if (watch->zone_mask[y * PACKAGE_WIDTH + x]) {
                watch->zone_pixels++;
                watch->zone_cell[(y / PACKAGE_CELL) * PACKAGE_CELLS_X + x / PACKAGE_CELL] = 1;
            }
    watch->zone_cells = 0;
    for (int i = 0; i < PACKAGE_CELL_COUNT; i++)
        watch->zone_cells += watch->zone_cell[i];
    package_watch_reset(watch);
}

int package_watch_enabled(const struct package_watch *watch)
{
    return watch->enabled && watch->zone_pixels > 0;
}

/* 2x2 average of the analysis luma, as L (see the top of the file). */
static void package_watch_load(struct package_watch *watch, const uint8_t *luma)
{
    for (int y = 0; y < PACKAGE_HEIGHT; y++) {
        const uint8_t *row0 = luma + (size_t)(2 * y) * MOTION_ANALYSIS_WIDTH;
        const uint8_t *row1 = row0 + MOTION_ANALYSIS_WIDTH;
        int16_t *out = watch->log_now + y * PACKAGE_WIDTH;
        for (int x = 0; x < PACKAGE_WIDTH; x++) {
            int sum = row0[2 * x] + row0[2 * x + 1] + row1[2 * x] + row1[2 * x + 1];
            out[x] = watch->log_table[(sum + 2) >> 2];
        }
    }
}

/* Copy L into a Q4 reference. */
static void package_watch_take(const struct package_watch *watch, int16_t *reference)
{
    for (int i = 0; i < PACKAGE_PIXELS; i++)
        reference[i] = (int16_t)(watch->log_now[i] << PACKAGE_Q);
}

/* Median of L - reference over the zone, in L units. */
static int package_watch_median_shift(struct package_watch *watch, const int16_t *reference)
{
    memset(watch->histogram, 0, PACKAGE_HISTOGRAM * sizeof(uint32_t));
    for (int i = 0; i < PACKAGE_PIXELS; i++) {
        if (!watch->zone_mask[i])
            continue;
        int shift = watch->log_now[i] - (reference[i] >> PACKAGE_Q) + PACKAGE_HISTOGRAM / 2;
        shift = shift < 0 ? 0 : shift >= PACKAGE_HISTOGRAM ? PACKAGE_HISTOGRAM - 1 : shift;
        watch->histogram[shift]++;
    }
    uint32_t half = (uint32_t)watch->zone_pixels / 2, seen = 0;
    for (int i = 0; i < PACKAGE_HISTOGRAM; i++) {
        seen += watch->histogram[i];
        if (seen > half)
            return i - PACKAGE_HISTOGRAM / 2;
    }
    return 0;
}

/* The cells of the zone whose gradients differ from the reference. */
static void package_watch_compare(const struct package_watch *watch, const int16_t *reference,
                                  struct package_cells *cells)
{
    uint8_t counts[PACKAGE_CELL_COUNT];
    memset(counts, 0, sizeof(counts));
    for (int y = 1; y < PACKAGE_HEIGHT - 1; y++) {
        for (int x = 1; x < PACKAGE_CELLS_X * PACKAGE_CELL && x < PACKAGE_WIDTH - 1; x++) {
            int i = y * PACKAGE_WIDTH + x;
            if (!watch->zone_mask[i])
                continue;
            const int16_t *now = watch->log_now;
            int gx = now[i + 1] - now[i - 1], gy = now[i + PACKAGE_WIDTH] - now[i - PACKAGE_WIDTH];
            int rx = (reference[i + 1] - reference[i - 1]) / (1 << PACKAGE_Q);
            int ry =
                (reference[i + PACKAGE_WIDTH] - reference[i - PACKAGE_WIDTH]) / (1 << PACKAGE_Q);
            if (abs(gx - rx) + abs(gy - ry) > PACKAGE_EDGE_THRESHOLD)
                counts[(y / PACKAGE_CELL) * PACKAGE_CELLS_X + x / PACKAGE_CELL]++;
        }
    }
    memset(cells, 0, sizeof(*cells));
    cells->x0 = PACKAGE_CELLS_X;
    cells->y0 = PACKAGE_CELLS_Y;
    for (int i = 0; i < PACKAGE_CELL_COUNT; i++) {
        if (counts[i] < PACKAGE_CELL_PIXELS)
            continue;
        int cx = i % PACKAGE_CELLS_X, cy = i / PACKAGE_CELLS_X;
        cells->changed[i] = 1;
        cells->count++;
        cells->x0 = cx < cells->x0 ? cx : cells->x0;
        cells->y0 = cy < cells->y0 ? cy : cells->y0;
        cells->x1 = cx + 1 > cells->x1 ? cx + 1 : cells->x1;
        cells->y1 = cy + 1 > cells->y1 ? cy + 1 : cells->y1;
    }
}

/* Changed cells of `cells` inside box's bounding box grown by one cell. */
static int package_watch_count_in(const struct package_cells *cells,
                                  const struct package_cells *box)
{
    int count = 0;
    for (int cy = box->y0 - 1; cy <= box->y1; cy++)
        for (int cx = box->x0 - 1; cx <= box->x1; cx++)
            if (cx >= 0 && cy >= 0 && cx < PACKAGE_CELLS_X && cy < PACKAGE_CELLS_Y)
                count += cells->changed[cy * PACKAGE_CELLS_X + cx];
    return count;
}

/* Overlap of two cell sets: shared / larger. */
static double package_watch_overlap(const struct package_cells *a, const struct package_cells *b)
{
    int shared = 0, larger = a->count > b->count ? a->count : b->count;
    for (int i = 0; i < PACKAGE_CELL_COUNT; i++)
        shared += a->changed[i] & b->changed[i];
    return larger > 0 ? (double)shared / larger : 0.0;
}

/* The frame box of a cell set. */
static struct motion_box package_watch_box(const struct package_cells *cells)
{
    struct motion_box box;
    box.x = (double)cells->x0 * PACKAGE_CELL / PACKAGE_WIDTH;
    box.y = (double)cells->y0 * PACKAGE_CELL / PACKAGE_HEIGHT;
    box.width = (double)(cells->x1 - cells->x0) * PACKAGE_CELL / PACKAGE_WIDTH;
    box.height = (double)(cells->y1 - cells->y0) * PACKAGE_CELL / PACKAGE_HEIGHT;
    if (box.x + box.width > 1.0)
        box.width = 1.0 - box.x;
    if (box.y + box.height > 1.0)
        box.height = 1.0 - box.y;
    return box;
}

/* The empty reference follows the picture slowly. */
static void package_watch_adapt(struct package_watch *watch)
{
    for (int i = 0; i < PACKAGE_PIXELS; i++) {
        int target = watch->log_now[i] << PACKAGE_Q;
        watch->empty_ref[i] = (int16_t)(watch->empty_ref[i] + ((target - watch->empty_ref[i]) /
                                                               (1 << PACKAGE_ADAPT_SHIFT)));
    }
}

/* A global lighting change: the watch pauses until the light settles. */
static void package_watch_rebase(struct package_watch *watch, int64_t time_us)
{
    watch->settling = 1;
    watch->settle_until_us = time_us + PACKAGE_SETTLE_US;
}

/* The light settled: the empty reference takes the new picture, except in
 * the cells of what is (or may be) present, where it keeps the old
 * reference shifted by the zone's median change, so a parcel seen before
 * the change is still told from the empty zone after it. */
static void package_watch_settled(struct package_watch *watch)
{
    const struct package_cells *keep = NULL;
    int shift = package_watch_median_shift(watch, watch->empty_ref);

    if (watch->state == PACKAGE_PRESENT)
        keep = &watch->present_cells;
    else if (watch->candidate)
        keep = &watch->candidate_cells;
    for (int y = 0; y < PACKAGE_HEIGHT; y++) {
        int cy = y / PACKAGE_CELL;
        for (int x = 0; x < PACKAGE_WIDTH; x++) {
            int i = y * PACKAGE_WIDTH + x, cx = x / PACKAGE_CELL;
            int kept = keep != NULL && cx >= keep->x0 - 1 && cx <= keep->x1 && cy >= keep->y0 - 1 &&
                       cy <= keep->y1;
            int value = kept ? watch->empty_ref[i] + shift * (1 << PACKAGE_Q)
                             : watch->log_now[i] * (1 << PACKAGE_Q);
            watch->empty_ref[i] = (int16_t)(value < 0 ? 0 : value > INT16_MAX ? INT16_MAX : value);
        }
    }
    watch->settling = 0;
}

/* Empty zone: keep the reference, find a new still object. */
static int package_watch_empty(struct package_watch *watch, int64_t time_us, int motion_active,
                               struct package_watch_report *report)
{
    struct package_cells cells;
    int min_cells = (int)ceil(PACKAGE_MIN_FRACTION * watch->zone_cells);

    package_watch_compare(watch, watch->empty_ref, &cells);
    if (min_cells < PACKAGE_MIN_CELLS)
        min_cells = PACKAGE_MIN_CELLS;
    if (motion_active) {
        watch->candidate = 0;
        return 0;
    }
    if (cells.count < min_cells) {
        watch->candidate = 0;
        if (cells.count == 0)
            package_watch_adapt(watch);
        return 0;
    }
    if (!watch->candidate ||
        package_watch_overlap(&cells, &watch->candidate_cells) < PACKAGE_SAME_OVERLAP) {
        watch->candidate = 1;
        watch->candidate_since_us = time_us;
        watch->candidate_cells = cells;
        return 0;
    }
    if (time_us - watch->candidate_since_us < (int64_t)watch->still_ms * 1000)
        return 0;
    watch->present_cells = cells;
    watch->state = PACKAGE_PRESENT;
    watch->candidate = 0;
    watch->gone = 0;
    report->kind = PACKAGE_WATCH_DELIVERED;
    report->box = package_watch_box(&cells);
    return 1;
}

/* Something present: wait for it to be gone and stay so. */
static int package_watch_present(struct package_watch *watch, int64_t time_us, int motion_active,
                                 struct package_watch_report *report)
{
    struct package_cells cells;
    int gone;

    package_watch_compare(watch, watch->empty_ref, &cells);
    gone = package_watch_count_in(&cells, &watch->present_cells) <=
           (int)(PACKAGE_GONE_FRACTION * watch->present_cells.count);
    if (motion_active || !gone) {
        watch->gone = 0;
        return 0;
    }
    if (!watch->gone) {
        watch->gone = 1;
        watch->gone_since_us = time_us;
        return 0;
    }
    if (time_us - watch->gone_since_us < (int64_t)watch->still_ms * 1000)
        return 0;
    watch->state = PACKAGE_EMPTY;
    watch->gone = 0;
    report->kind = PACKAGE_WATCH_TAKEN;
    report->box = package_watch_box(&watch->present_cells);
    return 1;
}

/* Whether anything moves in the zone: its gradients differ from the
 * previous frame's; stays true PACKAGE_MOVING_HOLD_US after the last
 * movement. The previous frame becomes this one. */
static int package_watch_moving(struct package_watch *watch, int64_t time_us)
{
    struct package_cells cells;

    if (watch->has_previous) {
        package_watch_compare(watch, watch->previous, &cells);
        if (cells.count > 0)
            watch->moving_until_us = time_us + PACKAGE_MOVING_HOLD_US;
    }
    package_watch_take(watch, watch->previous);
    watch->has_previous = 1;
    return time_us < watch->moving_until_us;
}

/* One analysis picture (see header and the top of the file). */
int package_watch_step(struct package_watch *watch, const uint8_t *luma, int64_t time_us,
                       int motion_active, int light_switch, struct package_watch_report *report)
{
    memset(report, 0, sizeof(*report));
    if (!package_watch_enabled(watch))
        return 0;
    package_watch_load(watch, luma);
    motion_active = package_watch_moving(watch, time_us) || motion_active;

    if (watch->state == PACKAGE_LEARNING) {
        /* The first reference: the picture once the light has been steady. */
        if (watch->settle_until_us == 0 || light_switch)
            watch->settle_until_us = time_us + PACKAGE_SETTLE_US;
        package_watch_take(watch, watch->empty_ref);
        if (time_us >= watch->settle_until_us)
            watch->state = PACKAGE_EMPTY;
        return 0;
    }
    if (light_switch ||
        (!watch->settling && !motion_active &&
         abs(package_watch_median_shift(watch, watch->empty_ref)) > PACKAGE_REBASE_UNITS))
        package_watch_rebase(watch, time_us);
    if (watch->settling) {
        if (time_us < watch->settle_until_us)
            return 0;
        package_watch_settled(watch);
    }
    if (watch->state == PACKAGE_EMPTY)
        return package_watch_empty(watch, time_us, motion_active, report);
    return package_watch_present(watch, time_us, motion_active, report);
}
