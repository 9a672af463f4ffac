/*
 * test_live_stream.c - unit tests of a doorbell's two live streams
 * (appliance/live/live_stream.c): a viewer that chooses the other stream
 * keeps getting the old one until the target's next keyframe, then gets the
 * target's init segment (naming the stream and the reason) and that
 * keyframe, and nothing more of the old stream; a changed mind cancels the
 * move; detach leaves no trace in either stream; the main stream's viewer
 * count covers both streams.
 *
 * Real H.264 from the firmware's encoder on the sim camera (1280x720 main,
 * 640x360 sub, a keyframe every 30 frames). Viewers are real live_viewer
 * sender threads writing into a log the test reads under a mutex.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/live/live_stream.c appliance/live/live_viewer.c appliance/live/live_timeline.c appliance/media/h264.c appliance/media/fmp4.c firmware/encoder/encoder.c firmware/camera/camera.c firmware/camera/sim_camera.c firmware/camera/sim_scene.c firmware/camera/sim_scene_draw.c firmware/camera/sim_scene_background.c firmware/camera/sim_scene_objects.c firmware/camera/frame_stamp.c firmware/camera/y4m_camera.c firmware/camera/v4l2_camera.c */
/* clang-format on */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera/camera.h"
#include "civetweb.h"
#include "encoder/encoder.h"
#include "live/live_stream.h"
#include "live/live_viewer.h"
#include "media/h264.h"

#define FRAMES   40
#define FRAME_US 33333u
#define LOG_MAX  512
#define BASE_US  UINT64_C(1765000000000000)

/* One stream's encoded access units (copies). */
struct clip {
    uint8_t *data[FRAMES];
    size_t size[FRAMES];
    int keyframe[FRAMES];
};

/* What a viewer's sender wrote: binary messages' kinds, init texts' stream. */
struct log_entry {
    int kind;       /* LIVE_KIND_*, or 0 for a text */
    char text[400]; /* a text message (stats are not logged) */
};

struct viewer_log {
    pthread_mutex_t lock;
    struct log_entry entries[LOG_MAX];
    int count;
};

static struct clip main_clip, sub_clip;

/* Encode FRAMES sim frames at width x height. */
static void encode_clip(struct clip *clip, int width, int height)
{
    char error[256] = "";
    struct camera_config camera_config = {
        .source = "sim", .width = width, .height = height, .fps = 30, .seed = 7, .unpaced = 1};
    struct camera *camera = camera_open(&camera_config, error, sizeof(error));
    struct encoder_config encoder_config = {.width = width,
                                            .height = height,
                                            .fps = 30,
                                            .keyframe_interval = 30,
                                            .preset = "ultrafast"};
    struct encoder *encoder;

    if (camera == NULL)
        fail_msg("camera_open: %s", error);
    encoder = encoder_open(&encoder_config, error, sizeof(error));
    if (encoder == NULL)
        fail_msg("encoder_open: %s", error);
    for (int i = 0; i < FRAMES; i++) {
        struct camera_frame frame;
        struct encoded_frame encoded;
        assert_int_equal(camera_capture(camera, &frame), 0);
        assert_int_equal(encoder_encode(encoder, &frame, &encoded), 0);
        clip->data[i] = malloc(encoded.size);
        assert_non_null(clip->data[i]);
        memcpy(clip->data[i], encoded.data, encoded.size);
        clip->size[i] = encoded.size;
        clip->keyframe[i] = encoded.keyframe;
    }
    encoder_close(encoder);
    camera_close(camera);
}

static int setup(void **state)
{
    (void)state;
    encode_clip(&main_clip, 1280, 720);
    encode_clip(&sub_clip, 640, 360);
    assert_true(main_clip.keyframe[0] && main_clip.keyframe[30] && !main_clip.keyframe[10]);
    assert_true(sub_clip.keyframe[0] && sub_clip.keyframe[30] && !sub_clip.keyframe[10]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < FRAMES; i++) {
        free(main_clip.data[i]);
        free(sub_clip.data[i]);
    }
    return 0;
}

