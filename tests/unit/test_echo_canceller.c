/*
 * test_echo_canceller.c - cmocka tests of the doorbell's echo path on
 * synthetic signals, all on the test thread: the speaker history's time
 * line (alignment to the sample, silence for a late frame, a fresh anchor
 * for an early one, nothing outside it), the simulated room (parsing, delay
 * and level), and the echo canceller itself: a speaker tone that reaches the
 * microphone through a delayed, attenuated, low-passed path while a visitor
 * speaks another tone. "aec" must take the speaker's tone down by 20 dB
 * and more once converged while the visitor's stays within 1.5 dB, and
 * duck for a moment at each onset of the speaker; "duck"
 * attenuates everything by 30 dB while the speaker sounds and restores the
 * microphone after the hang time; "off" changes nothing.
 *
 * Each test frees what it allocates.
 */
/* clang-format off */
/*
 * UNIT_SOURCES: firmware/audio/echo_canceller.c firmware/audio/speaker_history.c
 * UNIT_SOURCES: firmware/audio/sim_room.c
 */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/echo_canceller.h"
#include "audio/sim_room.h"
#include "audio/speaker_history.h"

#define RATE       48000
#define FRAME      960
#define SPEAKER_HZ 659.25 /* the chime's ding */
#define VISITOR_HZ 1500.0
#define ECHO_DELAY 1200 /* 25 ms */
#define ECHO_GAIN  0.5  /* -6 dB */
#define SECONDS    6
#define TOTAL      (RATE * SECONDS)
#define T0_US      1700000000000000ULL

/* Power at frequency of samples[start, start + size), Goertzel. */
static double test_goertzel(const int16_t *samples, size_t start, size_t size, double frequency)
{
    double coefficient = 2.0 * cos(2.0 * M_PI * frequency / RATE);
    double previous = 0.0, before = 0.0;
    for (size_t i = 0; i < size; i++) {
        double value = samples[start + i] + coefficient * previous - before;
        before = previous;
        previous = value;
    }
    return (previous * previous + before * before - coefficient * previous * before) /
           ((double)size * (double)size / 4.0);
}

static double test_db(double power)
{
    return 10.0 * log10(power + 1e-9);
}

/* The speaker (a tone, on for 0.8 s of each second), and the microphone:
 * the visitor's tone plus the speaker through the room. Caller frees both. */
static void test_signals(int16_t **speaker_out, int16_t **microphone_out)
{
    int16_t *speaker = calloc(TOTAL, sizeof(*speaker));
    int16_t *microphone = calloc(TOTAL, sizeof(*microphone));
    assert_non_null(speaker);
    assert_non_null(microphone);
    for (size_t i = 0; i < TOTAL; i++)
        speaker[i] = i % RATE < RATE * 8 / 10
                         ? (int16_t)lrint(12000.0 * sin(2.0 * M_PI * SPEAKER_HZ * i / RATE))
                         : 0;
    double filtered = 0.0;
    unsigned int seed = 1;
    for (size_t i = 0; i < TOTAL; i++) {
        double heard = i >= ECHO_DELAY ? ECHO_GAIN * speaker[i - ECHO_DELAY] : 0.0;
        filtered += 0.5 * (heard - filtered);
        seed = seed * 1103515245u + 12345u;
        double noise = (double)((seed >> 16) % 41) - 20.0;
        microphone[i] =
            (int16_t)lrint(filtered + 4000.0 * sin(2.0 * M_PI * VISITOR_HZ * i / RATE) + noise);
    }
    *speaker_out = speaker;
    *microphone_out = microphone;
}

/* Run the whole microphone through a canceller in `mode`; returns the
 * output (caller frees) and the canceller's final stats. */
static int16_t *test_run(enum echo_cancel_mode mode, struct echo_canceller_stats *stats)
{
    int16_t *speaker, *microphone;
    char error[128];
    test_signals(&speaker, &microphone);
    struct echo_canceller *canceller = echo_canceller_create(mode, FRAME, 0, error, sizeof(error));
    assert_non_null(canceller);
    for (size_t i = 0; i + FRAME <= TOTAL; i += FRAME)
        echo_canceller_process(canceller, microphone + i, speaker + i);
    echo_canceller_get_stats(canceller, stats);
    echo_canceller_destroy(canceller);
    free(speaker);
    return microphone;
}

/* Speaker and visitor levels (dB) in the speaker's on-time of second s. */
static void test_levels(const int16_t *samples, int second, double *speaker, double *visitor)
{
    size_t start = (size_t)second * RATE + RATE / 5;
    *speaker = test_db(test_goertzel(samples, start, RATE / 2, SPEAKER_HZ));
    *visitor = test_db(test_goertzel(samples, start, RATE / 2, VISITOR_HZ));
}

