/*
 * sim_scene.c - the sim porch scene (see sim_scene.h): the scripted loop,
 * the trigger history, lighting levels and ramps, the ground truth, and the
 * per-frame renderer.
 *
 * Rendering a frame: copy the (cached) relit background, draw the objects
 * lit where they stand, add sensor noise from a precomputed table read at a
 * random offset per row. The camera draws the frame stamp afterwards. The
 * relit background is recomputed only while a lighting ramp runs; in steady
 * light a frame costs a memcpy, the object spans and one byte add per pixel.
 *
 * Owned by the capture thread; owns its background, relight cache, light
 * pool weights and noise table (one allocation each, freed on destroy).
 */
#define LOG_MODULE "camera"

#include "camera/sim_scene.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera/sim_scene_internal.h"
#include "common/error_text.h"
#include "common/log.h"

#define SIM_SCENE_EVENT_CAPACITY 32 /* object triggers remembered */
#define SIM_SCENE_LIGHT_CAPACITY 4  /* triggers remembered per lighting (ramp needs 2-4) */
#define SIM_SCENE_NOISE_SPAN     65536
#define SIM_SCENE_NIGHT_GAIN_Q8  112 /* IR look: luma contrast scaled to ~0.44 */
#define SIM_SCENE_LAMP_GAIN_Q8   128 /* porch light adds up to 0.5 at its centre */
#define SIM_SCENE_LAMP_TINT_U    (-14)
#define SIM_SCENE_LAMP_TINT_V    12
#define SIM_SCENE_LUMA_MIN       20
#define SIM_SCENE_LUMA_MAX       231

/* The scripted loop (documented in sim_scene.h), in time order. */
static const struct sim_script_event sim_scene_script_events[] = {
    {10000000, CAMERA_TRIGGER_VISITOR},  {30000000, CAMERA_TRIGGER_CAR},
    {36000000, CAMERA_TRIGGER_DELIVER},  {64000000, CAMERA_TRIGGER_TAKE},
    {70000000, CAMERA_TRIGGER_CAT},      {80000000, CAMERA_TRIGGER_NIGHT},
    {90000000, CAMERA_TRIGGER_LIGHT_ON}, {100000000, CAMERA_TRIGGER_LIGHT_OFF},
    {110000000, CAMERA_TRIGGER_DAY},
};

#define SIM_SCENE_SCRIPT_COUNT                                                                     \
    ((int)(sizeof(sim_scene_script_events) / sizeof(sim_scene_script_events[0])))
#define SIM_SCENE_CANDIDATES                                                                       \
    (2 * SIM_SCENE_SCRIPT_COUNT + SIM_SCENE_EVENT_CAPACITY + 3 * SIM_SCENE_LIGHT_CAPACITY)

enum sim_scene_lighting {
    SIM_LIGHTING_AMBIENT, /* day (0) or night (1) */
    SIM_LIGHTING_LAMP,    /* porch light off (0) or on (1) */
};

struct sim_scene_event {
    int64_t at_us;
    enum camera_trigger trigger;
};

/* The newest `capacity` interactive triggers of one kind, oldest first. */
struct sim_scene_ring {
    struct sim_scene_event events[SIM_SCENE_EVENT_CAPACITY];
    int capacity, count, next;
};

enum sim_scene_ring_index {
    SIM_RING_OBJECTS,
    SIM_RING_AMBIENT,
    SIM_RING_LAMP,
    SIM_RING_PARCEL, /* deliver and take: the parcel's state never falls out */
    SIM_RING_COUNT,
};

/* What is going on at one instant: objects with their ages, light levels. */
struct sim_scene_moment {
    int object_count;
    enum sim_object_kind kinds[SIM_SCENE_MAX_OBJECTS];
    int64_t ages_us[SIM_SCENE_MAX_OBJECTS];
    int night_q8, lamp_q8; /* 0..256 */
    int changing, night, light_on;
};

