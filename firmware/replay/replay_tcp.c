/*
 * replay_tcp.c - plain TCP outputs of the replay doorbell (see replay_tcp.h).
 *
 * Threads: replay_tcp_open() and replay_tcp_close() on the main thread,
 * replay_tcp_send() on the pacer thread only. The struct owns its sockets.
 */
#define LOG_MODULE "replay"

#include "replay/replay_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"

/* Parse "HOST:PORT[,COUNT]" (HOST an IPv4 address). 0 or -1. */
static int replay_tcp_parse(const char *spec, struct sockaddr_in *address, size_t *count)
{
    char host[64];
    unsigned port = 0, number = 1;
    int used = 0;

    if (sscanf(spec, "%63[^:]:%u%n", host, &port, &used) != 2)
        return -1;
    spec += used;
    if (*spec == ',') {
        if (sscanf(spec + 1, "%u%n", &number, &used) != 1)
            return -1;
        spec += 1 + used;
    }
    if (*spec != '\0')
        return -1;
    if (port == 0 || number == 0 || number > REPLAY_TCP_MAX_OUTPUTS || port + number - 1 > 65535)
        return -1;
    memset(address, 0, sizeof(*address));
    address->sin_family = AF_INET;
    address->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &address->sin_addr) != 1)
        return -1;
    *count = number;
    return 0;
}

/* Connect to address, retrying every 50 ms until deadline_ns. The socket or -1. */
static int replay_tcp_connect(const struct sockaddr_in *address, int64_t deadline_ns)
{
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        struct timespec pause = {0, 50 * 1000 * 1000};

        if (fd < 0)
            return -1;
        if (connect(fd, (const struct sockaddr *)address, sizeof(*address)) == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            return fd;
        }
        close(fd);
        if (clock_monotonic_ns() >= deadline_ns)
            return -1;
        nanosleep(&pause, NULL);
    }
}

int replay_tcp_open(const char *spec, int timeout_ms, struct replay_tcp *tcp, char *error,
                    size_t error_size)
{
    struct sockaddr_in address;
    int64_t deadline_ns = clock_monotonic_ns() + (int64_t)timeout_ms * 1000000;
    size_t count = 0;

    memset(tcp, 0, sizeof(*tcp));
    if (replay_tcp_parse(spec, &address, &count) != 0) {
        error_text_set(error, error_size, "--replay-tcp wants IPV4:PORT or IPV4:PORT,COUNT (1..%d)",
                       REPLAY_TCP_MAX_OUTPUTS);
        return -1;
    }
    tcp->fds = malloc(count * sizeof(*tcp->fds));
    if (tcp->fds == NULL) {
        error_text_set(error, error_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        struct sockaddr_in output = address;
        output.sin_port = htons((uint16_t)(ntohs(address.sin_port) + i));
        tcp->fds[i] = replay_tcp_connect(&output, deadline_ns);
        tcp->count = i + 1;
        if (tcp->fds[i] < 0) {
            error_text_set(error, error_size, "cannot connect to port %u: %s",
                           (unsigned)ntohs(output.sin_port), strerror(errno));
            replay_tcp_close(tcp);
            return -1;
        }
    }
    return 0;
}

int replay_tcp_send(struct replay_tcp *tcp, size_t index, const uint8_t *data, size_t size)
{
    int fd = tcp->fds[index];

    while (fd >= 0 && size > 0) {
        ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0) {
            log_warn("TCP output %zu: %s; it gets nothing more", index,
                     sent < 0 ? strerror(errno) : "closed");
            close(fd);
            tcp->fds[index] = fd = -1;
            break;
        }
        data += sent;
        size -= (size_t)sent;
    }
    return fd >= 0 ? 1 : -1;
}

void replay_tcp_close(struct replay_tcp *tcp)
{
    for (size_t i = 0; i < tcp->count; i++)
        if (tcp->fds[i] >= 0)
            close(tcp->fds[i]);
    free(tcp->fds);
    memset(tcp, 0, sizeof(*tcp));
}
