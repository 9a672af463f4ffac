/*
 * test_person_detector.c - cmocka tests of the hub's person detector
 * (appliance/detection/person_detector.c and its HOG wrapper) on real
 * footage: OpenCV's sample videos (package opencv-doc, never copied into
 * the repository), cut into JPEG frames with ffmpeg at test time into a
 * temporary directory. People are found in the frames of vtest.avi where
 * they walk, on the whole frame and around motion boxes (found inside the
 * boxes given); none in any frame of tree.avi (a tree in the wind). And
 * motion boxes no doorbell should send do no harm.
 *
 * Without opencv-doc the tests skip; under CI=true they fail instead.
 * Single-threaded; the temporary directory is removed at the end.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/detection/person_detector.c appliance/detection/person_detector_hog.cpp appliance/detection/detection_image.c */
/* UNIT_SOURCES: tests/unit/support/jpeg_fixture.c tests/unit/support/media_judge.c tests/unit/support/test_files.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detection/detection_image.h"
#include "detection/person_detector.h"
#include "support/jpeg_fixture.h"

#define FOOTAGE_DIR   "/usr/share/doc/opencv-doc/examples/data"
#define VTEST_VIDEO   FOOTAGE_DIR "/vtest.avi"
#define TREE_VIDEO    FOOTAGE_DIR "/tree.avi"
#define VTEST_STEP    10 /* vtest samples: frames 0, 10, 20... */
#define VTEST_SAMPLES 12
#define TREE_STEP     4
#define TREE_SAMPLES  17 /* all of tree.avi's 68 frames, every 4th */

struct footage {
    char directory[64];
    char vtest[96], tree[96];
    struct person_detector *detector;
};

static int footage_remove(const char *path, const struct stat *info, int type, struct FTW *walk)
{
    (void)info;
    (void)type;
    (void)walk;
    return remove(path);
}

/* True when the environment says this is CI (missing footage fails then). */
static int footage_ci(void)
{
    const char *ci = getenv("CI");
    return ci != NULL &&
           (strcmp(ci, "1") == 0 || strcasecmp(ci, "true") == 0 || strcasecmp(ci, "yes") == 0);
}

static int setup(void **state)
{
    struct footage *footage = calloc(1, sizeof(*footage));
    char error[160] = "";
    assert_non_null(footage);
    *state = footage;
    snprintf(footage->directory, sizeof(footage->directory), "/tmp/doorstep-detector-XXXXXX");
    assert_non_null(mkdtemp(footage->directory));
    footage->detector = person_detector_create(error, sizeof(error));
    if (footage->detector == NULL)
        fail_msg("no detector: %s", error);
    if (access(VTEST_VIDEO, R_OK) != 0 || access(TREE_VIDEO, R_OK) != 0)
        return 0; /* each test skips, or fails under CI */
    snprintf(footage->vtest, sizeof(footage->vtest), "%s/vtest", footage->directory);
    snprintf(footage->tree, sizeof(footage->tree), "%s/tree", footage->directory);
    assert_int_equal(mkdir(footage->vtest, 0700), 0);
    assert_int_equal(mkdir(footage->tree, 0700), 0);
    jpeg_fixture_extract_every(VTEST_VIDEO, VTEST_STEP, VTEST_SAMPLES, footage->vtest);
    jpeg_fixture_extract_every(TREE_VIDEO, TREE_STEP, TREE_SAMPLES, footage->tree);
    return 0;
}

static int teardown(void **state)
{
    struct footage *footage = *state;
    person_detector_free(footage->detector);
    nftw(footage->directory, footage_remove, 8, FTW_DEPTH | FTW_PHYS);
    free(footage);
    return 0;
}

/* Skip (or fail under CI) when opencv-doc's footage is not installed. */
static int footage_missing(const struct footage *footage)
{
    if (footage->vtest[0] != '\0')
        return 0;
    if (footage_ci())
        fail_msg("%s is missing: install opencv-doc (scripts/deps.sh)", VTEST_VIDEO);
    skip();
    return 1;
}