struct sim_scene {
    int width, height;
    uint32_t seed;
    int scripted;
    /* Interactive triggers, kept per kind so that many visitors never push
     * the last day/night or light switch out of the history. */
    struct sim_scene_ring rings[SIM_RING_COUNT];

    uint8_t *background; /* daylight I420, stride = width: Y, then U, then V */
    uint8_t *lit;        /* background relit for lit_night_q8 / lit_lamp_q8 */
    int lit_night_q8, lit_lamp_q8;
    int lit_valid;

    int pool_x0, pool_y0, pool_x1, pool_y1; /* porch light reach, luma pixels */
    uint8_t *pool_weight;                   /* 0..255 over the pool box, luma resolution */

    uint8_t *noise; /* signed noise as bytes (two's complement), SPAN + width long */
    uint32_t noise_state;
};

/* Which lighting a trigger changes and to what; -1 for object triggers. */
static int sim_scene_lighting_of(enum camera_trigger trigger, int *state_out)
{
    switch (trigger) {
    case CAMERA_TRIGGER_NIGHT:
    case CAMERA_TRIGGER_DAY:
        *state_out = trigger == CAMERA_TRIGGER_NIGHT;
        return SIM_LIGHTING_AMBIENT;
    case CAMERA_TRIGGER_LIGHT_ON:
    case CAMERA_TRIGGER_LIGHT_OFF:
        *state_out = trigger == CAMERA_TRIGGER_LIGHT_ON;
        return SIM_LIGHTING_LAMP;
    default:
        return -1;
    }
}

/* Which object a trigger starts; -1 for lighting triggers. */
static int sim_scene_object_of(enum camera_trigger trigger)
{
    switch (trigger) {
    case CAMERA_TRIGGER_VISITOR:
        return SIM_OBJECT_VISITOR;
    case CAMERA_TRIGGER_CAR:
        return SIM_OBJECT_CAR;
    case CAMERA_TRIGGER_CAT:
        return SIM_OBJECT_CAT;
    case CAMERA_TRIGGER_DELIVER:
        return SIM_OBJECT_COURIER;
    case CAMERA_TRIGGER_TAKE:
        return SIM_OBJECT_COLLECTOR;
    default:
        return -1;
    }
}

/* Every event at or before t that can still matter: the scripted events of
 * this loop and the previous one, then the interactive triggers (so that on
 * equal times an interactive trigger counts as the later one). */
static int sim_scene_collect(const struct sim_scene *scene, int64_t t, struct sim_scene_event *out)
{
    int count = 0;
    if (scene->scripted && t >= 0) {
        int64_t loop = t / SIM_SCENE_LOOP_US;
        for (int64_t k = loop - 1; k <= loop; k++) {
            if (k < 0)
                continue;
            for (int i = 0; i < SIM_SCENE_SCRIPT_COUNT; i++) {
                int64_t at = k * SIM_SCENE_LOOP_US + sim_scene_script_events[i].at_us;
                if (at <= t)
                    out[count++] = (struct sim_scene_event){at, sim_scene_script_events[i].trigger};
            }
        }
    }
    for (int r = 0; r < SIM_RING_COUNT; r++) {
        const struct sim_scene_ring *ring = &scene->rings[r];
        for (int i = 0; i < ring->count; i++) {
            int index = (ring->next - ring->count + i + ring->capacity) % ring->capacity;
            if (ring->events[index].at_us <= t)
                out[count++] = ring->events[index];
        }
    }
    assert(count <= SIM_SCENE_CANDIDATES);
    return count;
}

/* Level (0..256) of one lighting at t: the latest event's state, ramped
 * linearly from the level just before it over SIM_SCENE_RAMP_US. Sets
 * *changing when a ramp between different levels is in progress. */
