/*
 * test_audio.c - cmocka tests of the doorbell audio modules with real ALSA
 * calls against `file` PCMs over `null` (no sound card): the microphone
 * reads a generated 440 Hz sine and must deliver it as Opus in real time
 * with 20 ms capture timestamps; the speaker must write a pushed 1 kHz Opus
 * tone and the ding-dong chime to its output file after the jitter-buffer
 * delay; plus the jitter buffer's late/overflow rules, the configuration
 * mechanisms (private asoundrc, ALSA_CONFIG_PATH, plug:) and error paths.
 *
 * The group set-up writes an asoundrc and in.raw into a mkdtemp()
 * directory that the teardown removes. Capture callbacks run on the
 * capture thread and fill a collector guarded by its own mutex; everything
 * else runs on the test thread. Each test frees what it allocates.
 */
/* clang-format off */
/*
 * UNIT_SOURCES: tests/unit/support/test_files.c firmware/audio/audio_capture.c firmware/audio/audio_playback.c
 * UNIT_SOURCES: firmware/audio/audio_sim.c firmware/audio/echo_canceller.c firmware/audio/sim_room.c
 * UNIT_SOURCES: firmware/audio/speaker_history.c
 */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support/test_files.h"

#include <alsa/asoundlib.h>
#include <math.h>
#include <opus/opus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/audio_alsa.h"
#include "common/clock.h"
#include "audio/audio_capture.h"
#include "audio/audio_playback.h"

#define RATE           48000
#define FRAME          960
#define SINE_HZ        440.0
#define SINE_AMPLITUDE 10000.0
#define SINE_SECONDS   3
#define TONE_HZ        1000.0
#define TONE_AMPLITUDE 8000.0
#define MAX_PACKETS    200

static char directory[64];
static char asoundrc[128];
static char in_path[128];
static char out_path[128];

/* What the capture callback saw. */
struct collector {
    pthread_mutex_t lock;
    int count;
    size_t sizes[MAX_PACKETS];
    uint8_t packets[MAX_PACKETS][AUDIO_CAPTURE_MAX_PACKET];
    uint64_t capture_us[MAX_PACKETS];
    uint64_t called_us[MAX_PACKETS]; /* CLOCK_REALTIME at the callback */
};

/* Capture callback: keep the first MAX_PACKETS packets. */
static void collect(const uint8_t *packet, size_t size, uint64_t capture_time_us, void *context)
{
    struct collector *collector = context;
    pthread_mutex_lock(&collector->lock);
    if (collector->count < MAX_PACKETS && size <= AUDIO_CAPTURE_MAX_PACKET) {
        int i = collector->count++;
        memcpy(collector->packets[i], packet, size);
        collector->sizes[i] = size;
        collector->capture_us[i] = capture_time_us;
        collector->called_us[i] = clock_realtime_us();
    }
    pthread_mutex_unlock(&collector->lock);
}

static int collected(struct collector *collector)
{
    pthread_mutex_lock(&collector->lock);
    int count = collector->count;
    pthread_mutex_unlock(&collector->lock);
    return count;
}

static void sleep_ms(int ms)
{
    audio_sleep_until_ns(clock_monotonic_ns() + (int64_t)ms * 1000000);
}

static double seconds_since(int64_t start_ns)
{
    return (double)(clock_monotonic_ns() - start_ns) / 1e9;
}

/* Write `seconds` of a mono S16_LE sine to path. */
static void write_sine(const char *path, double hz, double amplitude, double seconds)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    size_t frames = (size_t)(seconds * RATE);
    for (size_t i = 0; i < frames; i++) {
        int16_t sample = (int16_t)lrint(amplitude * sin(2.0 * M_PI * hz * (double)i / RATE));
        assert_int_equal(fwrite(&sample, sizeof(sample), 1, file), 1);
    }
    assert_int_equal(fclose(file), 0);
}

/* Read a whole raw S16 file; *samples gets the sample count. Caller frees. */
static int16_t *read_raw(const char *path, size_t *samples)
{
    size_t bytes = 0;
    int16_t *data = test_read_file(path, &bytes);
    *samples = bytes / 2;
    return data;
}

/* Amplitude of the `hz` component of x (single-bin DFT): 1.0 * A for a
 * sine of amplitude A spanning the window. */
