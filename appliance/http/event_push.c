/*
 * event_push.c - events to the open web UIs, as they happen: the WebSocket
 * /api/v1/events/live (see event_push.h).
 *
 * Threads: civetweb runs connect/ready/data/close on each client's
 * connection thread; event_push_broadcast() is called by link threads and
 * the housekeeping; one push thread does every write, so a stalled browser
 * can only ever hold up that thread, never a doorbell's link.
 * push->lock guards the client list, the references and the queue; each
 * client->lock its writes and its closing (never taken with push->lock).
 */
#define LOG_MODULE "events"

#include "http/event_push.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authority.h"
#include "accounts/users.h"
#include "civetweb.h"
#include "common/log.h"
#include "common/mutex.h"
#include "core/hub.h"
#include "http/http_gate.h"
#include "storage/database.h"

#define EVENT_PUSH_PATH      "/api/v1/events/live"
#define EVENT_PUSH_QUEUE_MAX 256 /* messages waiting; more are dropped (and logged) */

/* One open UI. Owned by the list; freed once the close handler and the
 * push thread have both let go (references, under push->lock). civetweb may
 * reuse the connection as soon as the close handler returns, so writes and
 * the close take client->lock: after the close, nothing is written. */
struct event_push_client {
    struct event_push_client *next;
    pthread_mutex_t lock; /* guards closed and every write to connection */
    struct mg_connection *connection;
    struct user user;
    char session_token[AUTHORITY_TOKEN_MAX];
    uint64_t authority_handle; /* registered from ready to close */
    int references;            /* the list's, plus one while the push thread writes */
    int closed;
    int revoked; /* a 1008 close was sent: nothing more is written */
};

/* One queued event: its device (for the right to see it) and its JSON text. */
struct event_push_message {
    struct event_push_message *next;
    char device_id[LINK_DEVICE_ID_MAX];
    char *text;
};

struct event_push {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct event_push_client *clients;
    struct event_push_message *head, *tail;
    int queued, stopping;
    pthread_t thread;
};

/* Drop a reference; the last one frees. Lock held. */
static void event_push_client_release(struct event_push_client *client)
{
    if (--client->references == 0) {
        pthread_mutex_destroy(&client->lock);
        free(client);
    }
}

/* civetweb: upgrade request; the gate (Host, Origin, session). 0 accepts. */
static int event_push_on_connect(const struct mg_connection *connection, void *data)
{
    struct hub *hub = data;
    struct event_push_client *client = calloc(1, sizeof(*client));
    struct http_auth auth;

    if (client == NULL)
        return 1;
    if (!http_gate_websocket(hub, connection, &auth)) {
        free(client);
        return 1;
    }
    client->user = auth.user;
    memcpy(client->session_token, auth.session_token, sizeof(client->session_token));
    client->connection = (struct mg_connection *)connection;
    client->references = 1;
    mutex_init_checked(&client->lock);
    mg_set_user_connection_data(connection, client);
    return 0;
}

/* authority.h close callback (authority thread): send a 1008 close frame
 * and write nothing more; civetweb then ends the connection without
 * waiting for the client's answering close (scripts/civetweb-patches/0008). */
static void event_push_revoke(void *context, const char *reason)
{
    struct event_push_client *client = context;
    char payload[2 + sizeof(AUTHORITY_CLOSE_REASON)];

    (void)reason;
    payload[0] = (char)((AUTHORITY_CLOSE_CODE >> 8) & 0xff);
    payload[1] = (char)(AUTHORITY_CLOSE_CODE & 0xff);
    memcpy(payload + 2, AUTHORITY_CLOSE_REASON, sizeof(AUTHORITY_CLOSE_REASON) - 1);
    pthread_mutex_lock(&client->lock);
    if (!client->closed && !client->revoked)
        mg_websocket_write(client->connection, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload,
                           sizeof(payload) - 1);
    client->revoked = 1;
    pthread_mutex_unlock(&client->lock);
}

