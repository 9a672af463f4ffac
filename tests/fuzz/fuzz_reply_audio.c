/*
 * fuzz_reply_audio.c - libFuzzer harness for what reads quick reply audio
 * from outside: the hub's upload decoder and validator
 * (appliance/replies/reply_audio.c: RIFF/WAVE through libsndfile, Ogg Opus
 * through libopusfile, then resampling and encoding), the clip walker both
 * programs share (common/reply_clip.c), and the doorbell's reassembly of
 * QUICK_REPLY_DATA chunks (firmware/replies/reply_cache.c, memory only).
 *
 * For each input: the transcoder either refuses it with a reason or makes a
 * clip that validates, at most 30 s long; the input as a clip validates or
 * not, and walking it agrees; the input cut into chunks either assembles
 * into a clip that validates or is refused. The first byte picks the file
 * magic (none, "RIFF....WAVE" or "OggS") put in front, so the decoders get
 * past their first check. Runs on libFuzzer's single thread; everything is
 * freed per input. Built from common/ (always linked) and:
 * FUZZ_SOURCES: appliance/replies/reply_audio.c firmware/replies/reply_cache.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byte_buffer.h"
#include "common/link_protocol.h"
#include "common/reply_clip.h"
#include "replies/reply_audio.h"
#include "replies/reply_cache.h"

#define FUZZ_ERROR_SIZE 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The upload path: refused with a reason, or a valid clip of at most 30 s. */
static void fuzz_transcode(const uint8_t *data, size_t size)
{
    struct byte_buffer clip;
    char error[FUZZ_ERROR_SIZE] = "";
    int duration_ms = 0;
    enum reply_audio_status status;

    byte_buffer_init(&clip, REPLY_CLIP_MAX_BYTES);
    status = reply_audio_transcode(data, size, &clip, &duration_ms, error, sizeof(error));
    if (status == REPLY_AUDIO_OK) {
        int packets = reply_clip_validate(byte_buffer_data(&clip), byte_buffer_length(&clip));
        FUZZ_CHECK(packets > 0 && duration_ms == packets * REPLY_CLIP_PACKET_MS);
        FUZZ_CHECK(duration_ms <= REPLY_CLIP_MAX_MS);
    } else {
        size_t length = strnlen(error, sizeof(error));
        FUZZ_CHECK(length > 0 && length < sizeof(error));
    }
    byte_buffer_free(&clip);
}

/* The input as a clip: validate and walk must agree. */
static void fuzz_clip(const uint8_t *data, size_t size)
{
    const uint8_t *packet;
    size_t offset = 0, packet_size;
    int count = 0, step, valid = reply_clip_validate(data, size);

    while ((step = reply_clip_next(data, size, &offset, &packet, &packet_size)) == 1) {
        FUZZ_CHECK(packet >= data && packet + packet_size <= data + size);
        count++;
    }
    if (valid > 0)
        FUZZ_CHECK(step == 0 && count == valid);
}

/* The input in chunks of (first byte + 1) bytes through the doorbell's cache. */
static void fuzz_cache(const uint8_t *data, size_t size)
{
    struct reply_cache *cache = reply_cache_create(NULL);
    size_t chunk_size, offset = 0;
    char error[FUZZ_ERROR_SIZE];
    int rc = 0;

    if (cache == NULL || size < 2) {
        reply_cache_destroy(cache);
        return;
    }
    chunk_size = (size_t)data[0] + 1;
    data++;
    size--;
    while (offset < size && rc == 0) {
        struct link_quick_reply_data chunk = {
            .reply_id = 7,
            .version = 1,
            .offset = (uint32_t)offset,
            .total = (uint32_t)size,
            .chunk = data + offset,
            .chunk_size = size - offset < chunk_size ? size - offset : chunk_size,
        };
        rc = reply_cache_take_chunk(cache, &chunk, error, sizeof(error));
        offset += chunk.chunk_size;
    }
    if (rc == 1) {
        uint8_t *clip = NULL;
        size_t clip_size = 0;
        FUZZ_CHECK(reply_clip_validate(data, size) > 0);
        FUZZ_CHECK(reply_cache_get(cache, 7, 1, &clip, &clip_size) == 0);
        FUZZ_CHECK(clip_size == size && memcmp(clip, data, size) == 0);
        free(clip);
    } else if (size <= LINK_QUICK_REPLY_MAX_TOTAL) {
        FUZZ_CHECK(reply_clip_validate(data, size) <= 0);
    }
    reply_cache_destroy(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t riff[12] = {'R',  'I',  'F', 'F', 0xff, 0xff,
                                     0xff, 0x7f, 'W', 'A', 'V',  'E'};
    uint8_t *input;

    if (size == 0 || size > 64 * 1024)
        return 0;
    input = malloc(size + sizeof(riff));
    if (input == NULL)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_transcode(data + 1, size - 1);
        break;
    case 1:
        memcpy(input, riff, sizeof(riff));
        memcpy(input + sizeof(riff), data + 1, size - 1);
        fuzz_transcode(input, sizeof(riff) + size - 1);
        break;
    default:
        memcpy(input, "OggS", 4);
        memcpy(input + 4, data + 1, size - 1);
        fuzz_transcode(input, 4 + size - 1);
        break;
    }
    free(input);
    fuzz_clip(data, size);
    fuzz_cache(data, size);
    return 0;
}