/* aec: the speaker's tone 20 dB and more below "off" once converged; the
 * visitor's within 1.5 dB. */
static void test_aec_cancels_the_speaker(void **state)
{
    (void)state;
    struct echo_canceller_stats off_stats, aec_stats;
    int16_t *off = test_run(ECHO_CANCEL_OFF, &off_stats);
    int16_t *aec = test_run(ECHO_CANCEL_AEC, &aec_stats);
    assert_true(aec_stats.converged);
    assert_int_equal(aec_stats.resets, 0);
    assert_true(aec_stats.speaker_frames > 200);
    for (int second = 3; second < SECONDS; second++) {
        double off_speaker, off_visitor, aec_speaker, aec_visitor;
        test_levels(off, second, &off_speaker, &off_visitor);
        test_levels(aec, second, &aec_speaker, &aec_visitor);
        print_message("second %d: speaker %.1f -> %.1f dB, visitor %.1f -> %.1f dB\n", second,
                      off_speaker, aec_speaker, off_visitor, aec_visitor);
        assert_true(off_speaker - aec_speaker >= 20.0);
        assert_true(fabs(off_visitor - aec_visitor) <= 1.5);
    }
    free(off);
    free(aec);
}

/* aec before it has converged ducks; the first speaker frames are -30 dB. */
static void test_aec_ducks_until_converged(void **state)
{
    (void)state;
    int16_t *speaker, *microphone;
    char error[128];
    test_signals(&speaker, &microphone);
    struct echo_canceller *canceller =
        echo_canceller_create(ECHO_CANCEL_AEC, FRAME, 0, error, sizeof(error));
    assert_non_null(canceller);
    struct echo_canceller_stats stats;
    for (size_t i = 0; i < 10 * FRAME; i += FRAME) {
        echo_canceller_process(canceller, microphone + i, speaker + i);
        echo_canceller_get_stats(canceller, &stats);
        assert_false(stats.converged);
        assert_true(stats.ducking);
    }
    assert_int_equal(stats.ducked_frames, 10);
    echo_canceller_destroy(canceller);
    free(speaker);
    free(microphone);
}

/* aec, converged: each time the speaker starts (every second here) the
 * microphone is ducked for ECHO_CANCELLER_ONSET_MS, then let through while
 * the speaker goes on sounding. */
static void test_aec_ducks_each_onset(void **state)
{
    (void)state;
    int16_t *speaker, *microphone;
    char error[128];
    test_signals(&speaker, &microphone);
    struct echo_canceller *canceller =
        echo_canceller_create(ECHO_CANCEL_AEC, FRAME, 0, error, sizeof(error));
    assert_non_null(canceller);
    struct echo_canceller_stats stats;
    const size_t frames_per_second = RATE / FRAME;
    const size_t onset_frames = ECHO_CANCELLER_ONSET_MS * RATE / 1000 / FRAME;
    for (size_t frame = 0; (frame + 1) * FRAME <= TOTAL; frame++) {
        echo_canceller_process(canceller, microphone + frame * FRAME, speaker + frame * FRAME);
        echo_canceller_get_stats(canceller, &stats);
        size_t in_second = frame % frames_per_second;
        if (frame < 3 * frames_per_second)
            continue; /* converging */
        assert_true(stats.converged);
        if (in_second < onset_frames)
            assert_true(stats.ducking);
        else if (in_second < frames_per_second * 8 / 10)
            assert_false(stats.ducking);
    }
    assert_int_equal(stats.onsets, SECONDS);
    echo_canceller_destroy(canceller);
    free(speaker);
    free(microphone);
}

/* duck: -30 dB on everything while the speaker sounds (the ramp's first
 * frame aside), the microphone as it was after the hang time. */