/* civetweb: open; join the list and the authority registry. */
static void event_push_on_ready(struct mg_connection *connection, void *data)
{
    struct hub *hub = data;
    struct event_push_client *client = mg_get_user_connection_data(connection);
    struct authority_grant grant;

    if (client == NULL || hub->event_push == NULL)
        return;
    grant = (struct authority_grant){.kind = AUTHORITY_EVENT_FEED,
                                     .user_id = client->user.id,
                                     .role = client->user.role,
                                     .session_token = client->session_token};
    client->authority_handle =
        authority_register(hub->authority, &grant, event_push_revoke, client);
    if (client->authority_handle == 0) {
        log_warn("cannot watch the authority of an event feed; closing it");
        event_push_revoke(client, "no registry");
        return;
    }
    pthread_mutex_lock(&hub->event_push->lock);
    client->next = hub->event_push->clients;
    hub->event_push->clients = client;
    pthread_mutex_unlock(&hub->event_push->lock);
}

/* civetweb: the UI sends nothing but control frames; after a revocation,
 * any frame that still arrives (the answering close, a pong) ends the
 * connection. */
static int event_push_on_data(struct mg_connection *connection, int bits, char *data, size_t size,
                              void *callback_data)
{
    struct event_push_client *client = mg_get_user_connection_data(connection);
    int revoked = 0;

    (void)data, (void)size, (void)callback_data;
    if (client != NULL) {
        pthread_mutex_lock(&client->lock);
        revoked = client->revoked;
        pthread_mutex_unlock(&client->lock);
    }
    return !revoked && (bits & 0x0f) != MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE;
}

/* civetweb: gone; leave the list (freed once the push thread lets go). */
static void event_push_on_close(const struct mg_connection *connection, void *data)
{
    struct hub *hub = data;
    struct event_push_client *client = mg_get_user_connection_data(connection);
    struct event_push_client **at;

    if (client == NULL)
        return;
    mg_set_user_connection_data(connection, NULL);
    /* After this the authority thread no longer touches the client. */
    authority_unregister(hub->authority, client->authority_handle);
    /* Wait for a write in progress; none follows. */
    pthread_mutex_lock(&client->lock);
    client->closed = 1;
    pthread_mutex_unlock(&client->lock);
    if (hub->event_push == NULL) {
        event_push_client_release(client);
        return;
    }
    pthread_mutex_lock(&hub->event_push->lock);
    for (at = &hub->event_push->clients; *at != NULL; at = &(*at)->next)
        if (*at == client) {
            *at = client->next;
            break;
        }
    event_push_client_release(client);
    pthread_mutex_unlock(&hub->event_push->lock);
}

/* Push thread: write one message to every client allowed to see its doorbell. */
static void event_push_deliver(struct event_push *push, const struct event_push_message *message)
{
    struct event_push_client *targets[64];
    int count = 0;
    sqlite3 *db = database_thread_connection();

    pthread_mutex_lock(&push->lock);
    for (struct event_push_client *client = push->clients; client != NULL && count < 64;
         client = client->next) {
        client->references++;
        targets[count++] = client;
    }
    pthread_mutex_unlock(&push->lock);
    for (int i = 0; i < count; i++) {
        if (db == NULL || !users_can_see_device(db, &targets[i]->user, message->device_id))
            continue;
        pthread_mutex_lock(&targets[i]->lock);
        if (!targets[i]->closed && !targets[i]->revoked)
            mg_websocket_write(targets[i]->connection, MG_WEBSOCKET_OPCODE_TEXT, message->text,
                               strlen(message->text));
        pthread_mutex_unlock(&targets[i]->lock);
    }
    pthread_mutex_lock(&push->lock);
    for (int i = 0; i < count; i++)
        event_push_client_release(targets[i]);
    pthread_mutex_unlock(&push->lock);
}

