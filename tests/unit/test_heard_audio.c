/*
 * test_heard_audio.c - cmocka tests of what a doorbell's speaker played, as
 * the recorder mixes it into the recording:
 *
 * - heard_audio_play_time mirrors the doorbell's jitter buffer: the first
 *   packet plays LINK_TALK_PLAYOUT_MS after it was forwarded, the next ones
 *   by capture time, a late stream starts over, an early one is held to the
 *   doorbell's queue bound;
 * - the ring keeps samples by their wall time, reads silence where nothing
 *   was played, sums overlapping sounds with saturation, forgets what is
 *   older than HEARD_AUDIO_SECONDS and reports until when it holds sound;
 * - a quick reply clip (longer than the ring) is decoded as it is read, a
 *   new one cuts off the one playing, and it ends where it ends;
 * - recorder_mix passes the doorbell's packets through untouched while
 *   nothing is played, mixes the played tone into them while it is (the
 *   visitor's tone stays), and passes through again after the tail.
 *
 * Single-threaded (the lock is taken as in the hub, uncontended).
 * UNIT_SOURCES: appliance/recording/heard_audio.c appliance/recording/recorder_mix.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <opus/opus.h>
#include <string.h>

#include "common/link_protocol.h"
#include "common/reply_clip.h"
#include "recording/heard_audio.h"
#include "recording/recorder_mix.h"

#define T0 1700000000000000ull /* a wall time (us), on a 20 ms boundary */

/* A tone of frequency Hz from sample `from` on, count samples. */
static void test_tone(int16_t *out, unsigned count, unsigned from, double frequency,
                      double amplitude)
{
    for (unsigned i = 0; i < count; i++)
        out[i] = (int16_t)lrint(amplitude * sin(2.0 * M_PI * frequency * (from + i) / 48000.0));
}

