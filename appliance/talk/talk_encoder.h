/*
 * talk_encoder.h - the hub's Opus encoder of a talker's 16-bit PCM (for
 * browsers without WebCodecs): 48 kHz mono, 20 ms frames, the VOIP
 * application of libopus.
 *
 * Threads: one encoder belongs to one talk socket and is used only on that
 * socket's connection thread; no lock. The caller owns it (talk_encoder_free).
 */
#ifndef DOORSTEP_TALK_ENCODER_H
#define DOORSTEP_TALK_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#define TALK_ENCODER_FRAME_SAMPLES 960 /* 20 ms at 48 kHz */
#define TALK_ENCODER_MAX_PACKET    1275

struct talk_encoder;

/* Called once per encoded 20 ms frame with its capture time. */
typedef void (*talk_encoder_output)(const uint8_t *packet, size_t size, uint64_t capture_us,
                                    void *context);

/* A new encoder; NULL if libopus refuses or memory ran out (logged). */
struct talk_encoder *talk_encoder_create(void);

/* Free it; NULL is fine. Samples still buffered are dropped. */
void talk_encoder_free(struct talk_encoder *encoder);

/*
 * Add count samples (s16le bytes, mono, 48 kHz) captured from capture_us
 * on; every full 20 ms frame is encoded and handed to output. A gap in
 * capture time (more than 20 ms off the expected one) drops what was
 * buffered and starts afresh. Returns how many frames failed to encode.
 */
int talk_encoder_push(struct talk_encoder *encoder, const uint8_t *pcm, unsigned count,
                      uint64_t capture_us, talk_encoder_output output, void *context);

#endif
