/*
 * recorder_mix.c - mixing what the doorbell's speaker played into the
 * recorded microphone packets (see recorder_mix.h). Recorder thread only.
 *
 * The encoder uses the doorbell's own stream settings (firmware
 * audio_capture.c): restricted low delay, complexity 5, no FEC, no DTX,
 * the bitrate estimated from the doorbell's packets. When mixing starts the
 * decoder and encoder first take the packet before (when it is the one just
 * before), so neither starts cold in the middle of a sound.
 */
#define LOG_MODULE "recording"

#include "recording/recorder_mix.h"

#include <string.h>

#include "common/log.h"

#define RECORDER_MIX_COMPLEXITY   5
#define RECORDER_MIX_MIN_BITRATE  6000
#define RECORDER_MIX_MAX_BITRATE  256000
#define RECORDER_MIX_BITRATE_INIT 32000

void recorder_mix_init(struct recorder_mix *mix)
{
    memset(mix, 0, sizeof(*mix));
}

void recorder_mix_free(struct recorder_mix *mix)
{
    opus_decoder_destroy(mix->decoder);
    opus_encoder_destroy(mix->encoder);
    mix->decoder = NULL;
    mix->encoder = NULL;
    mix->channels = 0;
}

/* Make (or reset) the decoder and encoder for channels; 0, or -1 (logged). */
static int recorder_mix_prepare(struct recorder_mix *mix, int channels)
{
    int error = OPUS_OK;
    int32_t bitrate = mix->bits_per_second;

    if (mix->channels != channels) {
        recorder_mix_free(mix);
        mix->decoder = opus_decoder_create(HEARD_AUDIO_RATE, channels, &error);
        if (mix->decoder != NULL && error == OPUS_OK)
            mix->encoder = opus_encoder_create(HEARD_AUDIO_RATE, channels,
                                               OPUS_APPLICATION_RESTRICTED_LOWDELAY, &error);
        if (mix->decoder == NULL || mix->encoder == NULL || error != OPUS_OK) {
            log_error("cannot mix talk-back into the recording: %s", opus_strerror(error));
            recorder_mix_free(mix);
            return -1;
        }
        mix->channels = channels;
    } else {
        opus_decoder_ctl(mix->decoder, OPUS_RESET_STATE);
        opus_encoder_ctl(mix->encoder, OPUS_RESET_STATE);
    }
    if (bitrate < RECORDER_MIX_MIN_BITRATE)
        bitrate = RECORDER_MIX_MIN_BITRATE;
    if (bitrate > RECORDER_MIX_MAX_BITRATE)
        bitrate = RECORDER_MIX_MAX_BITRATE;
    if (opus_encoder_ctl(mix->encoder, OPUS_SET_BITRATE(bitrate)) != OPUS_OK ||
        opus_encoder_ctl(mix->encoder, OPUS_SET_COMPLEXITY(RECORDER_MIX_COMPLEXITY)) != OPUS_OK ||
        opus_encoder_ctl(mix->encoder, OPUS_SET_INBAND_FEC(0)) != OPUS_OK ||
        opus_encoder_ctl(mix->encoder, OPUS_SET_DTX(0)) != OPUS_OK) {
        log_error("cannot mix talk-back into the recording: the encoder refused its settings");
        recorder_mix_free(mix);
        return -1;
    }
    memset(mix->soft_clip, 0, sizeof(mix->soft_clip));
    return 0;
}

/* Mixing starts at a packet captured at capture_us: prepare the codecs and
 * prime them with the packet before when it ends there. 0, or -1. */
static int recorder_mix_begin(struct recorder_mix *mix, int channels, uint64_t capture_us)
{
    if (recorder_mix_prepare(mix, channels) != 0)
        return -1;
    if (mix->previous_size > 0 && mix->previous_end_us + 1000u >= capture_us &&
        mix->previous_end_us <= capture_us + 1000u) {
        int decoded = opus_decode_float(mix->decoder, mix->previous, (opus_int32)mix->previous_size,
                                        mix->pcm, RECORDER_MIX_MAX_SAMPLES, 0);
        if (decoded > 0 && opus_encode_float(mix->encoder, mix->pcm, decoded, mix->output,
                                             (opus_int32)sizeof(mix->output)) < 0)
            return -1;
    }
    return 0;
}

/* Keep a copy of a packet passed through and the bitrate estimate. */
static void recorder_mix_remember(struct recorder_mix *mix, const uint8_t *packet, size_t size,
                                  int samples, uint64_t capture_us)
{
    int32_t bits = (int32_t)(size * 8u * HEARD_AUDIO_RATE / (size_t)samples);

    mix->bits_per_second = mix->bits_per_second == 0
                               ? bits
                               : mix->bits_per_second + (bits - mix->bits_per_second) / 16;
    mix->previous_size = size <= sizeof(mix->previous) ? size : 0;
    memcpy(mix->previous, packet, mix->previous_size);
    mix->previous_samples = samples;
    mix->previous_end_us = capture_us + (uint64_t)samples * 1000000u / HEARD_AUDIO_RATE;
}

const uint8_t *recorder_mix_packet(struct recorder_mix *mix, struct heard_audio *heard,
                                   int channels, const uint8_t *packet, size_t size, int samples,
                                   uint64_t capture_us, size_t *out_size)
{
    uint64_t until = heard_audio_until(heard);
    int decoded, encoded;

    *out_size = size;
    if (samples <= 0 || samples > RECORDER_MIX_MAX_SAMPLES || channels < 1 ||
        channels > RECORDER_MIX_MAX_CHANNELS || size == 0)
        return packet;
    if (until == 0 || until + RECORDER_MIX_TAIL_US <= capture_us) {
        /* Nobody talks: the packet as the doorbell made it. */
        mix->active = 0;
        recorder_mix_remember(mix, packet, size, samples, capture_us);
        return packet;
    }
    if (!mix->active || mix->channels != channels) {
        if (mix->bits_per_second == 0)
            mix->bits_per_second = RECORDER_MIX_BITRATE_INIT;
        if (recorder_mix_begin(mix, channels, capture_us) != 0)
            goto pass;
        mix->active = 1;
    }
    decoded = opus_decode_float(mix->decoder, packet, (opus_int32)size, mix->pcm, samples, 0);
    if (decoded != samples) {
        log_warn("cannot mix talk-back into a recorded packet: %s",
                 decoded < 0 ? opus_strerror(decoded) : "short packet");
        goto pass;
    }
    heard_audio_read(heard, capture_us, (unsigned)samples, mix->heard);
    for (int i = 0; i < samples; i++) {
        float sound = (float)mix->heard[i] / 32768.0f;
        for (int channel = 0; channel < channels; channel++)
            mix->pcm[i * channels + channel] += sound;
    }
    opus_pcm_soft_clip(mix->pcm, samples, channels, mix->soft_clip);
    encoded = opus_encode_float(mix->encoder, mix->pcm, samples, mix->output,
                                (opus_int32)sizeof(mix->output));
    if (encoded <= 0) {
        log_warn("cannot mix talk-back into a recorded packet: %s",
                 opus_strerror(encoded < 0 ? encoded : OPUS_INTERNAL_ERROR));
        goto pass;
    }
    mix->mixed_packets++;
    *out_size = (size_t)encoded;
    return mix->output;
pass:
    /* The codecs' state no longer follows the stream: start over next time. */
    mix->active = 0;
    recorder_mix_remember(mix, packet, size, samples, capture_us);
    return packet;
}