static double tone_amplitude(const int16_t *x, size_t n, double hz)
{
    double re = 0.0, im = 0.0;
    for (size_t i = 0; i < n; i++) {
        double phase = 2.0 * M_PI * hz * (double)i / RATE;
        re += x[i] * cos(phase);
        im -= x[i] * sin(phase);
    }
    return 2.0 * sqrt(re * re + im * im) / (double)n;
}

static double rms(const int16_t *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    return n > 0 ? sqrt(sum / (double)n) : 0.0;
}

/* Frequency from upward zero crossings (linearly interpolated). */
static double zero_crossing_hz(const int16_t *x, size_t n)
{
    double first = -1.0, last = -1.0;
    int crossings = 0;
    for (size_t i = 1; i < n; i++) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            double at = (double)(i - 1) + (double)-x[i - 1] / (double)(x[i] - x[i - 1]);
            if (first < 0)
                first = at;
            last = at;
            crossings++;
        }
    }
    if (crossings < 2)
        return 0.0;
    return (crossings - 1) * (double)RATE / (last - first);
}

/* First sample index at or after `from` where a 5 ms window exceeds
 * `threshold` RMS; n if none. */
static size_t onset(const int16_t *x, size_t n, size_t from, double threshold)
{
    const size_t window = RATE / 200;
    for (size_t i = from; i + window <= n; i += window / 5) {
        if (rms(x + i, window) <= threshold)
            continue;
        while (abs(x[i]) < threshold / 10) /* the window's first audible sample */
            i++;
        return i;
    }
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(directory, sizeof(directory), "/tmp/doorstep-audio-XXXXXX");
    if (mkdtemp(directory) == NULL)
        return -1;
    snprintf(asoundrc, sizeof(asoundrc), "%s/asoundrc", directory);
    snprintf(in_path, sizeof(in_path), "%s/in.raw", directory);
    snprintf(out_path, sizeof(out_path), "%s/out.raw", directory);
    FILE *file = fopen(asoundrc, "w");
    if (file == NULL)
        return -1;
    fprintf(file,
            "pcm.doorstep_mic { type file; slave.pcm \"null\"; file \"/dev/null\";"
            " infile \"%s\"; format \"raw\" }\n"
            "pcm.doorstep_speaker { type file; slave.pcm \"null\"; file \"%s\"; format \"raw\" }\n"
            "pcm.doorstep_sim { type asym; capture.pcm \"doorstep_mic\";"
            " playback.pcm \"doorstep_speaker\" }\n"
            "pcm.doorstep_float_mic { type lfloat; slave { pcm \"doorstep_mic\";"
            " format S16_LE } }\n",
            in_path, out_path);
    fclose(file);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(asoundrc);
    unlink(in_path);
    unlink(out_path);
    rmdir(directory);
    snd_config_update_free_global();
    return 0;
}

/* How long to wait for something that takes well under a second on an idle
 * machine, and the bound on a callback's delay that only catches a wrong
 * clock: a loaded 2-core machine can hold a thread back for seconds. */
#define PATIENCE_MS     30000
#define CLOCK_SANITY_US 5000000

/* Wait until the speaker has played out its queue (or PATIENCE_MS); stats
 * gets its last figures. */
static void wait_played_out(struct audio_playback *playback, struct audio_playback_stats *stats)
{
    int64_t start = clock_monotonic_ns();
    do {
        sleep_ms(20);
        audio_playback_get_stats(playback, stats);
    } while (stats->playing && seconds_since(start) * 1000 < PATIENCE_MS);
}

/* Wait up to timeout_ms for `count` packets; returns how many arrived (more
 * may have come in meanwhile). */
static int wait_packets(struct collector *collector, int count, int timeout_ms)
{
    int64_t start = clock_monotonic_ns();
    while (collected(collector) < count && seconds_since(start) * 1000 < timeout_ms)
        sleep_ms(5);
    return collected(collector);
}

