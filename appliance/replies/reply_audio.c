/*
 * reply_audio.c - upload -> quick reply clip (see reply_audio.h): WAV via
 * libsndfile's virtual I/O over the memory buffer, Ogg Opus via
 * op_open_memory, speexdsp's resampler to 48 kHz, libopus to encode.
 *
 * Whoever calls it owns everything made here only for the call: the decoded
 * samples (at most 30 s of mono 48 kHz, 2.9 MB), the decoders, the resampler
 * and the encoder are freed before it returns.
 */
#define LOG_MODULE "replies"

#include "replies/reply_audio.h"

#include <opus/opus.h>
#include <opus/opusfile.h>
#include <sndfile.h>
#include <speex/speex_resampler.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"
#include "common/reply_clip.h"

#define REPLY_AUDIO_MAX_SAMPLES (REPLY_CLIP_MAX_MS / 1000 * 48000) /* mono, 48 kHz */
#define REPLY_AUDIO_READ_FRAMES 4096

/* libsndfile's view of the upload: a read-only memory file. */
struct reply_audio_memory {
    const uint8_t *data;
    sf_count_t size, position;
};

/* libsndfile virtual I/O: the file's length. */
static sf_count_t reply_audio_memory_length(void *user)
{
    return ((struct reply_audio_memory *)user)->size;
}

/* libsndfile virtual I/O: move the position, clamped to the data. */
static sf_count_t reply_audio_memory_seek(sf_count_t offset, int whence, void *user)
{
    struct reply_audio_memory *memory = user;
    sf_count_t base = whence == SEEK_CUR ? memory->position : whence == SEEK_END ? memory->size : 0;
    sf_count_t target = base + offset;

    if (target < 0 || target > memory->size)
        return -1;
    memory->position = target;
    return target;
}

/* libsndfile virtual I/O: copy up to count bytes from the position. */
static sf_count_t reply_audio_memory_read(void *destination, sf_count_t count, void *user)
{
    struct reply_audio_memory *memory = user;
    sf_count_t left = memory->size - memory->position;

    if (count > left)
        count = left;
    if (count <= 0)
        return 0;
    memcpy(destination, memory->data + memory->position, (size_t)count);
    memory->position += count;
    return count;
}

/* libsndfile virtual I/O: the upload is read-only. */
static sf_count_t reply_audio_memory_write(const void *source, sf_count_t count, void *user)
{
    (void)source;
    (void)count;
    (void)user;
    return 0;
}

/* libsndfile virtual I/O: where the reader is. */
static sf_count_t reply_audio_memory_tell(void *user)
{
    return ((struct reply_audio_memory *)user)->position;
}

/* Resample mono input (rate) to 48 kHz into out (made here, caller frees).
 * Returns the output count, or -1. */
static long reply_audio_resample(const int16_t *input, size_t count, int rate, int16_t **out)
{
    SpeexResamplerState *resampler = NULL;
    size_t capacity = (size_t)((double)count * 48000.0 / rate) + 64;
    spx_uint32_t in_length = (spx_uint32_t)count, out_length = (spx_uint32_t)capacity;
    long result = -1;
    int err = 0;

    *out = malloc(capacity * sizeof(**out));
    if (*out == NULL)
        goto out;
    if (rate == 48000) {
        memcpy(*out, input, count * sizeof(*input));
        result = (long)count;
        goto out;
    }
    resampler = speex_resampler_init(1, (spx_uint32_t)rate, 48000, 5, &err);
    if (resampler == NULL || err != RESAMPLER_ERR_SUCCESS)
        goto out;
    speex_resampler_skip_zeros(resampler);
    if (speex_resampler_process_int(resampler, 0, input, &in_length, *out, &out_length) !=
        RESAMPLER_ERR_SUCCESS)
        goto out;
    result = (long)out_length;
out:
    if (resampler != NULL)
        speex_resampler_destroy(resampler);
    if (result < 0) {
        free(*out);
        *out = NULL;
    }
    return result;
}

/* Decode a RIFF/WAVE file to mono at its own rate: *samples (caller frees),
 * *count, *rate. A status and error sentence otherwise. */
