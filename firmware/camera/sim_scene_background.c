/*
 * sim_scene_background.c - paints the static daylight background of the sim
 * porch scene once per size: sky and trees, the street with a kerb and a
 * sidewalk, the lawn and a paved path, the house wall with siding, a window,
 * the front door in its frame, the bell, the porch lamp, the porch floor, a
 * doormat and a flower pot. Deterministic for a given seed.
 *
 * Called by sim_scene.c on the capture thread when the scene is created or
 * resized; draws into planes the scene owns and keeps no state.
 */
#include "camera/sim_scene_internal.h"

#include <assert.h>

/* Short-hands: fraction of the width / height in pixels. */
#define PX(fraction) sim_scene_px((fraction), canvas->width)
#define PY(fraction) sim_scene_px((fraction), canvas->height)

/* Sky gradient (light blue to pale near the horizon), a hedge and tree
 * crowns behind the street. */
static void sim_scene_paint_sky(const struct sim_scene_canvas *canvas, uint32_t *random_state)
{
    int horizon = PY(SIM_LAYOUT_STREET_TOP);
    for (int row = 0; row < horizon; row++) {
        int t = row * 256 / horizon;
        struct sim_scene_colour colour =
            sim_scene_rgb(120 + (65 * t >> 8), 165 + (45 * t >> 8), 215 + (15 * t >> 8));
        sim_scene_fill_rect(canvas, 0, row, canvas->width, row + 1, colour);
    }
    for (int tree = 0; tree < 16; tree++) {
        double centre_x = 0.40 + 0.62 * sim_scene_random_range(random_state, 0, 1000) / 1000.0;
        double centre_y = 0.09 + 0.08 * sim_scene_random_range(random_state, 0, 1000) / 1000.0;
        int radius = PY(0.03 + 0.04 * sim_scene_random_range(random_state, 0, 1000) / 1000.0);
        int green = sim_scene_random_range(random_state, 75, 110);
        struct sim_scene_colour crown = sim_scene_rgb(green / 2, green, green / 3);
        int x = PX(centre_x), y = PY(centre_y);
        sim_scene_fill_rect(canvas, x - radius / 8, y, x + radius / 8, horizon,
                            sim_scene_rgb(70, 55, 40));
        sim_scene_fill_ellipse(canvas, x - radius, y - radius, x + radius, y + radius, crown);
        sim_scene_texture_rect(canvas, x - radius, y - radius, x + radius, y + radius, 5, 10,
                               PY(0.012) + 1, random_state);
    }
    int hedge_top = PY(0.17);
    sim_scene_fill_rect(canvas, 0, hedge_top, canvas->width, horizon, sim_scene_rgb(45, 85, 40));
    sim_scene_texture_rect(canvas, 0, hedge_top, canvas->width, horizon, 6, 8, PY(0.01) + 1,
                           random_state);
}

/* Asphalt with lane dashes, a kerb and a sidewalk with joints. */
static void sim_scene_paint_street(const struct sim_scene_canvas *canvas, uint32_t *random_state)
{
    int top = PY(SIM_LAYOUT_STREET_TOP), bottom = PY(SIM_LAYOUT_STREET_BOTTOM);
    sim_scene_fill_rect(canvas, 0, top, canvas->width, bottom, sim_scene_rgb(78, 78, 84));
    sim_scene_texture_rect(canvas, 0, top, canvas->width, bottom, 4, 4, PY(0.02) + 1, random_state);
    struct sim_scene_colour paint = sim_scene_rgb(225, 222, 200);
    for (double x = 0.0; x < 1.0; x += 0.10)
        sim_scene_fill_rect(canvas, PX(x), PY(0.255), PX(x + 0.05), PY(0.263), paint);

    int kerb = PY(0.325), lawn = PY(SIM_LAYOUT_LAWN_TOP);
    sim_scene_fill_rect(canvas, 0, bottom, canvas->width, kerb, sim_scene_rgb(190, 190, 185));
    sim_scene_fill_rect(canvas, 0, kerb, canvas->width, lawn, sim_scene_rgb(172, 168, 160));
    sim_scene_texture_rect(canvas, 0, kerb, canvas->width, lawn, 3, 5, PY(0.02) + 1, random_state);
    struct sim_scene_colour joint = sim_scene_rgb(120, 118, 112);
    for (double x = 0.03; x < 1.0; x += 0.06)
        sim_scene_fill_rect(canvas, PX(x), kerb, PX(x) + 2, lawn, joint);
}