static void test_duck_is_half_duplex(void **state)
{
    (void)state;
    int16_t *speaker, *original;
    char error[128];
    test_signals(&speaker, &original);
    /* The speaker plays 0.8 s of the first two seconds only. */
    memset(speaker + 2 * RATE, 0, (TOTAL - 2 * RATE) * sizeof(*speaker));
    int16_t *ducked = malloc(TOTAL * sizeof(*ducked));
    assert_non_null(ducked);
    memcpy(ducked, original, TOTAL * sizeof(*ducked));
    struct echo_canceller *canceller =
        echo_canceller_create(ECHO_CANCEL_DUCK, FRAME, 0, error, sizeof(error));
    assert_non_null(canceller);
    for (size_t i = 0; i + FRAME <= TOTAL; i += FRAME)
        echo_canceller_process(canceller, ducked + i, speaker + i);
    struct echo_canceller_stats stats;
    echo_canceller_get_stats(canceller, &stats);
    echo_canceller_destroy(canceller);
    /* Inside the speaker's time: 30 dB down. */
    double before = test_db(test_goertzel(original, RATE + RATE / 5, RATE / 2, VISITOR_HZ));
    double after = test_db(test_goertzel(ducked, RATE + RATE / 5, RATE / 2, VISITOR_HZ));
    print_message("ducking: %.1f dB\n", before - after);
    assert_true(before - after >= 29.0 && before - after <= 31.0);
    /* The speaker stops at 1.8 s; 200 ms of hang, one frame of ramp: from
     * 2.02 s on the microphone is untouched. */
    size_t quiet = 2 * RATE + FRAME;
    assert_memory_equal(ducked + quiet, original + quiet, (TOTAL - quiet) * sizeof(int16_t));
    assert_memory_not_equal(ducked + quiet - 2 * FRAME, original + quiet - 2 * FRAME,
                            FRAME * sizeof(int16_t));
    assert_false(stats.converged);
    assert_int_equal(stats.ducked_frames, 2 * (40 + 10));
    free(speaker);
    free(original);
    free(ducked);
}

/* off: the microphone is untouched. */
static void test_off_changes_nothing(void **state)
{
    (void)state;
    struct echo_canceller_stats stats;
    int16_t *speaker, *original;
    test_signals(&speaker, &original);
    int16_t *out = test_run(ECHO_CANCEL_OFF, &stats);
    assert_memory_equal(out, original, TOTAL * sizeof(int16_t));
    assert_int_equal(stats.ducked_frames, 0);
    free(speaker);
    free(original);
    free(out);
}

/* Mode names and bad settings. */
static void test_modes_and_settings(void **state)
{
    (void)state;
    enum echo_cancel_mode mode;
    char error[128];
    assert_int_equal(echo_cancel_mode_parse("duck", &mode), 0);
    assert_int_equal(mode, ECHO_CANCEL_DUCK);
    assert_string_equal(echo_cancel_mode_name(ECHO_CANCEL_AEC), "aec");
    assert_int_equal(echo_cancel_mode_parse("on", &mode), -1);
    assert_int_equal(echo_cancel_mode_parse(NULL, &mode), -1);
    assert_null(echo_canceller_create(ECHO_CANCEL_AEC, FRAME, 10, error, sizeof(error)));
    assert_null(echo_canceller_create(ECHO_CANCEL_AEC, 0, 0, error, sizeof(error)));
    assert_null(echo_canceller_create((enum echo_cancel_mode)7, FRAME, 0, error, sizeof(error)));
}

/* The history: reads land on the sample; a late frame leaves silence
 * before it on the same line; jitter within the slack does not move it; an
 * early frame starts a new line and forgets the old. */
static void test_speaker_history_time_line(void **state)
{
    (void)state;
    struct speaker_history *history = speaker_history_create(1000);
    assert_non_null(history);
    int16_t frame[FRAME], out[FRAME];
    /* Nothing yet: silence, nothing found. */
    assert_int_equal(speaker_history_read(history, T0_US, out, FRAME), 0);

    for (int i = 0; i < FRAME; i++)
        frame[i] = (int16_t)(i + 1);
    speaker_history_append(history, frame, FRAME, T0_US);
    /* 2 ms of jitter: still one line, frame 2 follows frame 1 directly. */
    for (int i = 0; i < FRAME; i++)
        frame[i] = (int16_t)(1000 + i + 1);
    speaker_history_append(history, frame, FRAME, T0_US + 20000 + 2000);
    /* 10 ms into the first frame (480 samples), across into the second. */
    assert_int_equal(speaker_history_read(history, T0_US + 10000, out, FRAME), FRAME);
    assert_int_equal(out[0], 481);
    assert_int_equal(out[479], 960);
    assert_int_equal(out[480], 1001);
    /* Before the line: silence there, the rest found. */
    assert_int_equal(speaker_history_read(history, T0_US - 10000, out, FRAME), 480);
    assert_int_equal(out[479], 0);
    assert_int_equal(out[480], 1);

    /* 30 ms late: 30 ms of silence, then the frame. */
    for (int i = 0; i < FRAME; i++)
        frame[i] = 7;
    speaker_history_append(history, frame, FRAME, T0_US + 40000 + 30000);
    assert_int_equal(speaker_history_read(history, T0_US + 40000, out, FRAME), FRAME);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[FRAME - 1], 0);
    assert_int_equal(speaker_history_read(history, T0_US + 70000, out, FRAME), FRAME);
    assert_int_equal(out[0], 7);
    struct speaker_history_stats stats;
    speaker_history_get_stats(history, &stats);
    assert_int_equal(stats.gaps, 1);
    assert_int_equal(stats.anchors, 1);

    /* 50 ms early: a new line; what came before is gone. */
    for (int i = 0; i < FRAME; i++)
        frame[i] = 9;
    speaker_history_append(history, frame, FRAME, T0_US + 40000);
    assert_int_equal(speaker_history_read(history, T0_US + 40000, out, FRAME), FRAME);
    assert_int_equal(out[0], 9);
    assert_int_equal(speaker_history_read(history, T0_US, out, FRAME), 0);
    speaker_history_get_stats(history, &stats);
    assert_int_equal(stats.anchors, 2);
    speaker_history_destroy(history);
}

