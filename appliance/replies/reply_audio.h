/*
 * reply_audio.h - turning an uploaded sound file into a quick reply: a
 * strict check of what it is (RIFF/WAVE through libsndfile, Ogg Opus
 * through libopusfile, nothing else), its size (at most 1 MB) and length
 * (at most 30 s), then decoding, down-mixing to mono, resampling to 48 kHz
 * (speexdsp) and encoding again with libopus into the clip form of
 * common/reply_clip.h. Whatever was uploaded is never stored or sent as is.
 *
 * Pure apart from allocation: any thread (civetweb workers for uploads,
 * the main thread for the stock replies at start). The caller owns the
 * output buffer.
 */
#ifndef DOORSTEP_REPLY_AUDIO_H
#define DOORSTEP_REPLY_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "common/byte_buffer.h"

#define REPLY_AUDIO_MAX_UPLOAD   (1024u * 1024u) /* bytes of the uploaded file */
#define REPLY_AUDIO_BITRATE      24000           /* speech; 30 s is ~95 KB */
#define REPLY_AUDIO_MAX_RATE     192000          /* sample rates above are refused */
#define REPLY_AUDIO_MAX_CHANNELS 8

enum reply_audio_status {
    REPLY_AUDIO_OK = 0,
    REPLY_AUDIO_NOT_AUDIO, /* not a WAV or Ogg Opus file, or undecodable (400) */
    REPLY_AUDIO_TOO_LONG,  /* longer than 30 s (400) */
    REPLY_AUDIO_TOO_LARGE, /* more than 1 MB (413) */
    REPLY_AUDIO_EMPTY,     /* no samples (400) */
    REPLY_AUDIO_INTERNAL,  /* out of memory, encoder failure (500) */
};

/*
 * Decode the file in [data, data + size) and encode it as a clip into out
 * (reset first; the caller made it with a cap of at least
 * REPLY_CLIP_MAX_BYTES and frees it). On success *duration_ms is the clip's
 * length. Otherwise a status and a sentence for the user in error (never
 * quoting the input).
 */
enum reply_audio_status reply_audio_transcode(const uint8_t *data, size_t size,
                                              struct byte_buffer *out, int *duration_ms,
                                              char *error, size_t error_size);

/* Encode mono 48 kHz samples as a clip into out (reset first). Same statuses. */
enum reply_audio_status reply_audio_encode(const int16_t *samples, size_t count,
                                           struct byte_buffer *out, int *duration_ms, char *error,
                                           size_t error_size);

#endif