/* Textured grass with darker blades, and a paved path that widens towards
 * the camera and leads to the porch. */
static void sim_scene_paint_lawn(const struct sim_scene_canvas *canvas, uint32_t *random_state)
{
    int top = PY(SIM_LAYOUT_LAWN_TOP);
    sim_scene_fill_rect(canvas, 0, top, canvas->width, canvas->height, sim_scene_rgb(72, 128, 52));
    sim_scene_texture_rect(canvas, 0, top, canvas->width, canvas->height, 5, 9, PY(0.03) + 1,
                           random_state);
    int blades = canvas->width * canvas->height / 300;
    struct sim_scene_colour dark = sim_scene_rgb(45, 95, 35), light = sim_scene_rgb(110, 160, 70);
    for (int blade = 0; blade < blades; blade++) {
        int x = sim_scene_random_range(random_state, 0, canvas->width - 1);
        int y = sim_scene_random_range(random_state, top, canvas->height - 1);
        int length = 2 + (y - top) * 6 / (canvas->height - top);
        sim_scene_fill_rect(canvas, x, y, x + 1, y + length, (blade & 1) ? dark : light);
    }

    struct sim_scene_colour paver = sim_scene_rgb(165, 155, 142);
    struct sim_scene_colour gap = sim_scene_rgb(95, 90, 82);
    int course = PY(0.045);
    for (int row = top; row < canvas->height; row++) {
        int t = (row - top) * 1024 / (canvas->height - top);
        int left = PX(0.74 + (0.47 - 0.74) * t / 1024.0);
        int right = PX(0.84 + (0.73 - 0.84) * t / 1024.0);
        int in_course = (row - top) % course;
        struct sim_scene_colour colour = in_course < 2 ? gap : paver;
        sim_scene_fill_rect(canvas, left, row, right, row + 1, colour);
        if (in_course >= 2)
            sim_scene_texture_rect(canvas, left, row, right, row + 1, 3, 0, 1, random_state);
        int middle = (left + right) / 2 + (((row - top) / course) & 1 ? (right - left) / 4 : 0);
        sim_scene_fill_rect(canvas, middle, row, middle + 2, row + 1, gap);
    }
}

/* The house wall: horizontal siding boards with shadow lines, an eave and a
 * white corner trim; a window with muntins. */
static void sim_scene_paint_wall(const struct sim_scene_canvas *canvas, uint32_t *random_state)
{
    int right = PX(SIM_LAYOUT_WALL_RIGHT), bottom = PY(SIM_LAYOUT_WALL_BOTTOM);
    int board = PY(0.032);
    assert(board > 2);
    for (int top = 0; top < bottom; top += board) {
        int shade = sim_scene_random_range(random_state, -6, 6);
        sim_scene_fill_rect(canvas, 0, top, right, top + board,
                            sim_scene_rgb(205 + shade, 195 + shade, 170 + shade));
        sim_scene_fill_rect(canvas, 0, top + board - 2, right, top + board,
                            sim_scene_rgb(140, 132, 112));
    }
    sim_scene_texture_rect(canvas, 0, 0, right, bottom, 2, 4, PY(0.04) + 1, random_state);
    sim_scene_fill_rect(canvas, 0, 0, right, PY(0.035), sim_scene_rgb(95, 82, 70));
    sim_scene_fill_rect(canvas, right - PX(0.008), 0, right, bottom, sim_scene_rgb(235, 235, 228));

    struct sim_scene_colour trim = sim_scene_rgb(235, 235, 228);
    sim_scene_fill_rect(canvas, PX(0.025), PY(0.24), PX(0.125), PY(0.56), trim);
    sim_scene_fill_rect(canvas, PX(0.033), PY(0.255), PX(0.117), PY(0.545),
                        sim_scene_rgb(55, 65, 82));
    struct sim_scene_canvas glass = *canvas;
    glass.clip_x0 = PX(0.033);
    glass.clip_x1 = PX(0.117);
    for (int row = PY(0.255); row < PY(0.545); row++) {
        int offset = (row - PY(0.255)) / 3;
        sim_scene_fill_rect(&glass, PX(0.05) + offset, row, PX(0.07) + offset, row + 1,
                            sim_scene_rgb(95, 110, 130));
    }
    sim_scene_fill_rect(canvas, PX(0.073), PY(0.255), PX(0.077), PY(0.545), trim);
    sim_scene_fill_rect(canvas, PX(0.033), PY(0.395), PX(0.117), PY(0.405), trim);
}