/* Detect in sample index of directory with the given regions. */
static int footage_detect(const struct footage *footage, const char *directory, int index,
                          const struct detection_box *regions, int region_count,
                          struct person_detection *persons)
{
    size_t size = 0;
    uint8_t *jpeg = jpeg_fixture_read_sample(directory, index, &size);
    struct detection_image image;
    char error[160] = "";
    if (detection_image_decode_gray(jpeg, size, &image, error, sizeof(error)) != 0)
        fail_msg("sample %d: %s", index, error);
    int found = person_detector_run(footage->detector, image.pixels, image.width, image.height,
                                    regions, region_count, persons, PERSON_DETECTOR_MAX_PERSONS,
                                    error, sizeof(error));
    if (found < 0)
        fail_msg("sample %d: %s", index, error);
    for (int i = 0; i < found; i++) {
        assert_true(persons[i].confidence >= PERSON_DETECTOR_MIN_CONFIDENCE &&
                    persons[i].confidence <= 1.0);
        assert_true(persons[i].box.x >= 0.0 && persons[i].box.y >= 0.0 &&
                    persons[i].box.x + persons[i].box.w <= 1.0 + 1e-9 &&
                    persons[i].box.y + persons[i].box.h <= 1.0 + 1e-9);
        if (i > 0)
            assert_true(persons[i].confidence <= persons[i - 1].confidence);
    }
    detection_image_release(&image);
    free(jpeg);
    return found;
}

/* Whole frames of vtest.avi (people walk in every one): people are found
 * in most, and only on the ground where people walk (not the lawn in the
 * lower third, not the building or the sky). */
static void test_people_in_vtest_whole_frame(void **state)
{
    struct footage *footage = *state;
    struct person_detection persons[PERSON_DETECTOR_MAX_PERSONS];
    int frames_with_people = 0;

    if (footage_missing(footage))
        return;
    for (int index = 1; index < VTEST_SAMPLES; index++) {
        int found = footage_detect(footage, footage->vtest, index, NULL, 0, persons);
        frames_with_people += found > 0;
        for (int i = 0; i < found; i++) {
            double centre_y = persons[i].box.y + persons[i].box.h / 2;
            if (centre_y < 0.15 || centre_y > 0.75)
                fail_msg("frame %d: a person at y %.2f, off the paths", index * VTEST_STEP,
                         centre_y);
        }
    }
    if (frames_with_people < (VTEST_SAMPLES - 1) * 3 / 4)
        fail_msg("people found in %d of %d vtest frames", frames_with_people, VTEST_SAMPLES - 1);
}

/* Around motion boxes (where background subtraction put the walkers of
 * frames 20 and 60; tests/data/labels/README.md): each walker is found, and
 * every person found lies inside a box's neighbourhood. */
static void test_people_in_vtest_motion_boxes(void **state)
{
    struct footage *footage = *state;
    struct person_detection persons[PERSON_DETECTOR_MAX_PERSONS];
    /* Pixels of the 768x576 frame: x, y, w, h. */
    static const int frame20[][4] = {{364, 193, 36, 85}, {437, 233, 46, 87}, {679, 269, 77, 109}};
    static const int frame60[][4] = {{616, 234, 35, 108}, {464, 201, 69, 94}, {366, 169, 62, 96}};
    static const struct {
        int sample, count;
        const int (*boxes)[4];
    } cases[] = {{2, 3, frame20}, {6, 3, frame60}};

    if (footage_missing(footage))
        return;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct detection_box regions[4];
        for (int i = 0; i < cases[c].count; i++)
            regions[i] =
                (struct detection_box){cases[c].boxes[i][0] / 768.0, cases[c].boxes[i][1] / 576.0,
                                       cases[c].boxes[i][2] / 768.0, cases[c].boxes[i][3] / 576.0};
        int found = footage_detect(footage, footage->vtest, cases[c].sample, regions,
                                   cases[c].count, persons);
        int boxes_with_person = 0;
        for (int i = 0; i < cases[c].count; i++) {
            const struct detection_box *r = &regions[i];
            for (int p = 0; p < found; p++) {
                double cx = persons[p].box.x + persons[p].box.w / 2;
                double cy = persons[p].box.y + persons[p].box.h / 2;
                if (cx >= r->x && cx <= r->x + r->w && cy >= r->y && cy <= r->y + r->h) {
                    boxes_with_person++;
                    break;
                }
            }
        }
        if (boxes_with_person < cases[c].count)
            fail_msg("frame %d: people in %d of %d motion boxes (%d found)",
                     cases[c].sample * VTEST_STEP, boxes_with_person, cases[c].count, found);
    }
}