/* Decode packets [from, to) of a collector into a new buffer (caller frees). */
static int16_t *decode_packets(struct collector *collector, int channels, int from, int to,
                               size_t *frames)
{
    int err = 0;
    OpusDecoder *decoder = opus_decoder_create(RATE, channels, &err);
    assert_non_null(decoder);
    int16_t *pcm = calloc((size_t)(to - from) * FRAME * (size_t)channels, sizeof(*pcm));
    assert_non_null(pcm);
    size_t total = 0;
    for (int i = 0; i < to; i++) {
        int16_t frame[FRAME * 2];
        int n = opus_decode(decoder, collector->packets[i], (opus_int32)collector->sizes[i], frame,
                            FRAME, 0);
        assert_int_equal(n, FRAME);
        if (i < from)
            continue; /* decoded for the decoder's state only */
        memcpy(pcm + total * (size_t)channels, frame, (size_t)n * (size_t)channels * 2);
        total += (size_t)n;
    }
    opus_decoder_destroy(decoder);
    *frames = total;
    return pcm;
}

static void test_pacing_names(void **state)
{
    (void)state;
    enum audio_pacing pacing = AUDIO_PACING_AUTO;
    assert_int_equal(audio_pacing_parse("clock", &pacing), 0);
    assert_int_equal(pacing, AUDIO_PACING_CLOCK);
    assert_int_equal(audio_pacing_parse("device", &pacing), 0);
    assert_int_equal(pacing, AUDIO_PACING_DEVICE);
    assert_int_equal(audio_pacing_parse("fast", &pacing), -1);
    assert_string_equal(audio_pacing_name(AUDIO_PACING_AUTO), "auto");
}

/* 2 s from the file device: 440 Hz at the right level, in real time, with
 * capture times 20 ms apart and ~20 ms behind the callback. */
static void test_capture_sine(void **state)
{
    (void)state;
    write_sine(in_path, SINE_HZ, SINE_AMPLITUDE, SINE_SECONDS);
    struct collector *collector = calloc(1, sizeof(*collector));
    assert_non_null(collector);
    pthread_mutex_init(&collector->lock, NULL);
    struct audio_capture_config config = {.device = "doorstep_mic", .alsa_config = asoundrc};
    char error[256] = "";

    int64_t start = clock_monotonic_ns();
    struct audio_capture *capture =
        audio_capture_start(&config, collect, collector, error, sizeof(error));
    assert_non_null(capture);
    assert_true(wait_packets(collector, 100, PATIENCE_MS) >= 100);
    double elapsed = seconds_since(start);
    struct audio_capture_stats stats;
    audio_capture_get_stats(capture, &stats);
    audio_capture_stop(capture);

    /* 100 packets of 20 ms take 2 s, not the ~10 ms the device alone needs
     * (at least 2 s: a loaded machine may take longer, which is no fault). */
    print_message("capture: 100 packets in %.3f s, pacing %s, latency %.1f ms, rms %.3f\n", elapsed,
                  audio_pacing_name(stats.pacing), stats.latency_us / 1000.0, stats.rms);
    assert_true(elapsed > 1.9);
    assert_int_equal(stats.pacing, AUDIO_PACING_CLOCK);
    assert_true(stats.packets >= 100);
    assert_int_equal(stats.overruns, 0);
    assert_int_equal(stats.input_restarts, 0);
    assert_true(fabs(stats.rms - SINE_AMPLITUDE / sqrt(2.0) / 32768.0) < 0.01);

    for (int i = 1; i < 100; i++) {
        int64_t step = (int64_t)(collector->capture_us[i] - collector->capture_us[i - 1]);
        assert_true(step >= 19000 && step <= 21000);
        /* Stamped when its first sample was taken: at least a frame before
         * the callback, and on the same clock (a busy machine may run the
         * callback late, so the upper bound only catches another clock). */
        int64_t latency = (int64_t)(collector->called_us[i] - collector->capture_us[i]);
        assert_true(latency >= 15000 && latency <= CLOCK_SANITY_US);
    }
    int64_t skew = (int64_t)collector->capture_us[0] - (int64_t)collector->called_us[0];
    assert_true(skew < 0 && skew > -CLOCK_SANITY_US);

    size_t frames = 0;
    int16_t *pcm = decode_packets(collector, 1, 5, 100, &frames);
    assert_int_equal(frames, 95 * FRAME);
    double hz = zero_crossing_hz(pcm, frames);
    double level = rms(pcm, frames);
    double tone = tone_amplitude(pcm, RATE, SINE_HZ);
    print_message("capture: decoded %.2f Hz, rms %.0f, 440 Hz amplitude %.0f\n", hz, level, tone);
    assert_true(fabs(hz - SINE_HZ) <= 10.0);
    assert_true(fabs(level - SINE_AMPLITUDE / sqrt(2.0)) < 0.15 * SINE_AMPLITUDE / sqrt(2.0));
    assert_true(tone > 0.85 * SINE_AMPLITUDE && tone < 1.15 * SINE_AMPLITUDE);
    assert_true(tone_amplitude(pcm, RATE, 1000.0) < 0.05 * SINE_AMPLITUDE);
    free(pcm);
    pthread_mutex_destroy(&collector->lock);
    free(collector);
}

