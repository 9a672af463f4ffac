/*
 * pair_socket.c - the local pairing socket (see pair_socket.h): a Unix
 * stream socket in the data directory, mode 0600, served by one thread that
 * answers one request per connection (a pairing blocks it for at most
 * DEVICE_PAIRING_TIMEOUT_MS; requests queue in the listen backlog).
 *
 * Threads: the socket thread owns the listening socket and each accepted
 * one; it uses its own SQLite connection (database_thread_connection) for
 * the audit log and the device row. pair_socket_request() runs in the CLI.
 */
#define LOG_MODULE "pair"

#include "http/pair_socket.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/log.h"
#include "core/hub.h"
#include "devices/device_pairing.h"
#include "http/routes.h"
#include "storage/database.h"

#define PAIR_SOCKET_IO_MS 5000 /* a client has this long to send its line */

struct pair_socket {
    struct hub *hub;
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pthread_t thread;
    atomic_int stopping;
};

/* Fill address with data_dir/pairing.sock; 0, or -1 if the path is too long. */
static int pair_socket_address(const char *data_dir, struct sockaddr_un *address)
{
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    return snprintf(address->sun_path, sizeof(address->sun_path), "%s/%s", data_dir,
                    PAIR_SOCKET_NAME) >= (int)sizeof(address->sun_path)
               ? -1
               : 0;
}

/* The waiting list as JSON text (caller frees with cJSON_free), or NULL. */
static char *pair_socket_waiting(struct hub *hub)
{
    cJSON *json = routes_pairing_waiting_json(hub);
    char *text = json != NULL ? cJSON_PrintUnformatted(json) : NULL;

    cJSON_Delete(json);
    return text;
}

/* `pair ID CODE NAME...`: run the exchange, audit it; answer text (caller
 * frees with cJSON_free), or NULL. request is modified. */
static char *pair_socket_pair(struct hub *hub, char *request)
{
    char *save = NULL, *device_id, *code, *name;
    char reason[192] = "";
    struct device_record device;
    enum device_pairing_result result = DEVICE_PAIRING_FAILED;
    cJSON *json = cJSON_CreateObject(), *object;
    char *text = NULL;

    strtok_r(request, " ", &save); /* "pair" */
    device_id = strtok_r(NULL, " ", &save);
    code = strtok_r(NULL, " ", &save);
    name = save != NULL && *save != '\0' ? save : "Doorbell";
    if (json == NULL)
        return NULL;
    if (device_id == NULL || code == NULL || !pair_device_id_is_valid(device_id))
        error_text_set(reason, sizeof(reason), "%s", "usage: pair DEVICE_ID CODE [NAME]");
    else
        result = routes_pairing_run(hub, database_thread_connection(), 0, "cli", "pairing.sock",
                                    device_id, code, name, &device, reason, sizeof(reason));
    if (code != NULL)
        mbedtls_platform_zeroize(code, strlen(code));
    cJSON_AddNumberToObject(json, "status", routes_pairing_status(result));
    if (result == DEVICE_PAIRING_OK) {
        object = cJSON_AddObjectToObject(json, "device");
        if (object != NULL) {
            cJSON_AddStringToObject(object, "id", device.id);
            cJSON_AddStringToObject(object, "name", device.name);
            cJSON_AddStringToObject(object, "auth", "key");
        }
    } else {
        cJSON_AddStringToObject(json, "error", device_pairing_result_name(result));
        cJSON_AddStringToObject(json, "reason", reason);
    }
    text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    return text;
}

