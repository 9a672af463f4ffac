/*
 * talk_packet.h - the binary talk packet a browser sends on the talk
 * WebSocket (docs/api.md): a 16-byte big-endian header and one Opus packet
 * or 16-bit PCM.
 *
 *   offset size field
 *   0      1    version        TALK_PACKET_VERSION
 *   1      1    codec          TALK_CODEC_OPUS or TALK_CODEC_PCM16
 *   2      2    sequence       +1 per packet, wraps at 2^16
 *   4      8    capture_us     capture time of the first sample, us since the epoch
 *   12     2    samples        at 48 kHz, 1..2880 (960 = 20 ms)
 *   14     2    reserved       zero
 *   16     ...  payload        Opus: 1..1275 bytes; PCM: samples * 2 bytes (s16le mono)
 *
 * The parser is pure (no I/O, no globals, any thread) and the only code
 * that reads a talk packet; it has a libFuzzer harness (tests/fuzz/fuzz_talk.c).
 */
#ifndef DOORSTEP_TALK_PACKET_H
#define DOORSTEP_TALK_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TALK_PACKET_VERSION       1
#define TALK_PACKET_HEADER_SIZE   16
#define TALK_PACKET_MAX_SAMPLES   2880 /* 60 ms at 48 kHz */
#define TALK_PACKET_MAX_OPUS      1275
#define TALK_PACKET_SEQUENCE_SPAN 1000 /* a sequence counts as "after" within this */
#define TALK_PACKET_MAX_SIZE      (TALK_PACKET_HEADER_SIZE + TALK_PACKET_MAX_SAMPLES * 2)
#define TALK_SAMPLE_RATE          48000

enum talk_codec {
    TALK_CODEC_OPUS = 1,
    TALK_CODEC_PCM16 = 2,
};

/* A parsed packet. payload points into the parser's input (not copied). */
struct talk_packet {
    enum talk_codec codec;
    uint16_t sequence;
    uint64_t capture_us;
    unsigned samples;
    const uint8_t *payload;
    size_t payload_size;
};

/*
 * Parse and validate one packet: version, codec, sample count, the zero
 * reserved bytes, and a payload size that fits the codec. 0 fills *out; -1
 * writes a short reason (never quoting input) into reason, NUL-terminated.
 */
int talk_packet_parse(const uint8_t *data, size_t size, struct talk_packet *out, char *reason,
                      size_t reason_size);

/* Write the header of packet into out (for tests and the fuzz harness). */
void talk_packet_encode_header(const struct talk_packet *packet,
                               uint8_t out[TALK_PACKET_HEADER_SIZE]);

/* Is sequence after last, modulo 2^16, by 1..TALK_PACKET_SEQUENCE_SPAN? */
bool talk_packet_sequence_after(uint16_t last, uint16_t sequence);

/* "opus", "pcm16" or NULL, and back: 0 on an unknown name. */
const char *talk_codec_name(int codec);
int talk_codec_from_name(const char *name);

#endif
