/*
 * live_viewer.h - one browser watching a doorbell live: a bounded queue of
 * shared fMP4 fragments and a sender thread that writes them to the viewer's
 * WebSocket.
 *
 * Threads: the doorbell's link thread pushes (under the stream's lock, never
 * blocking: it only appends a pointer); the viewer's own sender thread pops
 * and writes, and may block on a slow network without holding anyone up.
 * viewer->lock guards the queue and counters; it is the innermost lock of
 * the hub (devices/device_registry.h), taken inside the stream's lock.
 *
 * Direct writes: when live_viewer_set_socket() gave the viewer its socket,
 * a push that finds the queue empty and the sender idle writes the fragment
 * itself, on the link thread, if the socket's send buffer has room for all
 * of it (so the write cannot block): no wake-up of the sender thread, which
 * costs more than the write on a virtual machine. Otherwise the fragment is
 * queued as below, and the sender thread writes it.
 *
 * Slow viewers: when the oldest queued fragment has waited longer than
 * LIVE_VIEWER_MAX_DELAY_MS, or the queue holds more than
 * LIVE_VIEWER_MAX_BYTES, the queue is emptied and the viewer waits for the
 * next keyframe: it skips ahead instead of slowing anyone else down.
 */
#ifndef DOORSTEP_LIVE_VIEWER_H
#define DOORSTEP_LIVE_VIEWER_H

#include <stddef.h>
#include <stdint.h>

#include "live/live_stream.h"

#define LIVE_VIEWER_MAX_DELAY_MS 1000
#define LIVE_VIEWER_MAX_BYTES    (4u * 1024u * 1024u)
#define LIVE_VIEWER_QUEUE_SLOTS  1024

struct mg_connection;

/* Writes one WebSocket message; returns <= 0 when the viewer is gone. The
 * live server passes civetweb's writer; tests may pass their own. */
typedef int (*live_viewer_write)(void *connection, int opcode, const void *data, size_t size);

/* Create a viewer and start its sender thread. NULL on failure. */
struct live_viewer *live_viewer_start(void *connection, live_viewer_write write,
                                      const char *device_id);

/* Let pushes write directly to socket (the viewer's connection's, see
 * "Direct writes" above; -1 turns them off). Call before the viewer is
 * attached to a stream. */
void live_viewer_set_socket(struct live_viewer *viewer, int socket);

/* Stream side (under the stream lock): queue a fragment, applying the
 * slow-viewer policy. Takes its own reference. */
void live_viewer_push(struct live_viewer *viewer, struct live_fragment *fragment, int64_t now_ms);

/* Skips counted since the last call (the stream sums them). Under the stream lock. */
void live_viewer_take_skips(struct live_viewer *viewer, uint64_t *skipped_frames, uint64_t *skips);

/* Ask the sender to stop; it sends a close frame if it can. Any thread. */
void live_viewer_request_close(struct live_viewer *viewer);

/* The viewer lost its authority (authority.h): the sender stops and ends
 * with a close frame, code AUTHORITY_CLOSE_CODE. Any thread; never blocks
 * on the network. */
void live_viewer_revoke(struct live_viewer *viewer);

/* True once the sender gave up (write failed or close requested). */
int live_viewer_closed(struct live_viewer *viewer);

/* Stop the sender thread, drop queued fragments, free. Call after detaching. */
void live_viewer_stop(struct live_viewer *viewer);

#endif