/* Read one request line from client (bounded in size and time), answer it. */
static void pair_socket_serve(struct pair_socket *socket_state, int client)
{
    char request[PAIR_SOCKET_REQUEST_MAX];
    struct pollfd poll_fd = {client, POLLIN, 0};
    size_t used = 0;
    char *answer = NULL;
    ssize_t got;

    while (used < sizeof(request) - 1 && memchr(request, '\n', used) == NULL) {
        if (poll(&poll_fd, 1, PAIR_SOCKET_IO_MS) <= 0)
            goto out;
        got = read(client, request + used, sizeof(request) - 1 - used);
        if (got <= 0)
            goto out;
        used += (size_t)got;
    }
    request[used] = '\0';
    if (strchr(request, '\n') == NULL)
        goto out;
    request[strcspn(request, "\r\n")] = '\0';
    if (strcmp(request, "waiting") == 0)
        answer = pair_socket_waiting(socket_state->hub);
    else if (strncmp(request, "pair ", 5) == 0)
        answer = pair_socket_pair(socket_state->hub, request);
    if (answer != NULL) {
        size_t length = strlen(answer);
        if (write(client, answer, length) != (ssize_t)length || write(client, "\n", 1) != 1)
            log_warn("pairing socket: the client went away before the answer");
    }
out:
    mbedtls_platform_zeroize(request, sizeof(request));
    cJSON_free(answer);
}

/* The socket thread: accept and serve until stopping. */
static void *pair_socket_thread(void *data)
{
    struct pair_socket *socket_state = data;
    struct pollfd poll_fd = {socket_state->fd, POLLIN, 0};
    pthread_setname_np(pthread_self(), "pair-socket");

    while (!atomic_load(&socket_state->stopping)) {
        int client;
        if (poll(&poll_fd, 1, 500) <= 0)
            continue;
        client = accept4(socket_state->fd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        pair_socket_serve(socket_state, client);
        close(client);
    }
    return NULL;
}

struct pair_socket *pair_socket_start(struct hub *hub)
{
    struct pair_socket *socket_state = calloc(1, sizeof(*socket_state));
    struct sockaddr_un address;
    mode_t previous;

    if (socket_state == NULL)
        return NULL;
    socket_state->hub = hub;
    if (pair_socket_address(hub->config.data_dir, &address) != 0) {
        log_error("pairing socket: the data directory's path is too long");
        goto fail;
    }
    memcpy(socket_state->path, address.sun_path, sizeof(socket_state->path));
    unlink(socket_state->path); /* left by a hub that was killed */
    socket_state->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socket_state->fd < 0)
        goto fail;
    previous = umask(0177); /* the socket is born 0600 */
    if (bind(socket_state->fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        umask(previous);
        log_error("pairing socket: cannot bind %s: %s", socket_state->path, strerror(errno));
        goto fail_fd;
    }
    umask(previous);
    if (chmod(socket_state->path, 0600) != 0 || listen(socket_state->fd, 8) != 0 ||
        pthread_create(&socket_state->thread, NULL, pair_socket_thread, socket_state) != 0) {
        log_error("pairing socket: cannot listen on %s", socket_state->path);
        unlink(socket_state->path);
        goto fail_fd;
    }
    return socket_state;

fail_fd:
    close(socket_state->fd);
fail:
    free(socket_state);
    return NULL;
}

void pair_socket_stop(struct pair_socket *socket_state)
{
    if (socket_state == NULL)
        return;
    atomic_store(&socket_state->stopping, 1);
    pthread_join(socket_state->thread, NULL);
    close(socket_state->fd);
    unlink(socket_state->path);
    free(socket_state);
}

int pair_socket_request(const char *data_dir, const char *request, char *answer, size_t answer_size,
                        char *error, size_t error_size)
{
    struct sockaddr_un address;
    size_t used = 0;
    ssize_t got;
    int fd, result = -1;

    if (pair_socket_address(data_dir, &address) != 0) {
        error_text_set(error, error_size, "the data directory's path is too long");
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        error_text_set(error, error_size, "cannot reach the running hub at %s: %s",
                       address.sun_path, strerror(errno));
        goto out;
    }
    if (write(fd, request, strlen(request)) != (ssize_t)strlen(request) ||
        write(fd, "\n", 1) != 1) {
        error_text_set(error, error_size, "cannot send to the hub: %s", strerror(errno));
        goto out;
    }
    while (used < answer_size - 1 && (got = read(fd, answer + used, answer_size - 1 - used)) > 0)
        used += (size_t)got;
    answer[used] = '\0';
    if (used == 0) {
        error_text_set(error, error_size, "the hub gave no answer");
        goto out;
    }
    answer[strcspn(answer, "\n")] = '\0';
    result = 0;
out:
    if (fd >= 0)
        close(fd);
    return result;
}
