/*
 * link_client_internal.h - the link client's state, shared by its two files:
 * link_client.c (the link thread: connection, handshake, writing, reading)
 * and link_client_queue.c (the send queue other threads fill). Not for use
 * outside firmware/link/.
 *
 * Locking: see struct link_client below; the fields under "Shared" are
 * guarded by lock, those under "Link thread only" belong to the link
 * thread.
 */
#ifndef DOORSTEP_LINK_CLIENT_INTERNAL_H
#define DOORSTEP_LINK_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "link/link_client.h"

#define LINK_CLIENT_DEFAULT_QUEUE_LIMIT (8u * 1024u * 1024u)
#define LINK_CLIENT_BACKOFF_MIN_US      (500 * LWS_US_PER_MS)
#define LINK_CLIENT_BACKOFF_MAX_US      (30 * LWS_USEC_PER_SEC)
#define LINK_CLIENT_AUTH_FAILED_MIN_US  (10 * LWS_USEC_PER_SEC)
#define LINK_CLIENT_RECEIVE_MAX         (LINK_MAX_JSON_SIZE + LINK_HEADER_SIZE)

enum link_client_state {
    LINK_CLIENT_DISCONNECTED,
    LINK_CLIENT_HANDSHAKE, /* TLS + WebSocket up, HELLO/AUTH exchanged */
    LINK_CLIENT_CONNECTED, /* WELCOME received: streaming */
};

/* What a queued message is: video of which stream, or something else. */
enum link_client_video {
    LINK_CLIENT_NOT_VIDEO,
    LINK_CLIENT_MAIN_VIDEO,
    LINK_CLIENT_SUB_VIDEO,
};

/* One queued message with LWS_PRE bytes of headroom in front of data. */
struct link_client_message {
    struct link_client_message *next;
    size_t size;                  /* message bytes after the headroom */
    enum link_client_video video; /* LINK_CLIENT_NOT_VIDEO for everything else */
    uint8_t buffer[];             /* LWS_PRE + size */
};

struct link_client {
    struct link_client_config config;
    char hub_url[512];
    char device_id[LINK_DEVICE_ID_MAX];
    char firmware[LINK_TEXT_MAX];
    char hub_key_sha256[65];

    /* Link thread only. */
    struct lws_context *context;
    struct lws *wsi;
    lws_sorted_usec_list_t reconnect_timer;
    int backoff_attempt;
    lws_usec_t backoff_floor_us;
    struct link_client_message *handshake; /* HELLO or AUTH waiting to go out */
    uint8_t receive[LINK_CLIENT_RECEIVE_MAX];
    size_t receive_used;
    int receive_overflow;
    pthread_t thread;

    /* Shared; guarded by lock. */
    pthread_mutex_t lock;
    int target_changed; /* link_client_set_target() gave the target below */
    char target_url[512];
    char target_device_id[LINK_DEVICE_ID_MAX];
    char target_hub_key_sha256[65];
    enum link_client_state state;
    struct link_client_message *queue_head, *queue_tail;
    size_t queue_bytes;
    int waiting_for_keyframe;     /* main stream: dropped a frame, send from an IDR */
    int sub_waiting_for_keyframe; /* the same for the sub-stream */
    int preview_interval_ms;      /* from WELCOME's settings; 0: the hub takes no previews */
    int detect_fps;               /* from WELCOME's settings; 0: the hub takes no detect frames */
    struct link_client_stats stats;

    atomic_int stopping;
};

/* link_client_queue.c; each is documented above its definition. */
struct link_client_message *link_client_message_json(uint8_t type, uint32_t sequence,
                                                     const cJSON *json);
void link_client_drop_video_locked(struct link_client *client);
void link_client_wake(struct link_client *client);

#endif