static void *event_push_thread(void *data)
{
    struct event_push *push = data;
    pthread_setname_np(pthread_self(), "event-push");
    for (;;) {
        struct event_push_message *message;
        pthread_mutex_lock(&push->lock);
        while (push->head == NULL && !push->stopping)
            pthread_cond_wait(&push->wake, &push->lock);
        if (push->stopping) {
            pthread_mutex_unlock(&push->lock);
            break;
        }
        message = push->head;
        push->head = message->next;
        if (push->head == NULL)
            push->tail = NULL;
        push->queued--;
        pthread_mutex_unlock(&push->lock);
        event_push_deliver(push, message);
        free(message->text);
        free(message);
    }
    return NULL;
}

struct event_push *event_push_start(struct hub *hub)
{
    struct event_push *push = calloc(1, sizeof(*push));
    if (push == NULL)
        return NULL;
    mutex_init_checked(&push->lock);
    pthread_cond_init(&push->wake, NULL);
    if (pthread_create(&push->thread, NULL, event_push_thread, push) != 0) {
        pthread_cond_destroy(&push->wake);
        pthread_mutex_destroy(&push->lock);
        free(push);
        return NULL;
    }
    hub->event_push = push;
    mg_set_websocket_handler(hub->server, EVENT_PUSH_PATH, event_push_on_connect,
                             event_push_on_ready, event_push_on_data, event_push_on_close, hub);
    return push;
}

void event_push_broadcast(struct event_push *push, const struct event_row *event)
{
    struct event_push_message *message;
    cJSON *json, *wrapper;

    if (push == NULL)
        return;
    message = calloc(1, sizeof(*message));
    wrapper = cJSON_CreateObject();
    json = event_store_json(event);
    if (message == NULL || wrapper == NULL || json == NULL)
        goto fail;
    cJSON_AddStringToObject(wrapper, "type", "event");
    cJSON_AddItemToObject(wrapper, "event", json);
    json = NULL;
    message->text = cJSON_PrintUnformatted(wrapper);
    if (message->text == NULL)
        goto fail;
    memcpy(message->device_id, event->device_id, sizeof(message->device_id));
    cJSON_Delete(wrapper);
    pthread_mutex_lock(&push->lock);
    if (push->queued >= EVENT_PUSH_QUEUE_MAX || push->stopping) {
        pthread_mutex_unlock(&push->lock);
        log_warn("event feed: queue full, event %lld not pushed", (long long)event->id);
        free(message->text);
        free(message);
        return;
    }
    if (push->tail != NULL)
        push->tail->next = message;
    else
        push->head = message;
    push->tail = message;
    push->queued++;
    pthread_cond_signal(&push->wake);
    pthread_mutex_unlock(&push->lock);
    return;
fail:
    cJSON_Delete(json);
    cJSON_Delete(wrapper);
    if (message != NULL)
        free(message->text);
    free(message);
}

void event_push_published(struct hub *hub, const struct event_row *event)
{
    event_push_broadcast(hub->event_push, event);
}

void event_push_stop(struct hub *hub)
{
    struct event_push *push = hub->event_push;
    struct event_push_message *message;

    if (push == NULL)
        return;
    pthread_mutex_lock(&push->lock);
    push->stopping = 1;
    pthread_cond_signal(&push->wake);
    pthread_mutex_unlock(&push->lock);
    pthread_join(push->thread, NULL);
    while ((message = push->head) != NULL) {
        push->head = message->next;
        free(message->text);
        free(message);
    }
    /* Clients left in the list are freed by their close handlers, which
     * civetweb runs when the server stops; after that nothing refers here. */
}

void event_push_free(struct hub *hub)
{
    struct event_push *push = hub->event_push;
    if (push == NULL)
        return;
    hub->event_push = NULL;
    while (push->clients != NULL) {
        struct event_push_client *client = push->clients;
        push->clients = client->next;
        event_push_client_release(client);
    }
    pthread_cond_destroy(&push->wake);
    pthread_mutex_destroy(&push->lock);
    free(push);
}