/* Goertzel power of frequency in samples (float, one channel of `stride`). */
static double test_power(const float *samples, int count, int stride, double frequency)
{
    double coefficient = 2.0 * cos(2.0 * M_PI * frequency / 48000.0), s1 = 0, s2 = 0;
    for (int i = 0; i < count; i++) {
        double s0 = samples[i * stride] + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / ((double)count * count);
}

static void test_play_time_mirrors_the_jitter_buffer(void **state)
{
    struct heard_audio_stream stream = {0};
    const uint64_t capture = 5000000; /* the browser's clock, far from the hub's */

    (void)state;
    assert_int_equal(heard_audio_play_time(&stream, capture, 960, T0),
                     T0 + LINK_TALK_PLAYOUT_MS * 1000);
    /* The next packet, forwarded a little late: still played in turn. */
    assert_int_equal(heard_audio_play_time(&stream, capture + 20000, 960, T0 + 30000),
                     T0 + LINK_TALK_PLAYOUT_MS * 1000 + 20000);
    /* A packet arriving after its turn plus concealment: the doorbell starts over. */
    assert_int_equal(heard_audio_play_time(&stream, capture + 40000, 960, T0 + 300000),
                     T0 + 300000 + LINK_TALK_PLAYOUT_MS * 1000);
    /* A burst far ahead of its turn: the doorbell's queue holds no more than its bound. */
    assert_int_equal(heard_audio_play_time(&stream, capture + 1040000, 960, T0 + 310000),
                     T0 + 310000 + LINK_TALK_QUEUE_MAX_MS * 1000);
    /* A burst after a stall: each next packet plays after the one before,
     * never on top of it, even when the queue bound would place it there. */
    stream = (struct heard_audio_stream){0};
    assert_int_equal(heard_audio_play_time(&stream, capture, 960, T0), T0 + 60000);
    for (int i = 1; i <= 10; i++)
        assert_int_equal(
            heard_audio_play_time(&stream, capture + (uint64_t)i * 20000, 960, T0 + 20000),
            T0 + 60000 + (uint64_t)i * 20000);
}

static void test_the_ring_keeps_sound_by_wall_time(void **state)
{
    static int16_t tone[960], read[2000];
    struct heard_audio heard;

    (void)state;
    heard_audio_init(&heard);
    assert_int_equal(heard_audio_until(&heard), 0);
    assert_int_equal(heard_audio_read(&heard, T0, 960, read), 0);

    for (int i = 0; i < 960; i++)
        tone[i] = 1000;
    assert_int_equal(heard_audio_add(&heard, tone, 960, T0 + 20000), 0);
    assert_int_equal(heard_audio_until(&heard), T0 + 40000);
    /* 10 ms before, 20 ms played, then nothing. */
    assert_int_equal(heard_audio_read(&heard, T0 + 10000, 2000, read), 960);
    assert_int_equal(read[479], 0);
    assert_int_equal(read[480], 1000);
    assert_int_equal(read[1439], 1000);
    assert_int_equal(read[1440], 0);

    /* A later sound after a gap: the gap reads as silence. */
    assert_int_equal(heard_audio_add(&heard, tone, 960, T0 + 100000), 0);
    assert_int_equal(heard_audio_read(&heard, T0 + 40000, 960, read), 960);
    assert_int_equal(read[0], 0);
    assert_int_equal(read[959], 0);

    /* Overlapping sounds add up, and saturate. */
    for (int i = 0; i < 960; i++)
        tone[i] = 30000;
    assert_int_equal(heard_audio_add(&heard, tone, 960, T0 + 100000), 0);
    heard_audio_read(&heard, T0 + 100000, 960, read);
    assert_int_equal(read[0], 31000);
    assert_int_equal(heard_audio_add(&heard, tone, 960, T0 + 100000), 0);
    heard_audio_read(&heard, T0 + 100000, 960, read);
    assert_int_equal(read[0], INT16_MAX);

    /* Past HEARD_AUDIO_SECONDS the oldest is forgotten. */
    assert_int_equal(
        heard_audio_add(&heard, tone, 960, T0 + 20000 + HEARD_AUDIO_SECONDS * 1000000ull), 0);
    assert_int_equal(heard_audio_read(&heard, T0 + 20000, 960, read), 0);
    assert_int_equal(
        heard_audio_read(&heard, T0 + 20000 + HEARD_AUDIO_SECONDS * 1000000ull, 960, read), 960);
    assert_int_equal(read[0], 30000);
    /* Long after, a new sound starts a new window. */
    assert_int_equal(heard_audio_add(&heard, tone, 960, T0 + 60000000), 0);
    assert_int_equal(heard_audio_read(&heard, T0 + 60000000 - 20000, 1920, read), 960);
    assert_int_equal(heard_audio_until(&heard), T0 + 60020000);
    heard_audio_free(&heard);
}

static void test_mix_only_while_something_plays(void **state)
{
    static int16_t visitor[960], talk[960];
    static float decoded[960];
    static struct recorder_mix mix;
    struct heard_audio heard;
    OpusEncoder *doorbell;
    OpusDecoder *player;
    uint8_t packet[1500];
    int error = 0, passed = 0, mixed = 0;
    double talk_power = 0, visitor_power = 0;

    (void)state;
    doorbell = opus_encoder_create(48000, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &error);
    player = opus_decoder_create(48000, 1, &error);
    assert_non_null(doorbell);
    assert_non_null(player);
    opus_encoder_ctl(doorbell, OPUS_SET_BITRATE(32000));
    heard_audio_init(&heard);
    recorder_mix_init(&mix);

    /* The speaker plays a 1 kHz tone from 1 s to 2 s. */
    for (int k = 0; k < 50; k++) {
        test_tone(talk, 960, (unsigned)k * 960, 1000.0, 8000.0);
        assert_int_equal(heard_audio_add(&heard, talk, 960, T0 + 1000000 + (uint64_t)k * 20000), 0);
    }
    /* Five seconds of the visitor's 300 Hz tone through the recorder's mix. */
    for (int k = 0; k < 250; k++) {
        uint64_t capture = T0 + (uint64_t)k * 20000;
        size_t size, out_size;
        const uint8_t *out;
        int samples;

        test_tone(visitor, 960, (unsigned)k * 960, 300.0, 8000.0);
        size = (size_t)opus_encode(doorbell, visitor, 960, packet, sizeof(packet));
        out = recorder_mix_packet(&mix, &heard, 1, packet, size, 960, capture, &out_size);
        if (out == packet) {
            assert_int_equal(out_size, size);
            passed++;
            /* Outside the talk and its tail only. */
            assert_true(capture < T0 + 1000000 - RECORDER_MIX_TAIL_US ||
                        capture >= T0 + 2000000 + RECORDER_MIX_TAIL_US);
        } else {
            mixed++;
        }
        samples = opus_decode_float(player, out, (opus_int32)out_size, decoded, 960, 0);
        assert_int_equal(samples, 960);
        if (capture >= T0 + 1200000 && capture < T0 + 1800000) {
            talk_power += test_power(decoded, 960, 1, 1000.0);
            visitor_power += test_power(decoded, 960, 1, 300.0);
        }
    }
    /* Mixed from the start (the talk is within the tail) to 2 s after its end. */
    assert_int_equal(mixed, (2000000 + RECORDER_MIX_TAIL_US) / 20000);
    assert_int_equal(passed, 250 - mixed);
    assert_int_equal(mix.mixed_packets, (uint64_t)mixed);
    /* Both tones are heard during the talk, at comparable levels. */
    assert_true(talk_power > visitor_power / 4);
    assert_true(visitor_power > talk_power / 4);

    recorder_mix_free(&mix);
    heard_audio_free(&heard);
    opus_encoder_destroy(doorbell);
    opus_decoder_destroy(player);
}

/* A clip (common/reply_clip.h) of seconds of a tone, into clip; its size. */
static size_t test_clip(uint8_t *clip, size_t capacity, double frequency, int seconds)
{
    OpusEncoder *encoder;
    int16_t pcm[960];
    size_t size = 0;
    int error = 0;

    encoder = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &error);
    assert_non_null(encoder);
    for (int k = 0; k < seconds * 50; k++) {
        opus_int32 bytes;
        test_tone(pcm, 960, (unsigned)k * 960, frequency, 8000.0);
        assert_true(size + 2 + 1275 <= capacity);
        bytes = opus_encode(encoder, pcm, 960, clip + size + 2, 1275);
        assert_true(bytes > 0);
        clip[size] = (uint8_t)(bytes >> 8);
        clip[size + 1] = (uint8_t)bytes;
        size += 2 + (size_t)bytes;
    }
    opus_encoder_destroy(encoder);
    return size;
}

