/*
 * recorder_mix.h - the recorded audio keeps both sides of a conversation:
 * while the doorbell's speaker plays talk-back (recording/heard_audio.h),
 * each Opus packet of the doorbell's microphone is decoded, the speaker's
 * sound of the same wall time added (soft-clipped), and re-encoded with the
 * doorbell stream's settings; that packet is recorded instead. Outside talk
 * (and RECORDER_MIX_TAIL_US after it) packets pass through untouched: the
 * cost per packet is one atomic load and a copy of the packet, no decoding.
 *
 * Threads: the recorder thread only (the struct is part of the recorder);
 * no lock. Ownership: the decoder and encoder are made when mixing first
 * starts and freed by recorder_mix_free.
 */
#ifndef DOORSTEP_RECORDER_MIX_H
#define DOORSTEP_RECORDER_MIX_H

#include <opus/opus.h>
#include <stddef.h>
#include <stdint.h>

#include "recording/heard_audio.h"

#define RECORDER_MIX_TAIL_US      2000000 /* keep mixing this long after the last sound */
#define RECORDER_MIX_MAX_SAMPLES  5760    /* 120 ms: the longest Opus packet */
#define RECORDER_MIX_MAX_CHANNELS 2
#define RECORDER_MIX_MAX_PACKET   1500

struct recorder_mix {
    OpusDecoder *decoder;    /* of the doorbell's packets, while channels holds */
    OpusEncoder *encoder;    /* of the mixed packets */
    int channels;            /* of the decoder and encoder; 0: none made yet */
    int active;              /* the last packet was mixed */
    int32_t bits_per_second; /* running estimate of the doorbell's bitrate */
    uint64_t mixed_packets;
    float soft_clip[RECORDER_MIX_MAX_CHANNELS]; /* opus_pcm_soft_clip's memory */
    /* The last packet passed through, to prime the codecs when mixing starts. */
    uint8_t previous[RECORDER_MIX_MAX_PACKET];
    size_t previous_size;
    int previous_samples;
    uint64_t previous_end_us;
    uint8_t output[RECORDER_MIX_MAX_PACKET];
    float pcm[RECORDER_MIX_MAX_SAMPLES * RECORDER_MIX_MAX_CHANNELS];
    int16_t heard[RECORDER_MIX_MAX_SAMPLES];
};

/* Start with nothing made (the struct zeroed by calloc is also fine). */
void recorder_mix_init(struct recorder_mix *mix);

/* Free the decoder and encoder. */
void recorder_mix_free(struct recorder_mix *mix);

/*
 * The packet to record for the doorbell's Opus packet (size bytes, samples
 * 48 kHz samples per channel, channels 1 or 2, captured at capture_us):
 * packet itself when nothing was played at the doorbell around that time
 * (or mixing failed: logged), else mix->output holding the mixed packet.
 * *out_size is set to the returned packet's size. The result is valid until
 * the next call.
 */
const uint8_t *recorder_mix_packet(struct recorder_mix *mix, struct heard_audio *heard,
                                   int channels, const uint8_t *packet, size_t size, int samples,
                                   uint64_t capture_us, size_t *out_size);

#endif