/* The viewer's writer: log what is written (stats texts left out). */
static int log_write(void *connection, int opcode, const void *data, size_t size)
{
    struct viewer_log *log = connection;
    pthread_mutex_lock(&log->lock);
    if (log->count < LOG_MAX) {
        struct log_entry *entry = &log->entries[log->count];
        memset(entry, 0, sizeof(*entry));
        if (opcode == MG_WEBSOCKET_OPCODE_TEXT) {
            snprintf(entry->text, sizeof(entry->text), "%.*s", (int)size, (const char *)data);
            if (strstr(entry->text, "\"stats\"") == NULL)
                log->count++;
        } else if (opcode == MG_WEBSOCKET_OPCODE_BINARY) {
            entry->kind = ((const uint8_t *)data)[0];
            log->count++;
        }
    }
    pthread_mutex_unlock(&log->lock);
    return (int)size;
}

/* Wait (up to 5 s) until the log holds at least count entries; returns its count. */
static int wait_log(struct viewer_log *log, int count)
{
    int now = 0;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&log->lock);
        now = log->count;
        pthread_mutex_unlock(&log->lock);
        if (now >= count)
            break;
        usleep(10000);
    }
    usleep(30000); /* and a little longer: nothing more may come */
    pthread_mutex_lock(&log->lock);
    now = log->count;
    pthread_mutex_unlock(&log->lock);
    return now;
}

/* Push frame i of a clip to a stream, captured at frame i's time. */
static void push(struct live_stream *stream, const struct clip *clip, int i)
{
    struct h264_access_unit unit;
    char reason[160];
    assert_int_equal(
        h264_access_unit_convert(clip->data[i], clip->size[i], &unit, reason, sizeof(reason)), 0);
    assert_int_equal(live_stream_push_unit(stream, &unit, BASE_US + (uint64_t)i * FRAME_US, reason,
                                           sizeof(reason)),
                     0);
    h264_access_unit_free(&unit);
}

/* Count entries [from, to) of kind (0: texts). */
static int count_kind(struct viewer_log *log, int from, int to, int kind)
{
    int n = 0;
    pthread_mutex_lock(&log->lock);
    for (int i = from; i < to; i++)
        n += log->entries[i].kind == kind;
    pthread_mutex_unlock(&log->lock);
    return n;
}

static void test_move_at_the_targets_keyframe(void **state)
{
    struct viewer_log log = {.count = 0};
    struct live_stream *main_stream = live_stream_create("door");
    struct live_stream *sub = live_stream_create_sub(main_stream);
    struct live_stream_stats stats;
    struct live_viewer *viewer;
    int mark;

    (void)state;
    pthread_mutex_init(&log.lock, NULL);
    live_stream_begin(main_stream, 30, 0);
    live_stream_begin(sub, 30, 0);
    live_stream_set_available(sub, 1);
    for (int i = 0; i < 3; i++) {
        push(main_stream, &main_clip, i);
        push(sub, &sub_clip, i);
    }
    viewer = live_viewer_start(&log, log_write, "door");
    assert_non_null(viewer);
    live_stream_attach(main_stream, viewer, "auto", 0);
    /* init text + init + the cached GOP of 3 frames */
    assert_int_equal(wait_log(&log, 5), 5);
    assert_non_null(strstr(log.entries[0].text, "\"stream\":\"main\""));
    assert_non_null(strstr(log.entries[0].text, "\"reason\":\"auto\""));
    assert_int_equal(live_stream_demand(sub), 0);

    assert_int_equal(live_stream_choose(sub, viewer, "chosen", 0), LIVE_CHOOSE_PENDING_KEYFRAME);
    assert_int_equal(live_stream_demand(sub), 1);
    live_stream_get_stats(sub, &stats);
    assert_int_equal(stats.pending, 1);
    assert_int_equal(stats.viewers, 0);
    /* Until the sub's next keyframe: main only. */
    for (int i = 3; i < 30; i++) {
        push(sub, &sub_clip, i);
        push(main_stream, &main_clip, i);
    }
    mark = wait_log(&log, 5 + 27);
    assert_int_equal(mark, 5 + 27);
    assert_int_equal(count_kind(&log, 5, mark, LIVE_KIND_VIDEO), 27);
    /* The sub's keyframe: its init, then that keyframe; main no more. */
    push(sub, &sub_clip, 30);
    push(main_stream, &main_clip, 30);
    push(main_stream, &main_clip, 31);
    push(sub, &sub_clip, 31);
    assert_int_equal(wait_log(&log, mark + 4), mark + 4);
    assert_int_equal(log.entries[mark].kind, 0);
    assert_non_null(strstr(log.entries[mark].text, "\"stream\":\"sub\""));
    assert_non_null(strstr(log.entries[mark].text, "\"reason\":\"chosen\""));
    assert_non_null(strstr(log.entries[mark].text, "\"width\":640"));
    assert_int_equal(log.entries[mark + 1].kind, LIVE_KIND_INIT);
    assert_int_equal(log.entries[mark + 2].kind, LIVE_KIND_VIDEO);
    assert_int_equal(log.entries[mark + 3].kind, LIVE_KIND_VIDEO);
    live_stream_get_stats(sub, &stats);
    assert_int_equal(stats.stream_viewers, 1);
    assert_int_equal(stats.switches, 1);
    live_stream_get_stats(main_stream, &stats);
    assert_int_equal(stats.stream_viewers, 0);
    assert_int_equal(stats.viewers, 1); /* the doorbell's viewers: both streams */

    /* Already there: nothing to do. */
    assert_int_equal(live_stream_choose(sub, viewer, "auto", 0), LIVE_CHOOSE_THERE);
    live_stream_detach(main_stream, viewer);
    assert_int_equal(live_stream_demand(sub), 0);
    assert_int_equal(live_stream_demand(main_stream), 0);
    live_viewer_stop(viewer);
    live_stream_release(sub);
    live_stream_release(main_stream);
    pthread_mutex_destroy(&log.lock);
}