static int sim_scene_lighting_level(const struct sim_scene *scene, int which, int64_t t, int depth,
                                    int *changing, int *target_out)
{
    struct sim_scene_event events[SIM_SCENE_CANDIDATES];
    int count = sim_scene_collect(scene, t, events);
    int found = 0, state = 0;
    int64_t at = 0;
    for (int i = 0; i < count; i++) {
        int event_state;
        if (sim_scene_lighting_of(events[i].trigger, &event_state) != which)
            continue;
        if (!found || events[i].at_us >= at) {
            found = 1;
            at = events[i].at_us;
            state = event_state;
        }
    }
    if (target_out != NULL)
        *target_out = state;
    int target = state ? 256 : 0;
    if (!found || t - at >= SIM_SCENE_RAMP_US || depth == 0)
        return target;
    int from = sim_scene_lighting_level(scene, which, at - 1, depth - 1, NULL, NULL);
    if (from != target && changing != NULL)
        *changing = 1;
    return from + (int)((int64_t)(target - from) * (t - at) / SIM_SCENE_RAMP_US);
}

/* Whether the parcel lies on the doormat at t: the newest deliver or take
 * decides (a delivery once its courier put it down; a taking until its
 * collector picks it up, if a parcel had been put down before). */
static int sim_scene_parcel_on_mat(const struct sim_scene_event *events, int count, int64_t t)
{
    const struct sim_scene_event *newest = NULL, *before = NULL;
    for (int i = 0; i < count; i++) {
        if (events[i].trigger != CAMERA_TRIGGER_DELIVER && events[i].trigger != CAMERA_TRIGGER_TAKE)
            continue;
        if (newest == NULL || events[i].at_us >= newest->at_us) {
            before = newest;
            newest = &events[i];
        } else if (before == NULL || events[i].at_us >= before->at_us) {
            before = &events[i];
        }
    }
    if (newest == NULL)
        return 0;
    if (newest->trigger == CAMERA_TRIGGER_DELIVER)
        return t - newest->at_us >= SIM_SCENE_PARCEL_US;
    return t - newest->at_us < SIM_SCENE_PARCEL_US && before != NULL &&
           before->trigger == CAMERA_TRIGGER_DELIVER &&
           newest->at_us - before->at_us >= SIM_SCENE_PARCEL_US;
}

/* Objects present at t (drawing order: car, parcel, people, cat; older
 * first) and the lighting levels. */
static void sim_scene_moment_at(const struct sim_scene *scene, int64_t t,
                                struct sim_scene_moment *moment)
{
    static const int64_t durations_us[] = {
        [SIM_OBJECT_VISITOR] = SIM_SCENE_VISITOR_US, [SIM_OBJECT_CAR] = SIM_SCENE_CAR_US,
        [SIM_OBJECT_CAT] = SIM_SCENE_CAT_US,         [SIM_OBJECT_BOX] = 0,
        [SIM_OBJECT_COURIER] = SIM_SCENE_VISITOR_US, [SIM_OBJECT_COLLECTOR] = SIM_SCENE_VISITOR_US,
    };
    static const int depth_order[] = {SIM_OBJECT_CAR,     SIM_OBJECT_BOX,       SIM_OBJECT_VISITOR,
                                      SIM_OBJECT_COURIER, SIM_OBJECT_COLLECTOR, SIM_OBJECT_CAT};
    memset(moment, 0, sizeof(*moment));
    struct sim_scene_event events[SIM_SCENE_CANDIDATES];
    int count = sim_scene_collect(scene, t, events);
    for (int order = 0; order < SIM_OBJECT_KIND_COUNT; order++) {
        if (depth_order[order] == SIM_OBJECT_BOX) {
            if (sim_scene_parcel_on_mat(events, count, t) &&
                moment->object_count < SIM_SCENE_MAX_OBJECTS) {
                moment->kinds[moment->object_count] = SIM_OBJECT_BOX;
                moment->ages_us[moment->object_count] = 0;
                moment->object_count++;
            }
            continue;
        }
        for (int i = 0; i < count && moment->object_count < SIM_SCENE_MAX_OBJECTS; i++) {
            int kind = sim_scene_object_of(events[i].trigger);
            int64_t age = t - events[i].at_us;
            if (kind != depth_order[order] || age < 0 || age >= durations_us[kind])
                continue;
            moment->kinds[moment->object_count] = (enum sim_object_kind)kind;
            moment->ages_us[moment->object_count] = age;
            moment->object_count++;
        }
    }
    moment->night_q8 = sim_scene_lighting_level(scene, SIM_LIGHTING_AMBIENT, t, 3,
                                                &moment->changing, &moment->night);
    moment->lamp_q8 = sim_scene_lighting_level(scene, SIM_LIGHTING_LAMP, t, 3, &moment->changing,
                                               &moment->light_on);
}

