/*
 * test_recorder_holds.c - the recorder's holds (recorder_retain/_release in
 * appliance/recording/recorder.c): a link thread that took the recorder
 * under its doorbell's entry lock may still push after the entry, and with
 * it the first hold, is gone; the recorder must live until the last hold.
 * Under ASan (make test) a recorder freed too early is a use after free.
 *
 * UNIT_SOURCES: appliance/recording/recorder.c appliance/recording/recorder_ring.c
 * UNIT_SOURCES: appliance/recording/recorder_index.c
 * UNIT_SOURCES: appliance/recording/heard_audio.c appliance/recording/recorder_mix.c
 * UNIT_SOURCES: appliance/recording/recording_store.c appliance/recording/segment_writer.c
 * UNIT_SOURCES: appliance/recording/segment_index.c appliance/recording/mp4_box.c
 * UNIT_SOURCES: appliance/media/fmp4.c appliance/media/h264.c
 * UNIT_SOURCES: appliance/storage/database.c appliance/storage/database_reserve.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "recording/recorder.h"
#include "storage/database.h"

/* A recorder held twice survives the first release (the entry freed) and
 * takes pushes and stats until the second (the link thread's) release. */
static void test_the_last_release_frees(void **state)
{
    char directory[64] = "/tmp/doorstep-recorder-holds-XXXXXX";
    char database[128], command[160];
    struct recorder_settings settings = {.mode = RECORDER_CONTINUOUS};
    struct recorder_stats stats;
    const uint8_t opus[3] = {0xf8, 0xff, 0xfe};
    struct recorder *recorder;

    (void)state;
    assert_non_null(mkdtemp(directory));
    snprintf(database, sizeof(database), "%s/doorstep.db", directory);
    database_set_path(database);
    recorder = recorder_start(directory, "porch", 60, &settings);
    assert_non_null(recorder);

    recorder_retain(recorder);  /* the link thread, under the entry lock */
    recorder_release(recorder); /* the entry is freed meanwhile */
    recorder_set_audio(recorder, 1);
    recorder_push_audio(recorder, opus, sizeof(opus), 960, 1000000);
    recorder_get_stats(recorder, &stats);
    assert_int_equal(stats.recording, 0); /* no keyframe yet, nothing open */
    recorder_release(recorder);           /* the link thread is done: freed now */
    recorder_release(NULL);

    database_thread_release();
    snprintf(command, sizeof(command), "rm -rf '%s'", directory);
    assert_int_equal(system(command), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_last_release_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