/* One recessed door panel with a light top/left bevel. */
static void sim_scene_paint_panel(const struct sim_scene_canvas *canvas, int x0, int y0, int x1,
                                  int y1)
{
    sim_scene_fill_rect(canvas, x0, y0, x1, y1, sim_scene_rgb(150, 50, 45));
    sim_scene_fill_rect(canvas, x0 + 2, y0 + 2, x1, y1, sim_scene_rgb(95, 26, 26));
    sim_scene_fill_rect(canvas, x0 + 4, y0 + 4, x1 - 2, y1 - 2, sim_scene_rgb(112, 32, 32));
}

/* Door frame, door with four panels and a knob, the bell button and the
 * porch lamp (its globe is relit every frame by sim_scene.c). */
static void sim_scene_paint_door(const struct sim_scene_canvas *canvas, uint32_t *random_state)
{
    int bottom = PY(SIM_LAYOUT_WALL_BOTTOM);
    int left = PX(SIM_LAYOUT_DOOR_LEFT), right = PX(SIM_LAYOUT_DOOR_RIGHT);
    int top = PY(SIM_LAYOUT_DOOR_TOP);
    int trim = PX(0.02);
    sim_scene_fill_rect(canvas, left - trim, top - PY(0.025), right + trim, bottom,
                        sim_scene_rgb(235, 235, 228));
    sim_scene_fill_rect(canvas, left - trim + 2, top - PY(0.025), left - trim + 4, bottom,
                        sim_scene_rgb(190, 190, 185));
    sim_scene_fill_rect(canvas, left, top, right, bottom, sim_scene_rgb(122, 36, 34));
    sim_scene_texture_rect(canvas, left, top, right, bottom, 2, 3, PY(0.05) + 1, random_state);

    int width = right - left, height = bottom - top;
    int margin_x = width / 8, margin_y = height / 12;
    int panel_w = (width - 3 * margin_x) / 2;
    int panel_h = (height - 3 * margin_y) / 2;
    for (int panel = 0; panel < 4; panel++) {
        int x = left + margin_x + (panel % 2) * (panel_w + margin_x);
        int y = top + margin_y + (panel / 2) * (panel_h + margin_y);
        sim_scene_paint_panel(canvas, x, y, x + panel_w, y + panel_h);
    }
    int knob = PY(0.009);
    int knob_x = right - width / 10, knob_y = PY(0.55);
    sim_scene_fill_ellipse(canvas, knob_x - knob, knob_y - knob, knob_x + knob, knob_y + knob,
                           sim_scene_rgb(205, 175, 70));

    int bell_x = PX(SIM_LAYOUT_BELL_X), bell_y = PY(SIM_LAYOUT_BELL_Y), bell = PY(0.018);
    sim_scene_fill_rect(canvas, bell_x - bell / 2, bell_y - bell, bell_x + bell / 2, bell_y + bell,
                        sim_scene_rgb(45, 45, 50));
    sim_scene_fill_ellipse(canvas, bell_x - bell / 3, bell_y - bell / 3, bell_x + bell / 3,
                           bell_y + bell / 3, sim_scene_rgb(120, 200, 230));

    int lamp_x = PX(SIM_LAYOUT_LAMP_X), lamp_y = PY(SIM_LAYOUT_LAMP_Y);
    int radius = PY(SIM_LAYOUT_LAMP_RADIUS);
    sim_scene_fill_rect(canvas, lamp_x - radius / 2, lamp_y - 2 * radius, lamp_x + radius / 2,
                        lamp_y + 2 * radius, sim_scene_rgb(35, 35, 35));
    sim_scene_fill_ellipse(canvas, lamp_x - radius, lamp_y - radius, lamp_x + radius,
                           lamp_y + radius, sim_scene_rgb(190, 185, 160));
}