/* Porch-light weight (0..255) at luma pixel (x, y); 0 outside the pool. */
static int sim_scene_pool_weight_at(const struct sim_scene *scene, int x, int y)
{
    if (x < scene->pool_x0 || x >= scene->pool_x1 || y < scene->pool_y0 || y >= scene->pool_y1)
        return 0;
    size_t pool_width = (size_t)(scene->pool_x1 - scene->pool_x0);
    size_t row = (size_t)(y - scene->pool_y0), column = (size_t)(x - scene->pool_x0);
    return scene->pool_weight[row * pool_width + column];
}

/* The light on a surface with porch-light weight `weight` at this moment. */
static struct sim_scene_light sim_scene_light_for(const struct sim_scene_moment *moment, int weight)
{
    int saturation = 256 - moment->night_q8;
    int lamp = moment->lamp_q8 * weight / 255; /* 0..256 */
    struct sim_scene_light light = {
        .gain_q8 = 256 - (256 - SIM_SCENE_NIGHT_GAIN_Q8) * moment->night_q8 / 256 +
                   SIM_SCENE_LAMP_GAIN_Q8 * lamp / 256,
        .saturation_q8 = saturation,
        .tint_u = SIM_SCENE_LAMP_TINT_U * lamp * saturation / (256 * 256),
        .tint_v = SIM_SCENE_LAMP_TINT_V * lamp * saturation / (256 * 256),
    };
    return light;
}

/* Fill a ground-truth record from a moment and its built figures. */
static void sim_scene_truth_fill(const struct sim_scene *scene, int64_t t,
                                 const struct sim_scene_moment *moment,
                                 const struct sim_scene_figure *figures, const int *built,
                                 struct sim_ground_truth *out)
{
    memset(out, 0, sizeof(*out));
    out->scene_time_us = t;
    out->lighting_changing = moment->changing;
    out->night = moment->night;
    out->light_on = moment->light_on;
    for (int i = 0; i < moment->object_count; i++) {
        if (moment->kinds[i] == SIM_OBJECT_VISITOR &&
            moment->ages_us[i] >= SIM_SCENE_RING_START_US &&
            moment->ages_us[i] < SIM_SCENE_RING_END_US)
            out->button_pressed = 1;
        struct sim_object_box box;
        if (!built[i] || sim_scene_figure_box(&figures[i], scene->width, scene->height, &box) != 0)
            continue;
        out->objects[out->object_count++] = box;
        if (box.kind == SIM_OBJECT_VISITOR || box.kind == SIM_OBJECT_CAT)
            out->pir_active = 1;
    }
}

/* Build the figures of every object in the moment; built[i] = 1 if present. */
static void sim_scene_figures_build(const struct sim_scene *scene,
                                    const struct sim_scene_moment *moment,
                                    struct sim_scene_figure *figures, int *built)
{
    for (int i = 0; i < moment->object_count; i++)
        built[i] = sim_scene_figure_build(moment->kinds[i], moment->ages_us[i], scene->width,
                                          scene->height, &figures[i]) == 0;
}

/* Pure description of the scene at t (see sim_scene.h). */
void sim_scene_ground_truth(const struct sim_scene *scene, int64_t scene_time_us,
                            struct sim_ground_truth *out)
{
    struct sim_scene_moment moment;
    struct sim_scene_figure figures[SIM_SCENE_MAX_OBJECTS];
    int built[SIM_SCENE_MAX_OBJECTS];
    sim_scene_moment_at(scene, scene_time_us, &moment);
    sim_scene_figures_build(scene, &moment, figures, built);
    sim_scene_truth_fill(scene, scene_time_us, &moment, figures, built, out);
}

