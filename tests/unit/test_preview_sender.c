/*
 * test_preview_sender.c - cmocka tests of the doorbell's timeline previews
 * (firmware/preview/preview_sender.c): nothing without an interval from the
 * hub; in a gap the first keyframe goes at once (or any frame one interval
 * into the gap); then one per interval of capture time; a preview due while
 * the previous one is still being encoded or sent is skipped and counted,
 * never waited for; what goes up the link is a PREVIEW of the frame's
 * capture time, a JPEG scaled to at most 640 pixels wide. Detect frames:
 * their rate, their event, their boxes, and their own slot.
 *
 * The link is this file's stub of link_client_send_binary, which records
 * what it is given and can be held to keep the sender busy. The capture
 * side runs on the test's thread, the sender on its own.
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/preview/preview_sender.c firmware/snapshot/snapshot.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#include "common/link_protocol.h"
#include "link/link_client.h"
#include "preview/preview_sender.h"

#define INTERVAL_MS 2000
#define MS          1000ull /* microseconds */

/* What the stub link saw, and a gate that holds the sender inside it. */
static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stub_changed = PTHREAD_COND_INITIALIZER;
static int stub_sent, stub_held, stub_inside;
static uint8_t stub_type;
static uint64_t stub_timestamp_us;
static int stub_width;

static uint32_t stub_sequence;
static int stub_box_count;
static struct link_box stub_box;

/* The stub: read the JPEG's width (after a detect frame's boxes, which it
 * parses as the hub would), count, and wait while held. */
int link_client_send_binary(struct link_client *client, uint8_t type, uint32_t sequence,
                            uint64_t timestamp_us, const void *data, size_t size)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    struct link_detect_frame detect = {0};

    (void)client;
    if (type == LINK_DETECT_FRAME) {
        struct link_message message = {
            .header = {1, type, 0, sequence, timestamp_us}, .payload = data, .payload_size = size};
        char reason[128];
        assert_int_equal(link_detect_frame_parse(&message, &detect, reason, sizeof(reason)), 0);
        data = detect.jpeg;
        size = detect.jpeg_size;
    }
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    pthread_mutex_lock(&stub_lock);
    stub_width = (int)cinfo.image_width;
    stub_type = type;
    stub_sequence = sequence;
    stub_box_count = detect.box_count;
    if (detect.box_count > 0)
        stub_box = detect.boxes[0];
    stub_timestamp_us = timestamp_us;
    stub_inside = 1;
    pthread_cond_broadcast(&stub_changed);
    while (stub_held)
        pthread_cond_wait(&stub_changed, &stub_lock);
    stub_inside = 0;
    stub_sent++;
    pthread_cond_broadcast(&stub_changed);
    pthread_mutex_unlock(&stub_lock);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/* Wait until the stub has sent `count` and the sender is idle again. */
static void wait_sent(struct preview_sender *sender, int count)
{
    struct preview_sender_stats stats;
    for (int i = 0; i < 2000; i++) {
        preview_sender_get_stats(sender, &stats);
        if ((int)stats.sent == count)
            return;
        usleep(5000);
    }
    fail_msg("the sender never sent preview %d", count);
}

/* A grey 1280x720 frame captured at t_us. */
struct test_frame {
    struct camera_frame frame;
    uint8_t *planes;
};

static void frame_init(struct test_frame *test)
{
    test->planes = malloc(1280 * 720 * 3 / 2);
    assert_non_null(test->planes);
    memset(test->planes, 128, 1280 * 720 * 3 / 2);
    test->frame = (struct camera_frame){test->planes,
                                        test->planes + 1280 * 720,
                                        test->planes + 1280 * 720 * 5 / 4,
                                        1280,
                                        720,
                                        1280,
                                        640,
                                        0,
                                        0};
}

static int offer(struct preview_sender *sender, struct test_frame *test, uint64_t t_us,
                 int keyframe, int interval_ms)
{
    test->frame.capture_time_us = t_us;
    test->frame.sequence++;
    return preview_sender_offer(sender, &test->frame, keyframe, interval_ms);
}