/* Porch floor planks, the doormat and a flower pot. */
static void sim_scene_paint_porch(const struct sim_scene_canvas *canvas, uint32_t *random_state)
{
    int top = PY(SIM_LAYOUT_WALL_BOTTOM), right = PX(0.50);
    int plank = PY(0.04);
    assert(plank > 2);
    for (int y = top; y < canvas->height; y += plank) {
        int shade = sim_scene_random_range(random_state, -10, 10);
        sim_scene_fill_rect(canvas, 0, y, right, y + plank,
                            sim_scene_rgb(145 + shade, 102 + shade, 66 + shade));
        sim_scene_fill_rect(canvas, 0, y, right, y + 2, sim_scene_rgb(80, 55, 35));
    }
    sim_scene_texture_rect(canvas, 0, top, right, canvas->height, 3, 6, PY(0.015) + 1,
                           random_state);
    sim_scene_fill_rect(canvas, right - 4, top, right, canvas->height, sim_scene_rgb(90, 62, 40));

    int mat_left = PX(SIM_LAYOUT_DOOR_LEFT), mat_right = PX(SIM_LAYOUT_DOOR_RIGHT);
    int mat_top = PY(0.815), mat_bottom = PY(0.885), border = PY(0.008);
    sim_scene_fill_rect(canvas, mat_left, mat_top, mat_right, mat_bottom,
                        sim_scene_rgb(70, 50, 30));
    sim_scene_fill_rect(canvas, mat_left + border, mat_top + border, mat_right - border,
                        mat_bottom - border, sim_scene_rgb(135, 98, 58));
    sim_scene_texture_rect(canvas, mat_left, mat_top, mat_right, mat_bottom, 10, 0, 1,
                           random_state);

    sim_scene_fill_rect(canvas, PX(0.035), PY(0.70), PX(0.105), PY(0.82),
                        sim_scene_rgb(180, 92, 52));
    sim_scene_fill_rect(canvas, PX(0.03), PY(0.70), PX(0.11), PY(0.72), sim_scene_rgb(150, 75, 42));
    for (int leaf = 0; leaf < 9; leaf++) {
        int x = PX(0.07) + sim_scene_random_range(random_state, -PX(0.03), PX(0.03));
        int y = PY(0.65) + sim_scene_random_range(random_state, -PY(0.05), PY(0.03));
        int size = PY(0.025);
        sim_scene_fill_ellipse(canvas, x - size, y - size / 2, x + size, y + size / 2,
                               sim_scene_rgb(50 + 8 * leaf, 120 + 5 * leaf, 45));
    }
}

/* Paint the whole background, back to front. */
void sim_scene_paint_background(const struct sim_scene_canvas *canvas, uint32_t seed)
{
    assert(canvas->width >= SIM_SCENE_MIN_WIDTH && canvas->height >= SIM_SCENE_MIN_HEIGHT);
    uint32_t random_state = seed * 2654435761u ^ 0x5eed1234u;
    if (random_state == 0)
        random_state = 1;
    sim_scene_paint_sky(canvas, &random_state);
    sim_scene_paint_street(canvas, &random_state);
    sim_scene_paint_lawn(canvas, &random_state);
    sim_scene_paint_wall(canvas, &random_state);
    sim_scene_paint_door(canvas, &random_state);
    sim_scene_paint_porch(canvas, &random_state);
}