/* RMS of samples. */
static double test_rms(const int16_t *samples, unsigned count)
{
    double sum = 0;
    for (unsigned i = 0; i < count; i++)
        sum += (double)samples[i] * samples[i];
    return sqrt(sum / count);
}

static void test_a_reply_clip_is_heard_as_it_plays(void **state)
{
    static uint8_t long_clip[REPLY_CLIP_MAX_BYTES], short_clip[REPLY_CLIP_MAX_BYTES];
    static int16_t read[960];
    static float as_float[960];
    struct heard_audio heard;
    size_t long_size = test_clip(long_clip, sizeof(long_clip), 500.0, 10);
    size_t short_size = test_clip(short_clip, sizeof(short_clip), 1500.0, 1);

    (void)state;
    heard_audio_init(&heard);
    assert_int_equal(heard_audio_play_clip(&heard, long_clip, 5, T0), -1); /* not a clip */
    assert_int_equal(heard_audio_until(&heard), 0);
    assert_int_equal(heard_audio_play_clip(&heard, long_clip, long_size, T0), 0);
    assert_int_equal(heard_audio_until(&heard), T0 + 10000000);
    /* Read in order, as the recorder does, for 6 s: longer than the ring. */
    for (uint64_t at = T0; at < T0 + 6000000; at += 20000) {
        assert_int_equal(heard_audio_read(&heard, at, 960, read), 960);
        if (at >= T0 + 100000 && at % 1000000 == 0) {
            for (int i = 0; i < 960; i++)
                as_float[i] = read[i];
            assert_true(test_rms(read, 960) > 3000);
            assert_true(test_power(as_float, 960, 1, 500.0) >
                        10 * test_power(as_float, 960, 1, 1500.0));
        }
    }
    /* At 6 s a second reply cuts the first off: 1 s of 1.5 kHz, then silence. */
    assert_int_equal(heard_audio_play_clip(&heard, short_clip, short_size, T0 + 6000000), 0);
    assert_int_equal(heard_audio_until(&heard), T0 + 10000000); /* never goes back */
    assert_int_equal(heard_audio_read(&heard, T0 + 6500000, 960, read), 960);
    for (int i = 0; i < 960; i++)
        as_float[i] = read[i];
    assert_true(test_power(as_float, 960, 1, 1500.0) > 10 * test_power(as_float, 960, 1, 500.0));
    assert_int_equal(heard_audio_read(&heard, T0 + 7500000, 960, read), 0);
    assert_int_equal(test_rms(read, 960), 0);
    assert_null(heard.clip); /* read to its end: freed */
    heard_audio_free(&heard);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_play_time_mirrors_the_jitter_buffer),
        cmocka_unit_test(test_the_ring_keeps_sound_by_wall_time),
        cmocka_unit_test(test_mix_only_while_something_plays),
        cmocka_unit_test(test_a_reply_clip_is_heard_as_it_plays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