static void test_changed_mind_and_detach(void **state)
{
    struct viewer_log log = {.count = 0};
    struct live_stream *main_stream = live_stream_create("door");
    struct live_stream *sub = live_stream_create_sub(main_stream);
    struct live_viewer *viewer;

    (void)state;
    pthread_mutex_init(&log.lock, NULL);
    live_stream_begin(main_stream, 30, 0);
    live_stream_begin(sub, 30, 0);
    live_stream_set_available(sub, 1);
    push(main_stream, &main_clip, 0);
    push(sub, &sub_clip, 0);
    viewer = live_viewer_start(&log, log_write, "door");
    assert_non_null(viewer);
    live_stream_attach(main_stream, viewer, "auto", 0);
    assert_int_equal(live_stream_choose(sub, viewer, "chosen", 0), LIVE_CHOOSE_PENDING_KEYFRAME);
    /* It changes its mind before the sub's keyframe: the move is off. */
    assert_int_equal(live_stream_choose(main_stream, viewer, "chosen", 0), LIVE_CHOOSE_THERE);
    assert_int_equal(live_stream_demand(sub), 0);
    for (int i = 1; i <= 30; i++)
        push(sub, &sub_clip, i);
    push(main_stream, &main_clip, 1);
    wait_log(&log, 4); /* init text, init, two frames */
    assert_int_equal(count_kind(&log, 0, log.count, LIVE_KIND_INIT), 1);
    /* A sub that the doorbell cannot encode: moves to it are dropped. */
    assert_true(live_stream_choose(sub, viewer, "chosen", 0) >= LIVE_CHOOSE_PENDING);
    live_stream_set_available(sub, 0);
    assert_int_equal(live_stream_demand(sub), 0);
    assert_int_equal(live_stream_available(sub), 0);
    assert_int_equal(live_stream_available(main_stream), 1);
    live_stream_detach(sub, viewer); /* either stream's detach covers both */
    assert_int_equal(live_stream_demand(main_stream), 0);
    live_viewer_stop(viewer);
    /* The sub goes first or last: the main keeps its lock until both are gone. */
    live_stream_release(main_stream);
    live_stream_release(sub);
    pthread_mutex_destroy(&log.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_move_at_the_targets_keyframe),
        cmocka_unit_test(test_changed_mind_and_detach),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
