/*
 * reply_clip.h - the stored form of a quick reply, shared by the hub (which
 * makes, keeps and sends it) and the doorbell (which caches and plays it):
 * a run of mono 48 kHz Opus packets of 20 ms each, every packet preceded by
 * its size as a big-endian u16:
 *
 *   [size (2 bytes)][packet (size bytes)] [size][packet] ...
 *
 * The same bytes are the hub's file, the link's QUICK_REPLY_DATA chunks
 * reassembled, and the doorbell's cache file. Pure functions; any thread;
 * nothing owned.
 */
#ifndef DOORSTEP_REPLY_CLIP_H
#define DOORSTEP_REPLY_CLIP_H

#include <stddef.h>
#include <stdint.h>

#define REPLY_CLIP_MAX_MS          30000
#define REPLY_CLIP_PACKET_MS       20
#define REPLY_CLIP_PACKET_SAMPLES  960 /* 20 ms at 48 kHz */
#define REPLY_CLIP_MAX_PACKETS     (REPLY_CLIP_MAX_MS / REPLY_CLIP_PACKET_MS)
#define REPLY_CLIP_MAX_PACKET_SIZE 1275
#define REPLY_CLIP_MAX_BYTES       (256u * 1024u) /* 30 s at 24 kbit/s is ~95 KB */

/*
 * Check that [data, data + size) is a whole clip: 1..REPLY_CLIP_MAX_PACKETS
 * packets of 1..1275 bytes each, nothing left over, at most
 * REPLY_CLIP_MAX_BYTES. Returns the packet count, or -1.
 */
int reply_clip_validate(const uint8_t *data, size_t size);

/*
 * Step through a clip: from *offset, point *packet at the next packet and
 * its size into *packet_size, and advance *offset. Returns 1 for a packet,
 * 0 at the end, -1 if what is there is not a packet.
 */
int reply_clip_next(const uint8_t *data, size_t size, size_t *offset, const uint8_t **packet,
                    size_t *packet_size);

#endif