/* Release the per-size buffers (background, cache, pool, noise). */
static void sim_scene_free_buffers(struct sim_scene *scene)
{
    free(scene->background);
    free(scene->lit);
    free(scene->pool_weight);
    free(scene->noise);
    scene->background = scene->lit = scene->pool_weight = scene->noise = NULL;
}

/* Allocate and fill everything that depends on the frame size: the painted
 * background, the porch-light pool weights and the noise table. */
static int sim_scene_build(struct sim_scene *scene, int width, int height)
{
    size_t frame_size = (size_t)width * (size_t)height * 3 / 2;
    int radius = sim_scene_px(SIM_LAYOUT_POOL_RADIUS, height);
    int centre_x = sim_scene_px(SIM_LAYOUT_LAMP_X, width);
    int centre_y = sim_scene_px(SIM_LAYOUT_LAMP_Y, height);
    int pool_x0 = centre_x - radius < 0 ? 0 : centre_x - radius;
    int pool_y0 = centre_y - radius < 0 ? 0 : centre_y - radius;
    int pool_x1 = centre_x + radius > width ? width : centre_x + radius;
    int pool_y1 = centre_y + radius > height ? height : centre_y + radius;
    pool_x0 &= ~1;
    pool_y0 &= ~1;
    size_t pool_size = (size_t)(pool_x1 - pool_x0) * (size_t)(pool_y1 - pool_y0);

    uint8_t *background = malloc(frame_size);
    uint8_t *lit = malloc(frame_size);
    uint8_t *pool = malloc(pool_size);
    uint8_t *noise = malloc(SIM_SCENE_NOISE_SPAN + (size_t)width);
    if (background == NULL || lit == NULL || pool == NULL || noise == NULL)
        goto fail;

    size_t luma_size = (size_t)width * (size_t)height;
    struct sim_scene_canvas canvas =
        sim_scene_canvas_make(background, width, background + luma_size,
                              background + luma_size + luma_size / 4, width / 2, width, height);
    sim_scene_paint_background(&canvas, scene->seed);

    for (int y = pool_y0; y < pool_y1; y++) {
        for (int x = pool_x0; x < pool_x1; x++) {
            double dx = x - centre_x, dy = y - centre_y;
            double falloff = 1.0 - (dx * dx + dy * dy) / ((double)radius * radius);
            int weight = falloff > 0.0 ? (int)(255.0 * falloff * falloff) : 0;
            pool[(size_t)(y - pool_y0) * (size_t)(pool_x1 - pool_x0) + (size_t)(x - pool_x0)] =
                (uint8_t)weight;
        }
    }

    /* Sum of four {-1, 0, 1} draws: -4..4, standard deviation ~1.6 levels. */
    uint32_t state = scene->seed * 747796405u + 2891336453u;
    if (state == 0)
        state = 1;
    for (size_t i = 0; i < SIM_SCENE_NOISE_SPAN + (size_t)width; i++) {
        int value = 0;
        for (int draw = 0; draw < 4; draw++)
            value += sim_scene_random_range(&state, -1, 1);
        noise[i] = (uint8_t)(value & 0xff);
    }

    sim_scene_free_buffers(scene);
    scene->width = width;
    scene->height = height;
    scene->background = background;
    scene->lit = lit;
    scene->lit_valid = 0;
    scene->pool_x0 = pool_x0;
    scene->pool_y0 = pool_y0;
    scene->pool_x1 = pool_x1;
    scene->pool_y1 = pool_y1;
    scene->pool_weight = pool;
    scene->noise = noise;
    scene->noise_state = state;
    return 0;
fail:
    free(background);
    free(lit);
    free(pool);
    free(noise);
    return -1;
}