/* The global configuration via ALSA_CONFIG_PATH, the plug layer, stereo,
 * and an infile that runs out: the device is opened again and the file plays
 * from its start, so the microphone never goes quiet. */
static void test_capture_config_path_and_input_end(void **state)
{
    (void)state;
    write_sine(in_path, SINE_HZ, SINE_AMPLITUDE, 0.2); /* 10 stereo frames' worth of mono */
    char path[512];
    snprintf(path, sizeof(path), "%s/alsa.conf:%s", snd_config_topdir(), asoundrc);
    assert_int_equal(setenv("ALSA_CONFIG_PATH", path, 1), 0);
    struct collector *collector = calloc(1, sizeof(*collector));
    assert_non_null(collector);
    pthread_mutex_init(&collector->lock, NULL);
    struct audio_capture_config config = {.device = "plug:doorstep_sim", .channels = 2};
    char error[256] = "";

    struct audio_capture *capture =
        audio_capture_start(&config, collect, collector, error, sizeof(error));
    assert_non_null(capture);
    assert_true(wait_packets(collector, 15, PATIENCE_MS) >= 15);
    struct audio_capture_stats stats;
    audio_capture_get_stats(capture, &stats);
    audio_capture_stop(capture);
    unsetenv("ALSA_CONFIG_PATH");
    snd_config_update_free_global();

    /* 0.2 s of mono read as stereo is 0.1 s: 5 frames of sound, then the
     * file again (alsa-lib 1.2.8 reports full reads past the end of infile
     * without filling the buffer: before the loop, that was silence). */
    assert_true(stats.packets >= 15);
    assert_true(stats.input_restarts >= 2);
    assert_true(stats.rms > 0.1);
    size_t frames = 0;
    int16_t *pcm = decode_packets(collector, 2, 0, 15, &frames);
    for (int packet = 2; packet < 15; packet++)
        assert_true(rms(pcm + (size_t)packet * 2 * FRAME, 2 * FRAME) > 1000.0);
    free(pcm);
    pthread_mutex_destroy(&collector->lock);
    free(collector);
}

/* The simulated microphone: no ALSA device, 20 ms packets in real time,
 * quiet street noise until the visitor's flag is set, then a voice: louder,
 * with its energy where speech has it (a first formant between 250 and
 * 800 Hz and a second up to 2.3 kHz) and pauses between phrases. */
