/*
 * reply_sender.h - quick replies on their way to a doorbell: the clip in
 * QUICK_REPLY_DATA chunks (once per link connection and version), then the
 * command that plays it (quick_reply) or arms it for the next ring
 * (auto_reply, for the hub's current mode), and `answered` when someone
 * opens live view, so the doorbell's pending auto-reply is called off.
 *
 * Threads: civetweb workers (routes, live view, the link thread of the
 * doorbell at connect and on events). Locks: reply_sender_lock (file
 * static) guards the table of what each connection already holds, and is
 * held while one clip and its command are written, so the chunks of two
 * clips never interleave on one link. It is taken without any registry
 * lock held and is the outermost lock of its callers. Ownership: nothing
 * is handed out.
 */
#ifndef DOORSTEP_REPLY_SENDER_H
#define DOORSTEP_REPLY_SENDER_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct hub;

/* Play reply_id on device_id now. 0 when sent; -1 with a reason when the
 * doorbell is offline, the reply is unknown or its file is damaged. */
int reply_sender_play(struct hub *hub, sqlite3 *db, const char *device_id, int64_t reply_id,
                      char *error, size_t error_size);

/* Tell device_id its auto-reply for the hub's current mode (none: reply 0),
 * sending the clip first when it has not got it. 0 sent, -1 offline or error. */
int reply_sender_sync_auto(struct hub *hub, sqlite3 *db, const char *device_id);

/* The same for every connected doorbell (the mode or a reply changed). */
void reply_sender_sync_all(struct hub *hub, sqlite3 *db);

/* Link thread: the doorbell (re)connected; it may hold nothing we sent. */
void reply_sender_on_connected(struct hub *hub, sqlite3 *db, const char *device_id);

/* device_id plays reply_id from wall time play_us on (told to, or by its
 * own auto-reply): hand the clip to its recording, which mixes it in
 * (recording/heard_audio.h). A failure costs only that (logged). */
void reply_sender_heard(struct hub *hub, const char *device_id, int64_t reply_id, uint64_t play_us);

/* Someone opened live view of device_id: no auto-reply to its ring. */
void reply_sender_answered(struct hub *hub, const char *device_id);

/* Link thread: a ring of device_id; if someone already watches it live,
 * the ring is answered at once. */
void reply_sender_on_ring(struct hub *hub, const char *device_id);

#endif
