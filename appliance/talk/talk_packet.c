/*
 * talk_packet.c - the talk packet parser (see talk_packet.h). Pure: any
 * thread, no state, owns nothing.
 */
#include "talk/talk_packet.h"

#include <string.h>

#include "common/error_text.h"

/* Write reason into the caller's buffer; returns -1 for the caller to return. */
static int talk_packet_refuse(char *reason, size_t reason_size, const char *text)
{
    error_text_set(reason, reason_size, "%s", text);
    return -1;
}

int talk_packet_parse(const uint8_t *data, size_t size, struct talk_packet *out, char *reason,
                      size_t reason_size)
{
    struct talk_packet packet;

    memset(out, 0, sizeof(*out));
    if (reason != NULL && reason_size > 0)
        reason[0] = '\0';
    if (data == NULL || size < TALK_PACKET_HEADER_SIZE)
        return talk_packet_refuse(reason, reason_size, "shorter than the 16-byte header");
    if (size > TALK_PACKET_MAX_SIZE)
        return talk_packet_refuse(reason, reason_size, "oversized");
    if (data[0] != TALK_PACKET_VERSION)
        return talk_packet_refuse(reason, reason_size, "unknown version");
    if (data[1] != TALK_CODEC_OPUS && data[1] != TALK_CODEC_PCM16)
        return talk_packet_refuse(reason, reason_size, "unknown codec");
    if (data[14] != 0 || data[15] != 0)
        return talk_packet_refuse(reason, reason_size, "reserved bytes not zero");
    memset(&packet, 0, sizeof(packet));
    packet.codec = (enum talk_codec)data[1];
    packet.sequence = (uint16_t)((data[2] << 8) | data[3]);
    for (int i = 4; i < 12; i++)
        packet.capture_us = (packet.capture_us << 8) | data[i];
    packet.samples = (unsigned)((data[12] << 8) | data[13]);
    packet.payload = data + TALK_PACKET_HEADER_SIZE;
    packet.payload_size = size - TALK_PACKET_HEADER_SIZE;
    if (packet.samples < 1 || packet.samples > TALK_PACKET_MAX_SAMPLES)
        return talk_packet_refuse(reason, reason_size, "sample count not 1..2880");
    if (packet.capture_us == 0)
        return talk_packet_refuse(reason, reason_size, "no capture time");
    if (packet.codec == TALK_CODEC_OPUS &&
        (packet.payload_size < 1 || packet.payload_size > TALK_PACKET_MAX_OPUS))
        return talk_packet_refuse(reason, reason_size, "Opus payload not 1..1275 bytes");
    if (packet.codec == TALK_CODEC_PCM16 && packet.payload_size != (size_t)packet.samples * 2)
        return talk_packet_refuse(reason, reason_size, "PCM payload is not samples * 2 bytes");
    *out = packet;
    return 0;
}

void talk_packet_encode_header(const struct talk_packet *packet,
                               uint8_t out[TALK_PACKET_HEADER_SIZE])
{
    out[0] = TALK_PACKET_VERSION;
    out[1] = (uint8_t)packet->codec;
    out[2] = (uint8_t)(packet->sequence >> 8);
    out[3] = (uint8_t)packet->sequence;
    for (int i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(packet->capture_us >> (56 - 8 * i));
    out[12] = (uint8_t)(packet->samples >> 8);
    out[13] = (uint8_t)packet->samples;
    out[14] = out[15] = 0;
}

bool talk_packet_sequence_after(uint16_t last, uint16_t sequence)
{
    uint16_t distance = (uint16_t)(sequence - last);
    return distance >= 1 && distance <= TALK_PACKET_SEQUENCE_SPAN;
}

const char *talk_codec_name(int codec)
{
    return codec == TALK_CODEC_OPUS ? "opus" : codec == TALK_CODEC_PCM16 ? "pcm16" : NULL;
}

int talk_codec_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "opus") == 0)
        return TALK_CODEC_OPUS;
    if (strcmp(name, "pcm16") == 0)
        return TALK_CODEC_PCM16;
    return 0;
}