static void test_capture_sim(void **state)
{
    (void)state;
    struct collector *collector = calloc(1, sizeof(*collector));
    assert_non_null(collector);
    pthread_mutex_init(&collector->lock, NULL);
    atomic_int visitor;
    atomic_init(&visitor, 0);
    struct audio_capture_config config = {.device = AUDIO_CAPTURE_SIM_DEVICE,
                                          .sim_voice = &visitor};
    char error[256] = "";

    int64_t start = clock_monotonic_ns();
    struct audio_capture *capture =
        audio_capture_start(&config, collect, collector, error, sizeof(error));
    assert_non_null(capture);
    assert_true(wait_packets(collector, 50, PATIENCE_MS) >= 50);
    struct audio_capture_stats stats;
    audio_capture_get_stats(capture, &stats);
    assert_int_equal(stats.speaking, 0);
    atomic_store(&visitor, 1);
    int64_t speaking_since = clock_monotonic_ns();
    int spoke = 0;
    while (!spoke && seconds_since(speaking_since) * 1000 < PATIENCE_MS) {
        audio_capture_get_stats(capture, &stats);
        spoke = stats.speaking;
        sleep_ms(5);
    }
    assert_true(spoke);
    assert_true(wait_packets(collector, MAX_PACKETS, PATIENCE_MS) >= MAX_PACKETS);
    double elapsed = seconds_since(start);
    audio_capture_get_stats(capture, &stats);
    audio_capture_stop(capture);

    print_message("sim: %d packets in %.3f s, pacing %s\n", MAX_PACKETS, elapsed,
                  audio_pacing_name(stats.pacing));
    assert_true(elapsed > MAX_PACKETS * 0.02 - 0.1); /* real time, not as fast as it renders */
    assert_int_equal(stats.pacing, AUDIO_PACING_CLOCK);
    for (int i = 1; i < MAX_PACKETS; i++) {
        int64_t step = (int64_t)(collector->capture_us[i] - collector->capture_us[i - 1]);
        assert_true(step >= 19000 && step <= 21000);
    }
    size_t frames = 0;
    int16_t *pcm = decode_packets(collector, 1, 0, MAX_PACKETS, &frames);
    double street = rms(pcm + 5 * FRAME, 40 * FRAME);
    double loudest = 0.0, quietest = 1e9;
    int talking_from = 0;
    for (int packet = 55; packet + 5 <= MAX_PACKETS; packet += 5) {
        double level = rms(pcm + (size_t)packet * FRAME, 5 * FRAME);
        if (level > loudest) {
            loudest = level;
            talking_from = packet;
        }
        if (level < quietest)
            quietest = level;
    }
    const int16_t *voice = pcm + (size_t)talking_from * FRAME;
    double low = tone_amplitude(voice, 5 * FRAME, 100.0);
    double formant = 0.0;
    for (double hz = 250.0; hz <= 2300.0; hz += 50.0)
        formant = fmax(formant, tone_amplitude(voice, 5 * FRAME, hz));
    double hiss = tone_amplitude(voice, 5 * FRAME, 9000.0);
    print_message("sim: street rms %.0f, voice rms up to %.0f (quietest 100 ms %.0f), "
                  "formant peak %.0f, 100 Hz %.0f, 9 kHz %.0f\n",
                  street, loudest, quietest, formant, low, hiss);
    assert_true(street > 100.0 && street < 2000.0); /* audible, quiet */
    assert_true(loudest > 3.0 * street);            /* the voice stands out */
    assert_true(quietest < 0.5 * loudest);          /* syllables, gaps: not a drone */
    assert_true(formant > 4.0 * hiss && formant > 2.0 * low);
    free(pcm);
    pthread_mutex_destroy(&collector->lock);
    free(collector);
}

/* A device that only takes float samples (lfloat over the file device) is
 * opened through the plug layer and delivers the sine in real time. (Not
 * sample-exact: a plugin chain over `null` sees a full buffer on every
 * read and so skips through `infile`; real devices do not do that.) */
static void test_capture_plug_fallback(void **state)
{
    (void)state;
    write_sine(in_path, SINE_HZ, SINE_AMPLITUDE, 2.0);
    struct collector *collector = calloc(1, sizeof(*collector));
    assert_non_null(collector);
    pthread_mutex_init(&collector->lock, NULL);
    struct audio_capture_config config = {.device = "doorstep_float_mic", .alsa_config = asoundrc};
    char error[256] = "";

    int64_t start = clock_monotonic_ns();
    struct audio_capture *capture =
        audio_capture_start(&config, collect, collector, error, sizeof(error));
    assert_non_null(capture);
    assert_true(wait_packets(collector, 10, PATIENCE_MS) >= 10);
    double elapsed = seconds_since(start);
    audio_capture_stop(capture);

    assert_true(elapsed > 0.18); /* real time, not as fast as the device reads */
    size_t frames = 0;
    int16_t *pcm = decode_packets(collector, 1, 2, 10, &frames);
    assert_true(rms(pcm, frames) > 0.5 * SINE_AMPLITUDE / sqrt(2.0));
    free(pcm);
    pthread_mutex_destroy(&collector->lock);
    free(collector);
}

