/*
 * sim_scene_draw.c - drawing primitives of the sim scene on an I420 canvas:
 * colour conversion, filled rectangles and ellipses with clipping, a seeded
 * PRNG and a texture painter for the background. Capture thread only; draws
 * into caller-owned planes and allocates nothing.
 *
 * Per-pixel work is integer only; floating point appears once per row (the
 * ellipse span) or once per shape.
 */
#include "camera/sim_scene_internal.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define SIM_DRAW_LUMA_MIN   20
#define SIM_DRAW_LUMA_MAX   231
#define SIM_DRAW_CHROMA_MIN 16
#define SIM_DRAW_CHROMA_MAX 240

/* Clamp value into [low, high]. */
static int sim_scene_clamp(int value, int low, int high)
{
    return value < low ? low : value > high ? high : value;
}

/* A canvas over caller-owned planes, clipped to the whole picture. */
struct sim_scene_canvas sim_scene_canvas_make(uint8_t *y, int stride_y, uint8_t *u, uint8_t *v,
                                              int stride_uv, int width, int height)
{
    struct sim_scene_canvas canvas = {
        .y = y,
        .u = u,
        .v = v,
        .width = width,
        .height = height,
        .stride_y = stride_y,
        .stride_uv = stride_uv,
        .clip_x0 = 0,
        .clip_y0 = 0,
        .clip_x1 = width,
        .clip_y1 = height,
    };
    return canvas;
}

/* BT.601 limited-range YUV of an sRGB colour. Luma is kept inside [20, 231]
 * so that sensor noise added later never wraps around. */
struct sim_scene_colour sim_scene_rgb(int red, int green, int blue)
{
    int luma = ((66 * red + 129 * green + 25 * blue + 128) >> 8) + 16;
    int cb = ((-38 * red - 74 * green + 112 * blue + 128 + (128 << 8)) >> 8);
    int cr = ((112 * red - 94 * green - 18 * blue + 128 + (128 << 8)) >> 8);
    struct sim_scene_colour colour = {
        .y = (uint8_t)sim_scene_clamp(luma, SIM_DRAW_LUMA_MIN, SIM_DRAW_LUMA_MAX),
        .u = (uint8_t)sim_scene_clamp(cb, SIM_DRAW_CHROMA_MIN, SIM_DRAW_CHROMA_MAX),
        .v = (uint8_t)sim_scene_clamp(cr, SIM_DRAW_CHROMA_MIN, SIM_DRAW_CHROMA_MAX),
    };
    return colour;
}

/* A colour as it looks under `light` (same maths as the background relight). */
struct sim_scene_colour sim_scene_colour_lit(struct sim_scene_colour colour,
                                             const struct sim_scene_light *light)
{
    int luma = 16 + (((int)colour.y - 16) * light->gain_q8) / 256;
    int cb = 128 + (((int)colour.u - 128) * light->saturation_q8) / 256 + light->tint_u;
    int cr = 128 + (((int)colour.v - 128) * light->saturation_q8) / 256 + light->tint_v;
    struct sim_scene_colour lit = {
        .y = (uint8_t)sim_scene_clamp(luma, SIM_DRAW_LUMA_MIN, SIM_DRAW_LUMA_MAX),
        .u = (uint8_t)sim_scene_clamp(cb, SIM_DRAW_CHROMA_MIN, SIM_DRAW_CHROMA_MAX),
        .v = (uint8_t)sim_scene_clamp(cr, SIM_DRAW_CHROMA_MIN, SIM_DRAW_CHROMA_MAX),
    };
    return lit;
}