static void test_due_gap_interval_busy(void **state)
{
    char error[128];
    struct preview_sender *sender = preview_sender_start(NULL, error, sizeof(error));
    struct preview_sender_stats stats;
    struct test_frame test;
    const uint64_t t0 = 1800000000000ull * MS;

    (void)state;
    assert_non_null(sender);
    frame_init(&test);

    /* No hub interval: nothing. */
    assert_int_equal(offer(sender, &test, t0, 1, 0), 0);
    /* A gap: a P-frame waits for the keyframe, which goes at once. */
    assert_int_equal(offer(sender, &test, t0 + 33 * MS, 0, INTERVAL_MS), 0);
    assert_int_equal(offer(sender, &test, t0 + 66 * MS, 1, INTERVAL_MS), 1);
    wait_sent(sender, 1);
    assert_int_equal(stub_type, LINK_PREVIEW);
    assert_true(stub_timestamp_us == t0 + 66 * MS);
    assert_int_equal(stub_width, PREVIEW_MAX_WIDTH);
    /* Then one per interval of capture time, keyframe or not. */
    assert_int_equal(offer(sender, &test, t0 + 2065 * MS, 0, INTERVAL_MS), 0);
    assert_int_equal(offer(sender, &test, t0 + 2066 * MS, 0, INTERVAL_MS), 1);
    wait_sent(sender, 2);

    /* Busy: held in the link; a due frame is skipped, counted, and not waited for. */
    pthread_mutex_lock(&stub_lock);
    stub_held = 1;
    pthread_mutex_unlock(&stub_lock);
    assert_int_equal(offer(sender, &test, t0 + 4066 * MS, 0, INTERVAL_MS), 1);
    pthread_mutex_lock(&stub_lock);
    while (!stub_inside)
        pthread_cond_wait(&stub_changed, &stub_lock);
    pthread_mutex_unlock(&stub_lock);
    assert_int_equal(offer(sender, &test, t0 + 6066 * MS, 0, INTERVAL_MS), 0);
    preview_sender_get_stats(sender, &stats);
    assert_int_equal(stats.busy, 1);
    pthread_mutex_lock(&stub_lock);
    stub_held = 0;
    pthread_cond_broadcast(&stub_changed);
    pthread_mutex_unlock(&stub_lock);
    wait_sent(sender, 3);
    /* The skipped one is still due: the next frame takes it. */
    assert_int_equal(offer(sender, &test, t0 + 6099 * MS, 0, INTERVAL_MS), 1);
    wait_sent(sender, 4);

    /* The hub went away and came back: a gap again, the first keyframe at once. */
    assert_int_equal(offer(sender, &test, t0 + 6500 * MS, 1, 0), 0);
    assert_int_equal(offer(sender, &test, t0 + 6600 * MS, 1, INTERVAL_MS), 1);
    wait_sent(sender, 5);
    /* A gap with no keyframe: a frame one interval into it. */
    assert_int_equal(offer(sender, &test, t0 + 7000 * MS, 0, 0), 0);
    assert_int_equal(offer(sender, &test, t0 + 7100 * MS, 0, INTERVAL_MS), 0);
    assert_int_equal(offer(sender, &test, t0 + 9099 * MS, 0, INTERVAL_MS), 0);
    assert_int_equal(offer(sender, &test, t0 + 9100 * MS, 0, INTERVAL_MS), 1);
    wait_sent(sender, 6);
    preview_sender_get_stats(sender, &stats);
    assert_int_equal(stats.failed, 0);
    assert_true(stats.copy_us > 0 && stats.encode_us > 0);

    preview_sender_stop(sender);
    free(test.planes);
}

/* Wait until the stub has sent `count` detect frames. */
static void wait_detect_sent(struct preview_sender *sender, int count)
{
    struct preview_sender_stats stats;
    for (int i = 0; i < 2000; i++) {
        preview_sender_get_stats(sender, &stats);
        if ((int)stats.detect_sent == count)
            return;
        usleep(5000);
    }
    fail_msg("the sender never sent detect frame %d", count);
}

static int offer_detect(struct preview_sender *sender, struct test_frame *test, uint64_t t_us,
                        uint32_t event_id, int box_count, int fps)
{
    struct link_box boxes[2] = {{0.25, 0.5, 0.125, 0.25}, {0, 0, 1, 1}};
    test->frame.capture_time_us = t_us;
    test->frame.sequence++;
    return preview_sender_offer_detect(sender, &test->frame, event_id, boxes, box_count, fps);
}

/* Detect frames: none without a rate or an event; the first of an event at
 * once, then at most fps a second; a new event at once; a DETECT_FRAME of
 * the event's id with the boxes and a JPEG at most 960 wide; previews keep
 * their own slot. */
static void test_detect_frames(void **state)
{
    char error[128];
    struct preview_sender *sender = preview_sender_start(NULL, error, sizeof(error));
    struct preview_sender_stats stats;
    struct test_frame test;
    const uint64_t t0 = 1800000000000ull * MS;

    (void)state;
    assert_non_null(sender);
    frame_init(&test);
    stub_sent = 0;
    assert_int_equal(offer_detect(sender, &test, t0, 5, 1, 0), 0); /* the hub wants none */
    assert_int_equal(offer_detect(sender, &test, t0, 0, 1, 4), 0); /* no event */
    assert_int_equal(offer_detect(sender, &test, t0, 5, 2, 4), 1);
    wait_detect_sent(sender, 1);
    assert_int_equal(stub_type, LINK_DETECT_FRAME);
    assert_int_equal(stub_sequence, 5);
    assert_true(stub_timestamp_us == t0);
    assert_int_equal(stub_width, 640); /* 1280 halved: at most 960 */
    assert_int_equal(stub_box_count, 2);
    assert_true(stub_box.x > 0.2499 && stub_box.x < 0.2501 && stub_box.h > 0.2499);
    /* 4 a second: 249 ms later is too early, 250 ms is due. */
    assert_int_equal(offer_detect(sender, &test, t0 + 249 * MS, 5, 1, 4), 0);
    assert_int_equal(offer_detect(sender, &test, t0 + 250 * MS, 5, 0, 4), 1);
    wait_detect_sent(sender, 2);
    assert_int_equal(stub_box_count, 0);
    /* A new event is looked at at once. */
    assert_int_equal(offer_detect(sender, &test, t0 + 260 * MS, 6, 1, 4), 1);
    wait_detect_sent(sender, 3);
    assert_int_equal(stub_sequence, 6);
    /* A preview and a detect frame of the same frame: each has its slot. */
    assert_int_equal(offer(sender, &test, t0 + 600 * MS, 1, INTERVAL_MS), 1);
    assert_int_equal(offer_detect(sender, &test, t0 + 600 * MS, 6, 1, 4), 1);
    wait_detect_sent(sender, 4);
    wait_sent(sender, 1);
    preview_sender_get_stats(sender, &stats);
    assert_int_equal(stats.detect_failed, 0);
    assert_true(stats.detect_encode_us > 0);

    preview_sender_stop(sender);
    free(test.planes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_gap_interval_busy),
        cmocka_unit_test(test_detect_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