static void test_capture_errors(void **state)
{
    (void)state;
    struct collector collector = {0};
    char error[256] = "";
    struct audio_capture_config config = {.device = "doorstep_nope", .alsa_config = asoundrc};
    assert_null(audio_capture_start(&config, collect, &collector, error, sizeof(error)));
    assert_non_null(strstr(error, "doorstep_nope"));

    char missing[160];
    snprintf(missing, sizeof(missing), "%s/missing.conf", directory);
    config = (struct audio_capture_config){.device = "doorstep_mic", .alsa_config = missing};
    assert_null(audio_capture_start(&config, collect, &collector, error, sizeof(error)));
    assert_non_null(strstr(error, "missing.conf"));

    config = (struct audio_capture_config){.device = "doorstep_mic", .alsa_config = "/tmp/a:b"};
    assert_null(audio_capture_start(&config, collect, &collector, error, sizeof(error)));

    config = (struct audio_capture_config){.device = "doorstep_mic", .channels = 3};
    assert_null(audio_capture_start(&config, collect, &collector, error, sizeof(error)));
    config = (struct audio_capture_config){.device = "doorstep_mic", .bitrate_bps = 100};
    assert_null(audio_capture_start(&config, collect, &collector, error, sizeof(error)));
    config = (struct audio_capture_config){.device = "doorstep_mic"};
    assert_null(audio_capture_start(&config, NULL, &collector, error, sizeof(error)));
    audio_capture_stop(NULL);
}