/* xorshift32; *state must not be 0. */
uint32_t sim_scene_random(uint32_t *state)
{
    uint32_t x = *state;
    assert(x != 0);
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Uniform-ish integer in [low, high]. */
int sim_scene_random_range(uint32_t *state, int low, int high)
{
    assert(high >= low);
    return low + (int)(sim_scene_random(state) % (uint32_t)(high - low + 1));
}

/* fraction of size, rounded to a pixel. */
int sim_scene_px(double fraction, int size)
{
    return (int)lround(fraction * size);
}

/* Intersect [*x0, *x1) x [*y0, *y1) with the canvas clip; 0 if empty. */
static int sim_scene_clip(const struct sim_scene_canvas *canvas, int *x0, int *y0, int *x1, int *y1)
{
    if (*x0 < canvas->clip_x0)
        *x0 = canvas->clip_x0;
    if (*y0 < canvas->clip_y0)
        *y0 = canvas->clip_y0;
    if (*x1 > canvas->clip_x1)
        *x1 = canvas->clip_x1;
    if (*y1 > canvas->clip_y1)
        *y1 = canvas->clip_y1;
    return *x0 < *x1 && *y0 < *y1;
}

/* Fill one chroma span [cx0, cx1) of chroma row `row`, clipped. */
static void sim_scene_fill_chroma_span(const struct sim_scene_canvas *canvas, int row, int cx0,
                                       int cx1, struct sim_scene_colour colour)
{
    int clip_x0 = canvas->clip_x0 / 2, clip_x1 = (canvas->clip_x1 + 1) / 2;
    if (row < canvas->clip_y0 / 2 || row >= (canvas->clip_y1 + 1) / 2)
        return;
    if (cx0 < clip_x0)
        cx0 = clip_x0;
    if (cx1 > clip_x1)
        cx1 = clip_x1;
    if (cx0 >= cx1)
        return;
    size_t offset = (size_t)row * (size_t)canvas->stride_uv + (size_t)cx0;
    memset(canvas->u + offset, colour.u, (size_t)(cx1 - cx0));
    memset(canvas->v + offset, colour.v, (size_t)(cx1 - cx0));
}

/* Fill [x0, x1) x [y0, y1) (luma pixels) in all three planes. */
void sim_scene_fill_rect(const struct sim_scene_canvas *canvas, int x0, int y0, int x1, int y1,
                         struct sim_scene_colour colour)
{
    int cx0 = x0 / 2, cx1 = (x1 + 1) / 2, cy0 = y0 / 2, cy1 = (y1 + 1) / 2;
    if (!sim_scene_clip(canvas, &x0, &y0, &x1, &y1))
        return;
    for (int row = y0; row < y1; row++)
        memset(canvas->y + (size_t)row * (size_t)canvas->stride_y + (size_t)x0, colour.y,
               (size_t)(x1 - x0));
    for (int row = cy0 < 0 ? 0 : cy0; row < cy1; row++)
        sim_scene_fill_chroma_span(canvas, row, cx0, cx1, colour);
}

/* Fill the ellipse inscribed in [x0, x1) x [y0, y1). */
void sim_scene_fill_ellipse(const struct sim_scene_canvas *canvas, int x0, int y0, int x1, int y1,
                            struct sim_scene_colour colour)
{
    if (x1 <= x0 || y1 <= y0)
        return;
    double centre_x = (x0 + x1) / 2.0, centre_y = (y0 + y1) / 2.0;
    double radius_x = (x1 - x0) / 2.0, radius_y = (y1 - y0) / 2.0;
    int row_start = y0 < canvas->clip_y0 ? canvas->clip_y0 : y0;
    int row_end = y1 > canvas->clip_y1 ? canvas->clip_y1 : y1;
    for (int row = row_start; row < row_end; row++) {
        double dy = (row + 0.5 - centre_y) / radius_y;
        if (dy <= -1.0 || dy >= 1.0)
            continue;
        double half = radius_x * sqrt(1.0 - dy * dy);
        int xs = (int)lround(centre_x - half), xe = (int)lround(centre_x + half);
        int ys = row, ye = row + 1;
        if (!sim_scene_clip(canvas, &xs, &ys, &xe, &ye))
            continue;
        memset(canvas->y + (size_t)row * (size_t)canvas->stride_y + (size_t)xs, colour.y,
               (size_t)(xe - xs));
    }
    for (int row = (y0 < 0 ? 0 : y0 / 2); row < (y1 + 1) / 2; row++) {
        double dy = (2 * row + 1 - centre_y) / radius_y;
        if (dy <= -1.0 || dy >= 1.0)
            continue;
        double half = radius_x * sqrt(1.0 - dy * dy);
        int cx0 = (int)lround((centre_x - half) / 2.0), cx1 = (int)lround((centre_x + half) / 2.0);
        sim_scene_fill_chroma_span(canvas, row, cx0, cx1, colour);
    }
}

/* Deterministic lattice value in [-amplitude, amplitude] for grid point (gx, gy). */
static int sim_scene_lattice(uint32_t salt, int gx, int gy, int amplitude)
{
    uint32_t hash = salt ^ ((uint32_t)gx * 0x9e3779b1u) ^ ((uint32_t)gy * 0x85ebca77u);
    hash ^= hash >> 15;
    hash *= 0x2c1b3c6du;
    hash ^= hash >> 12;
    hash *= 0x297a2d39u;
    hash ^= hash >> 15;
    return (int)(hash % (uint32_t)(2 * amplitude + 1)) - amplitude;
}

/* Add texture to the luma already painted in [x0, x1) x [y0, y1): smooth
 * value noise on a coarse_cell grid (bilinear) plus per-pixel grain. Used
 * once when the background is built, not per frame. */
void sim_scene_texture_rect(const struct sim_scene_canvas *canvas, int x0, int y0, int x1, int y1,
                            int fine_amplitude, int coarse_amplitude, int coarse_cell,
                            uint32_t *random_state)
{
    assert(coarse_cell > 0 && fine_amplitude >= 0 && coarse_amplitude >= 0);
    uint32_t salt = sim_scene_random(random_state);
    int origin_x = x0, origin_y = y0;
    if (!sim_scene_clip(canvas, &x0, &y0, &x1, &y1))
        return;
    int cell_area = coarse_cell * coarse_cell;
    for (int row = y0; row < y1; row++) {
        uint8_t *line = canvas->y + (size_t)row * (size_t)canvas->stride_y;
        int gy = (row - origin_y) / coarse_cell, fy = (row - origin_y) % coarse_cell;
        for (int column = x0; column < x1; column++) {
            int delta = 0;
            if (coarse_amplitude > 0) {
                int gx = (column - origin_x) / coarse_cell, fx = (column - origin_x) % coarse_cell;
                int top = sim_scene_lattice(salt, gx, gy, coarse_amplitude) * (coarse_cell - fx) +
                          sim_scene_lattice(salt, gx + 1, gy, coarse_amplitude) * fx;
                int bottom =
                    sim_scene_lattice(salt, gx, gy + 1, coarse_amplitude) * (coarse_cell - fx) +
                    sim_scene_lattice(salt, gx + 1, gy + 1, coarse_amplitude) * fx;
                delta = (top * (coarse_cell - fy) + bottom * fy) / cell_area;
            }
            if (fine_amplitude > 0)
                delta += sim_scene_random_range(random_state, -fine_amplitude, fine_amplitude);
            line[column] = (uint8_t)sim_scene_clamp(line[column] + delta, SIM_DRAW_LUMA_MIN,
                                                    SIM_DRAW_LUMA_MAX);
        }
    }
}