/* Allocate a scene; see sim_scene.h. The caller frees it with sim_scene_destroy(). */
struct sim_scene *sim_scene_create(int width, int height, uint32_t seed, int scripted, char *error,
                                   size_t error_size)
{
    if (width < SIM_SCENE_MIN_WIDTH || height < SIM_SCENE_MIN_HEIGHT || width % 2 != 0 ||
        height % 2 != 0) {
        if (error != NULL && error_size > 0)
            error_text_set(error, error_size,
                           "sim camera needs an even size of at least %dx%d, got %dx%d",
                           SIM_SCENE_MIN_WIDTH, SIM_SCENE_MIN_HEIGHT, width, height);
        return NULL;
    }
    struct sim_scene *scene = calloc(1, sizeof(*scene));
    if (scene == NULL)
        goto fail;
    scene->seed = seed;
    scene->scripted = scripted;
    scene->rings[SIM_RING_OBJECTS].capacity = SIM_SCENE_EVENT_CAPACITY;
    scene->rings[SIM_RING_AMBIENT].capacity = SIM_SCENE_LIGHT_CAPACITY;
    scene->rings[SIM_RING_LAMP].capacity = SIM_SCENE_LIGHT_CAPACITY;
    scene->rings[SIM_RING_PARCEL].capacity = SIM_SCENE_LIGHT_CAPACITY;
    if (sim_scene_build(scene, width, height) != 0)
        goto fail;
    return scene;
fail:
    free(scene);
    if (error != NULL && error_size > 0)
        error_text_set(error, error_size, "out of memory for a %dx%d sim scene", width, height);
    return NULL;
}

/* Free the scene and everything it owns; NULL is ignored. */
void sim_scene_destroy(struct sim_scene *scene)
{
    if (scene == NULL)
        return;
    sim_scene_free_buffers(scene);
    free(scene);
}

/* Rebuild at a new size; on failure the old size stays in place. */
int sim_scene_resize(struct sim_scene *scene, int width, int height)
{
    if (width < SIM_SCENE_MIN_WIDTH || height < SIM_SCENE_MIN_HEIGHT || width % 2 != 0 ||
        height % 2 != 0) {
        log_error("sim scene: unsupported size %dx%d", width, height);
        return -1;
    }
    if (width == scene->width && height == scene->height)
        return 0;
    if (sim_scene_build(scene, width, height) != 0) {
        log_error("sim scene: out of memory resizing to %dx%d", width, height);
        return -1;
    }
    return 0;
}

/* Remember a trigger in the ring of its kind (oldest dropped when full). */
void sim_scene_trigger(struct sim_scene *scene, enum camera_trigger trigger, int64_t scene_time_us)
{
    int state;
    int lighting = sim_scene_lighting_of(trigger, &state);
    if (lighting < 0 && sim_scene_object_of(trigger) < 0)
        return;
    int index = SIM_RING_OBJECTS;
    if (lighting == SIM_LIGHTING_AMBIENT)
        index = SIM_RING_AMBIENT;
    else if (lighting == SIM_LIGHTING_LAMP)
        index = SIM_RING_LAMP;
    else if (trigger == CAMERA_TRIGGER_DELIVER || trigger == CAMERA_TRIGGER_TAKE)
        index = SIM_RING_PARCEL;
    struct sim_scene_ring *ring = &scene->rings[index];
    assert(ring->capacity > 0 && ring->capacity <= SIM_SCENE_EVENT_CAPACITY);
    ring->events[ring->next] = (struct sim_scene_event){scene_time_us, trigger};
    ring->next = (ring->next + 1) % ring->capacity;
    if (ring->count < ring->capacity)
        ring->count++;
}

/* The static script table. */
const struct sim_script_event *sim_scene_script(size_t *count_out)
{
    if (count_out != NULL)
        *count_out = (size_t)SIM_SCENE_SCRIPT_COUNT;
    return sim_scene_script_events;
}

/* Relight the background into scene->lit for the moment's light levels:
 * a lookup table outside the porch-light pool, one multiply per pixel in it.
 * Runs only when the levels differ from the cached ones. */
