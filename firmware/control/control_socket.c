/*
 * control_socket.c - line-oriented Unix-socket control channel (see
 * control_socket.h). The control thread owns the listening socket and the
 * one client connection it serves at a time; a pipe wakes it for shutdown.
 */
#define LOG_MODULE "control"

#include "control/control_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/log.h"

#define CONTROL_CLIENT_TIMEOUT_MS 5000

struct control_socket {
    int listen_fd;
    int wake_pipe[2];
    pthread_t thread;
    control_handler handler;
    void *context;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Fill a sockaddr_un for path; -1 if the path does not fit. */
static int control_socket_address(const char *path, struct sockaddr_un *address)
{
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(address->sun_path))
        return -1;
    memcpy(address->sun_path, path, strlen(path) + 1);
    return 0;
}

/* Serve one client: read lines, answer each, until it hangs up or idles out. */
static void control_socket_serve_client(struct control_socket *control, int fd)
{
    char line[CONTROL_LINE_MAX + 1];
    char reply[CONTROL_REPLY_MAX + 1];
    size_t used = 0;

    for (;;) {
        struct pollfd poll_fd = {fd, POLLIN, 0};
        char *newline;
        ssize_t n;

        if (poll(&poll_fd, 1, CONTROL_CLIENT_TIMEOUT_MS) <= 0)
            return;
        n = read(fd, line + used, CONTROL_LINE_MAX - used);
        if (n <= 0)
            return;
        used += (size_t)n;
        line[used] = '\0';
        while ((newline = strchr(line, '\n')) != NULL) {
            size_t consumed = (size_t)(newline - line) + 1;
            *newline = '\0';
            if (newline > line && newline[-1] == '\r')
                newline[-1] = '\0';
            reply[0] = '\0';
            control->handler(line, reply, CONTROL_REPLY_MAX - 1, control->context);
            strcat(reply, "\n");
            if (write(fd, reply, strlen(reply)) < 0)
                return;
            memmove(line, line + consumed, used - consumed + 1);
            used -= consumed;
        }
        if (used == CONTROL_LINE_MAX) {
            static const char too_long[] = "error: line too long\n";
            if (write(fd, too_long, sizeof(too_long) - 1) < 0)
                return;
            return;
        }
    }
}

/* The control thread: accept clients until woken through the pipe. */
static void *control_socket_thread(void *data)
{
    struct control_socket *control = data;

    for (;;) {
        struct pollfd fds[2] = {{control->listen_fd, POLLIN, 0},
                                {control->wake_pipe[0], POLLIN, 0}};
        int client;
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents != 0)
            break;
        client = accept4(control->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        control_socket_serve_client(control, client);
        close(client);
    }
    return NULL;
}

struct control_socket *control_socket_start(const char *path, control_handler handler,
                                            void *context, char *error, size_t error_size)
{
    struct control_socket *control = calloc(1, sizeof(*control));
    struct sockaddr_un address;
    mode_t old_mask;

    if (control == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    control->listen_fd = control->wake_pipe[0] = control->wake_pipe[1] = -1;
    control->handler = handler;
    control->context = context;
    if (control_socket_address(path, &address) != 0) {
        error_text_set(error, error_size, "control socket path too long");
        goto fail;
    }
    snprintf(control->path, sizeof(control->path), "%s", path);
    control->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (control->listen_fd < 0 || pipe2(control->wake_pipe, O_CLOEXEC) != 0) {
        error_text_set(error, error_size, "socket: %s", strerror(errno));
        goto fail;
    }
    unlink(path); /* a stale socket from a previous run */
    old_mask = umask(0077);
    if (bind(control->listen_fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        umask(old_mask);
        error_text_set(error, error_size, "bind %s: %s", path, strerror(errno));
        goto fail;
    }
    umask(old_mask);
    if (listen(control->listen_fd, 8) != 0 ||
        pthread_create(&control->thread, NULL, control_socket_thread, control) != 0) {
        error_text_set(error, error_size, "listen %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    log_info("control socket at %s", path);
    return control;

fail:
    if (control->listen_fd >= 0)
        close(control->listen_fd);
    if (control->wake_pipe[0] >= 0) {
        close(control->wake_pipe[0]);
        close(control->wake_pipe[1]);
    }
    free(control);
    return NULL;
}

void control_socket_stop(struct control_socket *control)
{
    if (control == NULL)
        return;
    if (write(control->wake_pipe[1], "x", 1) < 0)
        log_warn("waking the control thread: %s", strerror(errno));
    pthread_join(control->thread, NULL);
    close(control->listen_fd);
    close(control->wake_pipe[0]);
    close(control->wake_pipe[1]);
    unlink(control->path);
    free(control);
}

int control_socket_request(const char *path, const char *command, char *reply, size_t reply_size)
{
    struct sockaddr_un address;
    size_t used = 0;
    int fd = -1, rc = -1;

    if (control_socket_address(path, &address) != 0) {
        snprintf(reply, reply_size, "control socket path too long");
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        snprintf(reply, reply_size, "cannot connect to %s: %s", path, strerror(errno));
        goto out;
    }
    if (write(fd, command, strlen(command)) < 0 || write(fd, "\n", 1) < 0) {
        snprintf(reply, reply_size, "write: %s", strerror(errno));
        goto out;
    }
    while (used + 1 < reply_size) {
        ssize_t n = read(fd, reply + used, reply_size - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (memchr(reply, '\n', used) != NULL)
            break;
    }
    reply[used] = '\0';
    if (used > 0 && reply[used - 1] == '\n')
        reply[used - 1] = '\0';
    rc = used > 0 ? 0 : -1;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* `doorbelld ctl SOCKET COMMAND...`: send the words after SOCKET as one
 * command and print the reply. The process's exit status: 0, 1 (an error
 * reply or no answer), 2 (usage). */
int control_socket_client_main(int argc, char **argv)
{
    char command[CONTROL_LINE_MAX] = "", reply[CONTROL_REPLY_MAX];

    if (argc < 4) {
        fprintf(stderr, "usage: %s ctl SOCKET COMMAND...\n", argv[0]);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (strlen(command) + strlen(argv[i]) + 2 >= sizeof(command)) {
            fprintf(stderr, "command too long\n");
            return 2;
        }
        if (i > 3)
            strcat(command, " ");
        strcat(command, argv[i]);
    }
    if (control_socket_request(argv[2], command, reply, sizeof(reply)) != 0) {
        fprintf(stderr, "%s\n", reply);
        return 1;
    }
    printf("%s\n", reply);
    return strncmp(reply, "error", 5) == 0 ? 1 : 0;
}