/* The history keeps only its capacity: older instants read as silence. */
static void test_speaker_history_capacity(void **state)
{
    (void)state;
    struct speaker_history *history = speaker_history_create(100);
    int16_t frame[FRAME], out[FRAME];
    for (int i = 0; i < FRAME; i++)
        frame[i] = 5;
    for (uint64_t tick = 0; tick < 10; tick++)
        speaker_history_append(history, frame, FRAME, T0_US + tick * 20000);
    /* 200 ms written, 100 ms kept: ticks 5..9. */
    assert_int_equal(speaker_history_read(history, T0_US + 4 * 20000, out, FRAME), 0);
    assert_int_equal(speaker_history_read(history, T0_US + 5 * 20000, out, FRAME), FRAME);
    assert_int_equal(speaker_history_read(history, T0_US + 9 * 20000 + 10000, out, FRAME), 480);
    speaker_history_destroy(history);
}

/* The room: parsing, and the speaker's sound delayed and at its level. */
static void test_sim_room(void **state)
{
    (void)state;
    struct sim_room_config config = {0};
    assert_int_equal(sim_room_parse("25,-6", &config), 0);
    assert_int_equal(config.delay_ms, 25);
    assert_true(fabs(config.gain_db + 6.0) < 1e-9);
    assert_int_equal(sim_room_parse("25", &config), -1);
    assert_int_equal(sim_room_parse("250,-6", &config), -1);
    assert_int_equal(sim_room_parse("25,-6dB", &config), -1);
    assert_int_equal(sim_room_parse("25,40", &config), -1);
    assert_int_equal(sim_room_parse(",-6", &config), -1);
    assert_int_equal(sim_room_parse("25,-6", &config), 0);

    struct speaker_history *history = speaker_history_create(1000);
    struct sim_room *room = sim_room_create(&config, history);
    assert_non_null(room);
    int16_t frame[FRAME], microphone[FRAME];
    for (uint64_t tick = 0; tick < 10; tick++) {
        for (int i = 0; i < FRAME; i++)
            frame[i] =
                (int16_t)lrint(10000.0 * sin(2.0 * M_PI * 500.0 * (tick * FRAME + i) / RATE));
        speaker_history_append(history, frame, FRAME, T0_US + tick * 20000);
    }
    /* 25 ms after the speaker started: the microphone hears 5 ms of it. */
    memset(microphone, 0, sizeof(microphone));
    sim_room_apply(room, microphone, FRAME, T0_US);
    for (int i = 0; i < FRAME; i++)
        assert_int_equal(microphone[i], 0);
    sim_room_apply(room, microphone, FRAME, T0_US + 20000);
    for (int i = 0; i < 240; i++)
        assert_int_equal(microphone[i], 0);
    /* Later: the 500 Hz tone at about -6 dB (the low-pass takes little). */
    memset(microphone, 0, sizeof(microphone));
    sim_room_apply(room, microphone, FRAME, T0_US + 100000);
    double level = test_db(test_goertzel(microphone, 0, FRAME, 500.0));
    double speaker = test_db(test_goertzel(frame, 0, FRAME, 500.0));
    print_message("room: %.1f dB below the speaker\n", speaker - level);
    assert_true(speaker - level > 5.0 && speaker - level < 8.0);
    sim_room_destroy(room);
    speaker_history_destroy(history);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aec_cancels_the_speaker),
        cmocka_unit_test(test_aec_ducks_until_converged),
        cmocka_unit_test(test_aec_ducks_each_onset),
        cmocka_unit_test(test_duck_is_half_duplex),
        cmocka_unit_test(test_off_changes_nothing),
        cmocka_unit_test(test_modes_and_settings),
        cmocka_unit_test(test_speaker_history_time_line),
        cmocka_unit_test(test_speaker_history_capacity),
        cmocka_unit_test(test_sim_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