static void sim_scene_relight(struct sim_scene *scene, const struct sim_scene_moment *moment)
{
    int width = scene->width, height = scene->height;
    struct sim_scene_light ambient = sim_scene_light_for(moment, 0);
    struct sim_scene_light full = sim_scene_light_for(moment, 255);
    uint8_t luma_table[256], chroma_table[256];
    for (int value = 0; value < 256; value++) {
        struct sim_scene_colour colour = {(uint8_t)value, (uint8_t)value, (uint8_t)value};
        struct sim_scene_colour lit = sim_scene_colour_lit(colour, &ambient);
        luma_table[value] = lit.y;
        chroma_table[value] = lit.u;
    }
    int lamp_gain = full.gain_q8 - ambient.gain_q8; /* extra gain at weight 255 */
    int pool_width = scene->pool_x1 - scene->pool_x0;
    const uint8_t *source = scene->background;
    uint8_t *target = scene->lit;
    for (int y = 0; y < height; y++) {
        const uint8_t *in = source + (size_t)y * (size_t)width;
        uint8_t *out = target + (size_t)y * (size_t)width;
        int in_pool = lamp_gain > 0 && y >= scene->pool_y0 && y < scene->pool_y1;
        int x0 = in_pool ? scene->pool_x0 : width, x1 = in_pool ? scene->pool_x1 : width;
        for (int x = 0; x < x0; x++)
            out[x] = luma_table[in[x]];
        if (in_pool) {
            const uint8_t *weight = scene->pool_weight + (size_t)(y - scene->pool_y0) * pool_width;
            for (int x = x0; x < x1; x++) {
                int gain = ambient.gain_q8 + ((lamp_gain * weight[x - x0]) >> 8);
                int value = 16 + ((((int)in[x] - 16) * gain) >> 8);
                value = value > SIM_SCENE_LUMA_MAX ? SIM_SCENE_LUMA_MAX : value;
                out[x] = (uint8_t)(value < SIM_SCENE_LUMA_MIN ? SIM_SCENE_LUMA_MIN : value);
            }
        }
        for (int x = x1; x < width; x++)
            out[x] = luma_table[in[x]];
    }
    size_t luma_size = (size_t)width * (size_t)height;
    int chroma_width = width / 2, chroma_height = height / 2;
    for (int plane = 0; plane < 2; plane++) {
        size_t base = luma_size + (size_t)plane * luma_size / 4;
        int tint = plane == 0 ? full.tint_u : full.tint_v;
        for (int y = 0; y < chroma_height; y++) {
            const uint8_t *in = source + base + (size_t)y * (size_t)chroma_width;
            uint8_t *out = target + base + (size_t)y * (size_t)chroma_width;
            for (int x = 0; x < chroma_width; x++)
                out[x] = chroma_table[in[x]];
            if (tint == 0 || 2 * y < scene->pool_y0 || 2 * y >= scene->pool_y1)
                continue;
            for (int x = scene->pool_x0 / 2; x < scene->pool_x1 / 2; x++)
                out[x] =
                    (uint8_t)(out[x] + tint * sim_scene_pool_weight_at(scene, 2 * x, 2 * y) / 255);
        }
    }

    /* The lamp globe itself glows with the light level. */
    struct sim_scene_canvas canvas = sim_scene_canvas_make(
        target, width, target + luma_size, target + luma_size * 5 / 4, width / 2, width, height);
    int lamp_x = sim_scene_px(SIM_LAYOUT_LAMP_X, width);
    int lamp_y = sim_scene_px(SIM_LAYOUT_LAMP_Y, height);
    int radius = sim_scene_px(SIM_LAYOUT_LAMP_RADIUS, height);
    struct sim_scene_colour off = sim_scene_colour_lit(sim_scene_rgb(190, 185, 160), &ambient);
    struct sim_scene_colour on = sim_scene_rgb(255, 240, 190);
    struct sim_scene_light on_light = {256, 256 - moment->night_q8, 0, 0};
    on = sim_scene_colour_lit(on, &on_light);
    int level = moment->lamp_q8;
    struct sim_scene_colour globe = {
        (uint8_t)(off.y + (on.y - off.y) * level / 256),
        (uint8_t)(off.u + (on.u - off.u) * level / 256),
        (uint8_t)(off.v + (on.v - off.v) * level / 256),
    };
    sim_scene_fill_ellipse(&canvas, lamp_x - radius, lamp_y - radius, lamp_x + radius,
                           lamp_y + radius, globe);

    scene->lit_night_q8 = moment->night_q8;
    scene->lit_lamp_q8 = moment->lamp_q8;
    scene->lit_valid = 1;
}

