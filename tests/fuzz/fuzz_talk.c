/*
 * fuzz_talk.c - libFuzzer harness for the talk packet parser
 * (appliance/talk/talk_packet.c) and the hub's PCM encoder
 * (appliance/talk/talk_encoder.c).
 *
 * For each input: parse it; on failure the reason must be a non-empty,
 * bounded string. On success the fields must be in range, the payload must
 * lie inside the input, and re-encoding the header followed by the payload
 * must reproduce the input byte for byte. An accepted PCM packet is pushed
 * through the Opus encoder (every frame it outputs must be a valid Opus
 * packet size). The sequence check is run on the packet's sequence against
 * the first two bytes: "after" must never hold both ways, and never for a
 * packet against itself.
 *
 * Runs on libFuzzer's single thread; everything allocated per input is freed
 * before returning. Built from common/ (always linked) and:
 * FUZZ_SOURCES: appliance/talk/talk_packet.c
 * FUZZ_SOURCES: appliance/talk/talk_encoder.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "talk/talk_encoder.h"
#include "talk/talk_packet.h"

#define FUZZ_REASON_SIZE 96

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* talk_encoder output: the frame must be a plausible Opus packet. */
static void fuzz_encoded(const uint8_t *packet, size_t size, uint64_t capture_us, void *context)
{
    (void)capture_us;
    FUZZ_CHECK(packet != NULL && size >= 1 && size <= TALK_ENCODER_MAX_PACKET);
    (*(unsigned *)context)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct talk_packet packet;
    char reason[FUZZ_REASON_SIZE];
    uint8_t header[TALK_PACKET_HEADER_SIZE];

    memset(reason, 'x', sizeof(reason));
    if (talk_packet_parse(data, size, &packet, reason, sizeof(reason)) != 0) {
        size_t length = strnlen(reason, sizeof(reason));
        FUZZ_CHECK(length > 0 && length < sizeof(reason));
        return 0;
    }
    FUZZ_CHECK(packet.codec == TALK_CODEC_OPUS || packet.codec == TALK_CODEC_PCM16);
    FUZZ_CHECK(packet.samples >= 1 && packet.samples <= TALK_PACKET_MAX_SAMPLES);
    FUZZ_CHECK(packet.payload == data + TALK_PACKET_HEADER_SIZE);
    FUZZ_CHECK(packet.payload_size == size - TALK_PACKET_HEADER_SIZE);
    if (packet.codec == TALK_CODEC_OPUS)
        FUZZ_CHECK(packet.payload_size >= 1 && packet.payload_size <= TALK_PACKET_MAX_OPUS);
    else
        FUZZ_CHECK(packet.payload_size == (size_t)packet.samples * 2);
    talk_packet_encode_header(&packet, header);
    FUZZ_CHECK(memcmp(header, data, sizeof(header)) == 0);

    {
        uint16_t other = (uint16_t)((data[0] << 8) | data[1]);
        FUZZ_CHECK(!talk_packet_sequence_after(packet.sequence, packet.sequence));
        FUZZ_CHECK(!(talk_packet_sequence_after(packet.sequence, other) &&
                     talk_packet_sequence_after(other, packet.sequence)));
        FUZZ_CHECK(talk_packet_sequence_after(packet.sequence, (uint16_t)(packet.sequence + 1)));
    }

    if (packet.codec == TALK_CODEC_PCM16) {
        struct talk_encoder *encoder = talk_encoder_create();
        unsigned frames = 0;
        FUZZ_CHECK(encoder != NULL);
        /* Twice, the second time a whole frame later: frames come out. */
        FUZZ_CHECK(talk_encoder_push(encoder, packet.payload, packet.samples, packet.capture_us,
                                     fuzz_encoded, &frames) == 0);
        FUZZ_CHECK(talk_encoder_push(encoder, packet.payload, packet.samples,
                                     packet.capture_us + packet.samples * 1000000ull / 48000,
                                     fuzz_encoded, &frames) == 0);
        FUZZ_CHECK(frames == (2u * packet.samples) / TALK_ENCODER_FRAME_SAMPLES);
        talk_encoder_free(encoder);
    }
    return 0;
}