/* Encode `count` 20 ms packets of a 1 kHz tone; sizes into sizes[]. */
static void encode_tone(uint8_t (*packets)[AUDIO_CAPTURE_MAX_PACKET], size_t *sizes, int count)
{
    int err = 0;
    OpusEncoder *encoder = opus_encoder_create(RATE, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
    assert_non_null(encoder);
    assert_int_equal(opus_encoder_ctl(encoder, OPUS_SET_BITRATE(32000)), OPUS_OK);
    for (int k = 0; k < count; k++) {
        int16_t frame[FRAME];
        for (int i = 0; i < FRAME; i++) {
            double t = (double)(k * FRAME + i) / RATE;
            frame[i] = (int16_t)lrint(TONE_AMPLITUDE * sin(2.0 * M_PI * TONE_HZ * t));
        }
        int size = opus_encode(encoder, frame, FRAME, packets[k], AUDIO_CAPTURE_MAX_PACKET);
        assert_true(size > 0);
        sizes[k] = (size_t)size;
    }
    opus_encoder_destroy(encoder);
}

static struct audio_playback *start_speaker(const char *device)
{
    struct audio_playback_config config = {.device = device, .alsa_config = asoundrc};
    char error[256] = "";
    struct audio_playback *playback = audio_playback_start(&config, error, sizeof(error));
    if (playback == NULL)
        print_error("audio_playback_start: %s\n", error);
    assert_non_null(playback);
    return playback;
}

/* 1 s of 1 kHz pushed in real time comes out of the file device after the
 * jitter-buffer delay, at the right pitch and level, then silence. */
static void test_playback_tone(void **state)
{
    (void)state;
    enum { COUNT = 50 };
    uint8_t(*packets)[AUDIO_CAPTURE_MAX_PACKET] = calloc(COUNT, AUDIO_CAPTURE_MAX_PACKET);
    size_t sizes[COUNT];
    assert_non_null(packets);
    encode_tone(packets, sizes, COUNT);

    struct audio_playback *playback = start_speaker("doorstep_sim");
    sleep_ms(200);
    struct audio_playback_stats stats;
    audio_playback_get_stats(playback, &stats);
    uint64_t written_at_push = stats.frames_written;
    uint64_t first_timestamp = clock_realtime_us();
    int64_t start = clock_monotonic_ns();
    for (int k = 0; k < COUNT; k++) {
        audio_sleep_until_ns(start + (int64_t)k * 20000000);
        assert_int_equal(audio_playback_push(playback, packets[k], sizes[k],
                                             first_timestamp + (uint64_t)k * 20000),
                         0);
        if (k == 10)
            audio_playback_get_stats(playback, &stats);
    }
    uint64_t latency_us = stats.latency_us;
    wait_played_out(playback, &stats);
    /* And the device has written 1.5 s from the push position: the tone
     * (at most 140 ms in), its concealment and some silence after it. */
    struct audio_playback_stats later = stats;
    int64_t waited = clock_monotonic_ns();
    while (later.frames_written < written_at_push + RATE * 3 / 2 &&
           seconds_since(waited) * 1000 < PATIENCE_MS) {
        sleep_ms(20);
        audio_playback_get_stats(playback, &later);
    }
    audio_playback_stop(playback);

    size_t samples = 0;
    int16_t *out = read_raw(out_path, &samples);
    size_t begin = onset(out, samples, 0, 1000.0);
    double delay_ms = ((double)begin - (double)written_at_push) * 1000.0 / RATE;
    print_message("playback: %zu frames written, tone at %zu (%.1f ms after the push position), "
                  "latency stat %.1f ms (push -> leaves device), pacing %s, concealed %llu\n",
                  samples, begin, delay_ms, latency_us / 1000.0, audio_pacing_name(stats.pacing),
                  (unsigned long long)stats.frames_concealed);
    assert_true(samples >= (size_t)(1.5 * RATE));
    assert_true(rms(out + RATE / 20, RATE / 10) < 1.0); /* silence before the push */
    assert_true(delay_ms >= 20.0 && delay_ms <= 140.0);
    assert_true(latency_us >= 40000 && latency_us <= 200000);
    assert_true(begin + RATE <= samples);
    const int16_t *tone = out + begin + RATE / 50;
    double hz = zero_crossing_hz(tone, RATE * 8 / 10);
    double amplitude = tone_amplitude(tone, RATE * 8 / 10, TONE_HZ);
    print_message("playback: %.2f Hz, amplitude %.0f\n", hz, amplitude);
    assert_true(fabs(hz - TONE_HZ) <= 10.0);
    assert_true(amplitude > 0.8 * TONE_AMPLITUDE && amplitude < 1.2 * TONE_AMPLITUDE);
    /* The stream ended: 60 ms of concealment, then silence. */
    size_t end = begin + RATE + RATE / 5;
    assert_true(end + RATE / 20 <= samples);
    assert_true(rms(out + end, RATE / 20) < 1.0);

    assert_int_equal(stats.packets_played, COUNT);
    assert_int_equal(stats.packets_late, 0);
    assert_int_equal(stats.packets_overflow, 0);
    assert_int_equal(stats.pacing, AUDIO_PACING_CLOCK);
    assert_int_equal(stats.playing, 0);
    assert_true(stats.frames_concealed >= FRAME && stats.frames_concealed <= 10 * FRAME);
    free(out);
    free(packets);
}

/* Jitter-buffer rules: invalid, overflow (oldest dropped), late, duplicate,
 * no timestamp. */
static void test_playback_jitter_rules(void **state)
{
    (void)state;
    enum { COUNT = 20 };
    uint8_t(*packets)[AUDIO_CAPTURE_MAX_PACKET] = calloc(COUNT, AUDIO_CAPTURE_MAX_PACKET);
    size_t sizes[COUNT];
    assert_non_null(packets);
    encode_tone(packets, sizes, COUNT);
    struct audio_playback *playback = start_speaker("doorstep_speaker");
    struct audio_playback_stats stats;

    const uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_equal(audio_playback_push(playback, junk, 0, 1), -1);
    assert_int_equal(audio_playback_push(playback, junk, sizeof(junk), 1), -1);

    /* A burst of 400 ms: only the newest 160 ms are kept. */
    uint64_t base = 1000000;
    for (int k = COUNT - 1; k >= 0; k--) /* reversed: the queue sorts them */
        audio_playback_push(playback, packets[k], sizes[k], base + (uint64_t)k * 20000);
    audio_playback_get_stats(playback, &stats);
    assert_int_equal(stats.packets_invalid, 2);
    assert_true(stats.packets_overflow >= COUNT - 8);
    assert_true(stats.queued_ms <= 160);

    int64_t start = clock_monotonic_ns();
    do {
        sleep_ms(5);
        audio_playback_get_stats(playback, &stats);
    } while (!stats.playing && seconds_since(start) * 1000 < PATIENCE_MS);
    assert_true(stats.playing);
    /* Older than what is already playing, and a duplicate of a queued one. */
    assert_int_equal(audio_playback_push(playback, packets[0], sizes[0], base), -1);
    assert_int_equal(
        audio_playback_push(playback, packets[0], sizes[0], base + (COUNT - 1) * 20000), -1);
    /* No timestamp: arrival order, never late. */
    assert_int_equal(audio_playback_push(playback, packets[0], sizes[0], 0), 0);
    audio_playback_get_stats(playback, &stats);
    assert_int_equal(stats.packets_late, 2);

    wait_played_out(playback, &stats);
    assert_int_equal(stats.playing, 0);
    assert_int_equal(stats.packets_played + stats.packets_overflow, COUNT + 1);
    audio_playback_stop(playback);
    free(packets);
}

/* The chime: ding at 659 Hz then dong at 523 Hz, 0.8 s, through the device. */
static void test_playback_chime(void **state)
{
    (void)state;
    int16_t small[16];
    assert_int_equal(audio_chime_generate(small, 16), 0);

    struct audio_playback *playback = start_speaker("doorstep_speaker");
    sleep_ms(100);
    struct audio_playback_stats stats;
    audio_playback_get_stats(playback, &stats);
    uint64_t written_before = stats.frames_written;
    assert_int_equal(audio_playback_chime(playback), 0);
    audio_playback_get_stats(playback, &stats);
    uint64_t written_after = stats.frames_written;
    /* A second chime fits (4 s queue), five more do not all fit. */
    int refused = 0;
    for (int i = 0; i < 6; i++)
        refused += audio_playback_chime(playback) != 0;
    assert_true(refused >= 1);
    sleep_ms(1000);
    audio_playback_stop(playback);

    size_t samples = 0;
    int16_t *out = read_raw(out_path, &samples);
    size_t begin = onset(out, samples, 0, 500.0);
    print_message("chime: starts at %zu, %.1f ms after the call's write position\n", begin,
                  ((double)begin - (double)written_before) * 1000.0 / RATE);
    /* It starts with the first write after the call: between the write
     * positions around it, give or take a device period (not a wall-clock
     * bound: the test thread may be descheduled on a busy machine). */
    assert_true(begin >= written_before && begin < written_after + RATE / 10);
    assert_true(begin + AUDIO_CHIME_FRAMES <= samples);
    const size_t window = RATE * 3 / 10;
    const int16_t *ding = out + begin + RATE / 50;
    const int16_t *dong = out + begin + AUDIO_CHIME_FRAMES / 2 + RATE / 50;
    double ding_ding = tone_amplitude(ding, window, AUDIO_CHIME_DING_HZ);
    double ding_dong = tone_amplitude(ding, window, AUDIO_CHIME_DONG_HZ);
    double dong_dong = tone_amplitude(dong, window, AUDIO_CHIME_DONG_HZ);
    double dong_ding = tone_amplitude(dong, window, AUDIO_CHIME_DING_HZ);
    print_message("chime: ding %.0f (dong bin %.0f), dong %.0f (ding bin %.0f)\n", ding_ding,
                  ding_dong, dong_dong, dong_ding);
    assert_true(ding_ding > 2000.0 && ding_ding > 10.0 * ding_dong);
    assert_true(dong_dong > 2000.0 && dong_dong > 10.0 * dong_ding);
    assert_true(tone_amplitude(ding, window, 1000.0) < 0.05 * ding_ding);
    free(out);
}

static void test_playback_errors(void **state)
{
    (void)state;
    char error[256] = "";
    struct audio_playback_config config = {.device = "doorstep_nope", .alsa_config = asoundrc};
    assert_null(audio_playback_start(&config, error, sizeof(error)));
    assert_non_null(strstr(error, "doorstep_nope"));
    config = (struct audio_playback_config){.device = "doorstep_speaker",
                                            .alsa_config = asoundrc,
                                            .jitter_target_ms = 100,
                                            .jitter_max_ms = 100};
    assert_null(audio_playback_start(&config, error, sizeof(error)));
    audio_playback_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pacing_names),
        cmocka_unit_test(test_capture_sine),
        cmocka_unit_test(test_capture_config_path_and_input_end),
        cmocka_unit_test(test_capture_plug_fallback),
        cmocka_unit_test(test_capture_sim),
        cmocka_unit_test(test_capture_errors),
        cmocka_unit_test(test_playback_tone),
        cmocka_unit_test(test_playback_jitter_rules),
        cmocka_unit_test(test_playback_chime),
        cmocka_unit_test(test_playback_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