/* Copy a plane of width x height bytes row by row into a strided target. */
static void sim_scene_copy_plane(uint8_t *target, int stride, const uint8_t *source, int width,
                                 int height)
{
    if (stride == width) {
        memcpy(target, source, (size_t)width * (size_t)height);
        return;
    }
    for (int y = 0; y < height; y++)
        memcpy(target + (size_t)y * (size_t)stride, source + (size_t)y * (size_t)width,
               (size_t)width);
}

/* Render one frame at t into the caller's planes (see sim_scene.h). */
void sim_scene_render(struct sim_scene *scene, int64_t scene_time_us, uint8_t *y, int stride_y,
                      uint8_t *u, uint8_t *v, int stride_uv, struct sim_ground_truth *truth)
{
    assert(scene != NULL && y != NULL && u != NULL && v != NULL);
    assert(stride_y >= scene->width && stride_uv >= scene->width / 2);
    int width = scene->width, height = scene->height;
    struct sim_scene_moment moment;
    sim_scene_moment_at(scene, scene_time_us, &moment);

    const uint8_t *source = scene->background;
    if (moment.night_q8 != 0 || moment.lamp_q8 != 0) {
        if (!scene->lit_valid || scene->lit_night_q8 != moment.night_q8 ||
            scene->lit_lamp_q8 != moment.lamp_q8)
            sim_scene_relight(scene, &moment);
        source = scene->lit;
    }
    size_t luma_size = (size_t)width * (size_t)height;
    sim_scene_copy_plane(y, stride_y, source, width, height);
    sim_scene_copy_plane(u, stride_uv, source + luma_size, width / 2, height / 2);
    sim_scene_copy_plane(v, stride_uv, source + luma_size * 5 / 4, width / 2, height / 2);

    struct sim_scene_canvas canvas =
        sim_scene_canvas_make(y, stride_y, u, v, stride_uv, width, height);
    struct sim_scene_figure figures[SIM_SCENE_MAX_OBJECTS];
    int built[SIM_SCENE_MAX_OBJECTS];
    sim_scene_figures_build(scene, &moment, figures, built);
    for (int i = 0; i < moment.object_count; i++) {
        struct sim_object_box box;
        if (!built[i] || sim_scene_figure_box(&figures[i], width, height, &box) != 0)
            continue;
        int centre_x = (int)((box.x + box.width / 2) * width);
        int centre_y = (int)((box.y + box.height / 2) * height);
        struct sim_scene_light light =
            sim_scene_light_for(&moment, sim_scene_pool_weight_at(scene, centre_x, centre_y));
        sim_scene_figure_draw(&canvas, &figures[i], &light);
    }

    /* Sensor noise: each row adds the table from a random offset. Luma is
     * within [20, 231] here, so a byte add of -4..4 cannot wrap. */
    for (int row = 0; row < height; row++) {
        const uint8_t *noise =
            scene->noise + (sim_scene_random(&scene->noise_state) & (SIM_SCENE_NOISE_SPAN - 1));
        uint8_t *line = y + (size_t)row * (size_t)stride_y;
        for (int x = 0; x < width; x++)
            line[x] = (uint8_t)(line[x] + noise[x]);
    }

    if (truth != NULL)
        sim_scene_truth_fill(scene, scene_time_us, &moment, figures, built, truth);
}