/* A tree in the wind: no person in any frame, whole or around the crown. */
static void test_nobody_in_tree(void **state)
{
    struct footage *footage = *state;
    struct person_detection persons[PERSON_DETECTOR_MAX_PERSONS];
    const struct detection_box crown = {0.3, 0.1, 0.4, 0.6};

    if (footage_missing(footage))
        return;
    for (int index = 0; index < TREE_SAMPLES; index++) {
        int whole = footage_detect(footage, footage->tree, index, NULL, 0, persons);
        int near = footage_detect(footage, footage->tree, index, &crown, 1, persons);
        if (whole != 0 || near != 0)
            fail_msg("tree frame %d: %d people on the whole frame, %d near the crown (%.2f)",
                     index * TREE_STEP, whole, near, persons[0].confidence);
    }
}

/* Motion boxes a doorbell should not send (not a number, outside the
 * frame, empty, more than 16, all over each other) and a frame too small:
 * no crash, no read outside the picture (ASan), a count or a refusal. */
static void test_odd_regions_and_sizes(void **state)
{
    struct footage *footage = *state;
    struct person_detection persons[PERSON_DETECTOR_MAX_PERSONS];
    char error[160] = "";
    const int width = 320, height = 240;
    uint8_t *pixels = malloc((size_t)width * height);
    assert_non_null(pixels);
    for (int i = 0; i < width * height; i++)
        pixels[i] = (uint8_t)((i * 2654435761u) >> 24);
    struct detection_box odd[24] = {
        {NAN, 0.1, 0.2, 0.2},   {0.1, 0.1, INFINITY, 0.2},   {-5.0, -5.0, 20.0, 20.0},
        {0.9, 0.9, 0.5, 0.5},   {0.5, 0.5, 0.0, 0.3},        {0.2, 0.2, -0.1, 0.3},
        {1.5, 1.5, 0.1, 0.1},   {0.0, 0.0, 1.0, 1.0},        {0.999, 0.0, 0.001, 0.001},
        {1e300, 0.5, 0.1, 0.1}, {0.5, -1e300, 1e300, 1e300},
    };
    for (int i = 11; i < 24; i++)
        odd[i] = (struct detection_box){0.04 * i, 0.03 * i, 0.05, 0.1};
    for (int count = 0; count <= 24; count++) {
        int found = person_detector_run(footage->detector, pixels, width, height, odd, count,
                                        persons, PERSON_DETECTOR_MAX_PERSONS, error, sizeof(error));
        if (found < 0)
            fail_msg("%d odd boxes: %s", count, error);
    }
    /* Only boxes with no area: nothing to look at. */
    assert_int_equal(person_detector_run(footage->detector, pixels, width, height, odd + 4, 2,
                                         persons, PERSON_DETECTOR_MAX_PERSONS, error,
                                         sizeof(error)),
                     0);
    /* Smaller than the window. */
    assert_int_equal(person_detector_run(footage->detector, pixels, 32, 32, NULL, 0, persons,
                                         PERSON_DETECTOR_MAX_PERSONS, error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "too small"));
    free(pixels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_people_in_vtest_whole_frame),
        cmocka_unit_test(test_people_in_vtest_motion_boxes),
        cmocka_unit_test(test_nobody_in_tree),
        cmocka_unit_test(test_odd_regions_and_sizes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
