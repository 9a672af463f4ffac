/*
 * talk_encoder.c - libopus encoding of a talker's PCM (see talk_encoder.h).
 * Runs on the talk socket's connection thread; owns the OpusEncoder and
 * one frame of buffered samples.
 */
#define LOG_MODULE "talk"

#include "talk/talk_encoder.h"

#include <opus/opus.h>
#include <stdlib.h>

#include "common/log.h"
#include "talk/talk_packet.h"

#define TALK_ENCODER_BITRATE 32000
#define TALK_ENCODER_GAP_US  20000

struct talk_encoder {
    OpusEncoder *opus;
    opus_int16 frame[TALK_ENCODER_FRAME_SAMPLES];
    unsigned buffered;       /* samples in frame */
    uint64_t frame_start_us; /* capture time of frame[0] */
};

struct talk_encoder *talk_encoder_create(void)
{
    struct talk_encoder *encoder = calloc(1, sizeof(*encoder));
    int error = OPUS_OK;

    if (encoder == NULL) {
        log_error("out of memory creating a talk encoder");
        return NULL;
    }
    encoder->opus = opus_encoder_create(TALK_SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP, &error);
    if (encoder->opus == NULL || error != OPUS_OK) {
        log_error("cannot create an Opus encoder: %s", opus_strerror(error));
        free(encoder);
        return NULL;
    }
    opus_encoder_ctl(encoder->opus, OPUS_SET_BITRATE(TALK_ENCODER_BITRATE));
    opus_encoder_ctl(encoder->opus, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    return encoder;
}

void talk_encoder_free(struct talk_encoder *encoder)
{
    if (encoder == NULL)
        return;
    opus_encoder_destroy(encoder->opus);
    free(encoder);
}

int talk_encoder_push(struct talk_encoder *encoder, const uint8_t *pcm, unsigned count,
                      uint64_t capture_us, talk_encoder_output output, void *context)
{
    uint8_t packet[TALK_ENCODER_MAX_PACKET];
    int failures = 0;

    if (encoder->buffered > 0) {
        uint64_t expected =
            encoder->frame_start_us + (uint64_t)encoder->buffered * 1000000u / TALK_SAMPLE_RATE;
        uint64_t off = capture_us > expected ? capture_us - expected : expected - capture_us;
        if (off > TALK_ENCODER_GAP_US)
            encoder->buffered = 0;
    }
    for (unsigned i = 0; i < count; i++) {
        if (encoder->buffered == 0)
            encoder->frame_start_us = capture_us + (uint64_t)i * 1000000u / TALK_SAMPLE_RATE;
        encoder->frame[encoder->buffered++] = (opus_int16)(pcm[2 * i] | (pcm[2 * i + 1] << 8));
        if (encoder->buffered == TALK_ENCODER_FRAME_SAMPLES) {
            opus_int32 size = opus_encode(encoder->opus, encoder->frame, TALK_ENCODER_FRAME_SAMPLES,
                                          packet, sizeof(packet));
            encoder->buffered = 0;
            if (size < 1) {
                failures++;
                continue;
            }
            output(packet, (size_t)size, encoder->frame_start_us, context);
        }
    }
    return failures;
}