static enum reply_audio_status reply_audio_decode_wav(const uint8_t *data, size_t size,
                                                      int16_t **samples, size_t *count, int *rate,
                                                      char *error, size_t error_size)
{
    SF_VIRTUAL_IO io = {reply_audio_memory_length, reply_audio_memory_seek, reply_audio_memory_read,
                        reply_audio_memory_write, reply_audio_memory_tell};
    struct reply_audio_memory memory = {data, (sf_count_t)size, 0};
    enum reply_audio_status status = REPLY_AUDIO_NOT_AUDIO;
    SF_INFO info;
    SNDFILE *file;
    int16_t *frames = NULL, *mono = NULL;
    size_t total = 0;

    memset(&info, 0, sizeof(info));
    file = sf_open_virtual(&io, SFM_READ, &info, &memory);
    if (file == NULL) {
        error_text_set(error, error_size, "not a WAV file that can be read");
        goto out;
    }
    if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV || info.channels < 1 ||
        info.channels > REPLY_AUDIO_MAX_CHANNELS || info.samplerate < 8000 ||
        info.samplerate > REPLY_AUDIO_MAX_RATE) {
        error_text_set(error, error_size, "WAV must be 1-8 channels at 8-192 kHz");
        goto out;
    }
    if (info.frames > (sf_count_t)info.samplerate * (REPLY_CLIP_MAX_MS / 1000)) {
        status = REPLY_AUDIO_TOO_LONG;
        error_text_set(error, error_size, "the recording is longer than 30 seconds");
        goto out;
    }
    frames = malloc(REPLY_AUDIO_READ_FRAMES * (size_t)info.channels * sizeof(*frames));
    mono = malloc((size_t)info.samplerate * (REPLY_CLIP_MAX_MS / 1000) * sizeof(*mono));
    if (frames == NULL || mono == NULL) {
        status = REPLY_AUDIO_INTERNAL;
        error_text_set(error, error_size, "out of memory");
        goto out;
    }
    for (;;) {
        sf_count_t got = sf_readf_short(file, frames, REPLY_AUDIO_READ_FRAMES);
        if (got <= 0)
            break;
        if (total + (size_t)got > (size_t)info.samplerate * (REPLY_CLIP_MAX_MS / 1000)) {
            status = REPLY_AUDIO_TOO_LONG;
            error_text_set(error, error_size, "the recording is longer than 30 seconds");
            goto out;
        }
        for (sf_count_t i = 0; i < got; i++) {
            long sum = 0;
            for (int c = 0; c < info.channels; c++)
                sum += frames[i * info.channels + c];
            mono[total++] = (int16_t)(sum / info.channels);
        }
    }
    *samples = mono;
    mono = NULL;
    *count = total;
    *rate = info.samplerate;
    status = REPLY_AUDIO_OK;
out:
    if (file != NULL)
        sf_close(file);
    free(frames);
    free(mono);
    return status;
}

/* Decode an Ogg Opus file to mono 48 kHz: *samples (caller frees), *count.
 * A status and error sentence otherwise. */
static enum reply_audio_status reply_audio_decode_ogg(const uint8_t *data, size_t size,
                                                      int16_t **samples, size_t *count, char *error,
                                                      size_t error_size)
{
    enum reply_audio_status status = REPLY_AUDIO_NOT_AUDIO;
    int16_t stereo[REPLY_AUDIO_READ_FRAMES * 2], *mono = NULL;
    size_t total = 0;
    OggOpusFile *file = op_open_memory(data, size, NULL);

    if (file == NULL) {
        error_text_set(error, error_size, "not an Ogg Opus file that can be read");
        goto out;
    }
    mono = malloc(REPLY_AUDIO_MAX_SAMPLES * sizeof(*mono));
    if (mono == NULL) {
        status = REPLY_AUDIO_INTERNAL;
        error_text_set(error, error_size, "out of memory");
        goto out;
    }
    for (;;) {
        int got = op_read_stereo(file, stereo, (int)(sizeof(stereo) / sizeof(stereo[0])));
        if (got == 0)
            break;
        if (got < 0) {
            error_text_set(error, error_size, "the Ogg Opus stream is damaged");
            goto out;
        }
        if (total + (size_t)got > REPLY_AUDIO_MAX_SAMPLES) {
            status = REPLY_AUDIO_TOO_LONG;
            error_text_set(error, error_size, "the recording is longer than 30 seconds");
            goto out;
        }
        for (int i = 0; i < got; i++)
            mono[total++] = (int16_t)((stereo[2 * i] + stereo[2 * i + 1]) / 2);
    }
    *samples = mono;
    mono = NULL;
    *count = total;
    status = REPLY_AUDIO_OK;
out:
    if (file != NULL)
        op_free(file);
    free(mono);
    return status;
}

