/*
 * talk_floor.h - talk-back to the doorbells: per doorbell, the open talk
 * sockets (members), who holds the floor (one talker at a time, an admin
 * may take it over), the state pushed to every member, the talker's
 * packets checked and (PCM encoded to Opus) put on the doorbell's talk
 * queue (talk_queue.h), the audit of each talk session, and the counters.
 *
 * Threads: every call but talk_hub_check_links and the create/destroy pair
 * runs on a talk socket's connection thread, or (talk_revoke) on the
 * authority thread. Each doorbell's channel has two locks, in this order:
 * channel->members_lock guards the member list and serialises every state
 * write to the members' sockets (so a slow browser only holds up floor
 * changes of its own doorbell, never the link); channel->lock guards the
 * floor, the talker's sequence and the counters, and is never held while
 * writing to a socket. hub->lock guards the channel table. The hub's lock
 * order: hub->lock -> members_lock -> lock -> queue->lock; the registry's
 * locks (device_registry.h) are taken with none of these held, except by
 * the queue's sender thread, which holds none of them.
 */
#ifndef DOORSTEP_TALK_FLOOR_H
#define DOORSTEP_TALK_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TALK_USERNAME_MAX 65

struct device_registry;
struct talk_hub;
struct talk_member;

/* Write one text message to a member's socket; >0 when written. Called
 * under the channel's members_lock, from any thread. */
typedef int (*talk_send_text)(void *connection, const char *text, size_t size);

/* Who opened a talk socket (copied by talk_join). */
struct talk_identity {
    int64_t user_id;
    const char *username;
    bool admin;
    const char *remote_address;
};

enum talk_start_result {
    TALK_START_OK = 0,
    TALK_START_BUSY = 1,    /* someone else talks (and no admin takeover) */
    TALK_START_OFFLINE = 2, /* the doorbell's link is down */
    TALK_START_INVALID = 3, /* unknown codec, or the socket is closing */
    TALK_START_ERROR = 4,   /* out of memory (the Opus encoder) */
};

/* A doorbell's talk figures, for GET /api/v1/devices/{id}. */
struct talk_stats {
    int64_t talker_id; /* 0: nobody talks */
    char talker[TALK_USERNAME_MAX];
    unsigned members;
    uint64_t sessions;
    uint64_t packets_in;      /* binary packets received on its talk sockets */
    uint64_t dropped_invalid; /* malformed, wrong codec, out of order, duplicate, not the talker */
    uint64_t forwarded;       /* written to the link */
    uint64_t dropped_queue_full;
    uint64_t dropped_offline;
};

/* Create the table; NULL if out of memory. registry must outlive it. */
struct talk_hub *talk_hub_create(struct device_registry *registry);

/* Stop every queue and free (after the HTTP server stopped). NULL is fine. */
void talk_hub_destroy(struct talk_hub *hub);

/* A talk socket opened on device_id: add it as a member and send it the
 * state. NULL if out of memory or the table is full (the caller closes). */
struct talk_member *talk_join(struct talk_hub *hub, const char *device_id,
                              const struct talk_identity *who, talk_send_text send,
                              void *connection);

/* The socket is closing: give the floor back (audited), leave, free the
 * member. After it returns nothing writes to the connection. NULL is fine. */
void talk_leave(struct talk_member *member);

/* {"type":"start"}: take the floor for codec (TALK_CODEC_*), or with
 * takeover (admins only) from whoever holds it. The state goes to every
 * member; the talker taken over gets error taken_over. */
enum talk_start_result talk_start(struct talk_member *member, int codec, bool takeover);

/* {"type":"stop"}: give the floor back if the member holds it (audited). */
void talk_stop(struct talk_member *member);

/* The member's authority is gone (authority thread): give the floor back
 * and ignore its packets from now on. Does not close the socket. */
void talk_revoke(struct talk_member *member);

/* Send the member an error message {"type":"error","code","message"}. */
void talk_send_error(struct talk_member *member, const char *code, const char *message);

/* One binary packet from the member: parsed, checked (talker, codec,
 * sequence), PCM encoded, queued to the link. A dropped packet is counted
 * and logged with its reason. Never blocks on the link. */
void talk_submit(struct talk_member *member, const uint8_t *data, size_t size);

/* Housekeeping: push the state to the members of doorbells whose link went
 * up or down since the last call. */
void talk_hub_check_links(struct talk_hub *hub);

/* Fill *out for device_id; all zero when it never had a talk socket. */
void talk_hub_get_stats(struct talk_hub *hub, const char *device_id, struct talk_stats *out);

#endif