/* See reply_audio.h. */
enum reply_audio_status reply_audio_encode(const int16_t *samples, size_t count,
                                           struct byte_buffer *out, int *duration_ms, char *error,
                                           size_t error_size)
{
    enum reply_audio_status status = REPLY_AUDIO_INTERNAL;
    int16_t frame[REPLY_CLIP_PACKET_SAMPLES];
    uint8_t packet[REPLY_CLIP_MAX_PACKET_SIZE];
    OpusEncoder *encoder = NULL;
    int err = OPUS_OK, packets = 0;

    byte_buffer_reset(out);
    if (count == 0) {
        status = REPLY_AUDIO_EMPTY;
        error_text_set(error, error_size, "the recording holds no sound");
        goto out;
    }
    if (count > REPLY_AUDIO_MAX_SAMPLES) {
        status = REPLY_AUDIO_TOO_LONG;
        error_text_set(error, error_size, "the recording is longer than 30 seconds");
        goto out;
    }
    encoder = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    if (encoder == NULL || err != OPUS_OK) {
        error_text_set(error, error_size, "opus_encoder_create: %s", opus_strerror(err));
        goto out;
    }
    opus_encoder_ctl(encoder, OPUS_SET_BITRATE(REPLY_AUDIO_BITRATE));
    for (size_t at = 0; at < count; at += REPLY_CLIP_PACKET_SAMPLES) {
        size_t take =
            count - at < REPLY_CLIP_PACKET_SAMPLES ? count - at : REPLY_CLIP_PACKET_SAMPLES;
        uint8_t size_bytes[2];
        memcpy(frame, samples + at, take * sizeof(*frame));
        memset(frame + take, 0, (REPLY_CLIP_PACKET_SAMPLES - take) * sizeof(*frame));
        opus_int32 size = opus_encode(encoder, frame, REPLY_CLIP_PACKET_SAMPLES, packet,
                                      (opus_int32)sizeof(packet));
        if (size <= 0) {
            error_text_set(error, error_size, "opus_encode failed");
            goto out;
        }
        size_bytes[0] = (uint8_t)(size >> 8);
        size_bytes[1] = (uint8_t)size;
        if (byte_buffer_add(out, size_bytes, 2) != BYTE_BUFFER_OK ||
            byte_buffer_add(out, packet, (size_t)size) != BYTE_BUFFER_OK) {
            error_text_set(error, error_size, "the encoded reply is too large");
            goto out;
        }
        packets++;
    }
    *duration_ms = packets * REPLY_CLIP_PACKET_MS;
    status = REPLY_AUDIO_OK;
out:
    if (encoder != NULL)
        opus_encoder_destroy(encoder);
    return status;
}

/* See reply_audio.h. */
enum reply_audio_status reply_audio_transcode(const uint8_t *data, size_t size,
                                              struct byte_buffer *out, int *duration_ms,
                                              char *error, size_t error_size)
{
    enum reply_audio_status status;
    int16_t *decoded = NULL, *resampled = NULL;
    size_t count = 0;
    int rate = 48000;
    long resampled_count;

    if (size > REPLY_AUDIO_MAX_UPLOAD) {
        error_text_set(error, error_size, "the file is larger than 1 MB");
        return REPLY_AUDIO_TOO_LARGE;
    }
    if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WAVE", 4) == 0) {
        status = reply_audio_decode_wav(data, size, &decoded, &count, &rate, error, error_size);
    } else if (size >= 4 && memcmp(data, "OggS", 4) == 0) {
        status = reply_audio_decode_ogg(data, size, &decoded, &count, error, error_size);
    } else {
        error_text_set(error, error_size, "not a WAV or Ogg Opus file");
        return REPLY_AUDIO_NOT_AUDIO;
    }
    if (status != REPLY_AUDIO_OK)
        goto out;
    if (count == 0) {
        status = REPLY_AUDIO_EMPTY;
        error_text_set(error, error_size, "the recording holds no sound");
        goto out;
    }
    resampled_count = reply_audio_resample(decoded, count, rate, &resampled);
    if (resampled_count < 0) {
        status = REPLY_AUDIO_INTERNAL;
        error_text_set(error, error_size, "resampling failed");
        goto out;
    }
    status =
        reply_audio_encode(resampled, (size_t)resampled_count, out, duration_ms, error, error_size);
out:
    free(decoded);
    free(resampled);
    return status;
}
