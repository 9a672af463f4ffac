/*
 * http_server.c - civetweb set-up and the top-level request dispatcher (see
 * http_server.h).
 *
 * Every HTTP request goes through http_server_handle(): Host check, then
 * health, /auth (pre-session), /api (the gate, then the route table), or a UI
 * file. The device link WebSocket is registered by link_server.c.
 * civetweb runs a fixed pool of worker threads; each request and each
 * WebSocket connection occupies one for its lifetime. When a connection
 * ends, its worker closes its SQLite connection and returns its idle stack
 * pages (http_server_connection_closed), so that idle workers hold no
 * memory. The only state is per thread: where that worker's stack lies.
 */
#define LOG_MODULE "http"

#include "http/http_server.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "civetweb.h"
#include "common/error_text.h"
#include "common/log.h"
#include "core/hub.h"
#include "http/link_server.h"
#include "http/pair_server.h"
#include "http/http_gate.h"
#include "http/http_request.h"
#include "http/http_router.h"
#include "http/routes.h"
#include "http/live_server.h"
#include "http/talk_server.h"
#include "storage/database.h"

/* civetweb's own diagnostics go to our log. */
static int http_server_log(const struct mg_connection *connection, const char *message)
{
    (void)connection;
    log_warn("civetweb: %s", message);
    return 1;
}

/* Stack this far below the current frame is left alone when releasing. */
#define HTTP_SERVER_STACK_MARGIN (8 * 1024)

/* This worker's stack, [low, high), found once per thread. */
static __thread uintptr_t http_server_stack_low;
static __thread uintptr_t http_server_stack_high;

/* Give the kernel back the pages of this thread's stack below the current
 * frame (less a margin): nothing lives there between connections. A TLS
 * handshake and a request touch about 32 KB of a worker's stack, and
 * touched pages stay resident until released; over hundreds of workers that
 * is megabytes for nothing. The next use faults in zeroed pages. Nothing is
 * done when the current frame is not on that stack (ASan's fake stacks). */
static void http_server_release_stack(void)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t low, high;

    if (http_server_stack_high == 0) {
        pthread_attr_t attributes;
        void *stack_low = NULL;
        size_t stack_size = 0;

        if (pthread_getattr_np(pthread_self(), &attributes) != 0)
            return;
        if (pthread_attr_getstack(&attributes, &stack_low, &stack_size) == 0 && stack_size > 0) {
            http_server_stack_low = (uintptr_t)stack_low;
            http_server_stack_high = (uintptr_t)stack_low + stack_size;
        }
        pthread_attr_destroy(&attributes);
    }
    if (here <= http_server_stack_low + HTTP_SERVER_STACK_MARGIN || here >= http_server_stack_high)
        return;
    low = (http_server_stack_low + page - 1) & ~(page - 1);
    high = (here - HTTP_SERVER_STACK_MARGIN) & ~(page - 1);
    if (high > low)
        (void)madvise((void *)low, high - low, MADV_DONTNEED);
}

/* civetweb's connection_closed callback, on the worker thread that served
 * the connection, after its last handler returned: close the worker's
 * SQLite connection and release its idle stack. The pool has hundreds of
 * workers and connections go to them in turn; each one keeping a database
 * connection (its page cache and schema, about 150 KB) and its touched stack
 * would make the hub grow with every worker that ever served a request.
 * Opening a database connection again costs well under a millisecond, beside
 * a TLS handshake's several. */
static void http_server_connection_closed(const struct mg_connection *connection)
{
    (void)connection;
    database_thread_release();
    http_server_release_stack();
}

/* /livez: the process serves. /readyz: database migrated and listening. */
static int http_server_health(struct http_request *request, int ready_check)
{
    int ready = !ready_check || atomic_load(&request->hub->ready);
    const char *text = ready ? (ready_check ? "ready\n" : "ok\n") : "starting\n";
    return http_send_bytes(request, ready ? 200 : 503, "text/plain; charset=utf-8", text,
                           strlen(text));
}

/* The one entry point for plain HTTP requests. */
static int http_server_handle(struct mg_connection *connection, void *data)
{
    struct http_request request;
    int status;

    http_request_init(&request, connection, data);
    if (!http_gate_host_allowed(request.hub, connection)) {
        status = http_send_error(&request, 421, "misdirected",
                                 "this hub does not answer to that host name");
        goto out;
    }
    if (strcmp(request.path, "/livez") == 0) {
        status = http_server_health(&request, 0);
    } else if (strcmp(request.path, "/readyz") == 0) {
        status = http_server_health(&request, 1);
    } else if (strncmp(request.path, "/auth/", 6) == 0) {
        status = routes_session_dispatch(&request);
    } else if (strcmp(request.path, "/api") == 0 || strncmp(request.path, "/api/", 5) == 0) {
        /* Authentication before routing: unknown /api paths answer 401 too. */
        status = http_gate_api_request(&request)
                     ? http_router_dispatch(&request, http_api_routes, http_api_route_count)
                     : 401;
    } else {
        status = static_files_serve(&request);
    }
out:
    log_debug("%s %s -> %d (%s)", request.method, request.path, status, request.remote_address);
    return status > 0 ? status : 500;
}

/* How many connections one client address may hold open at once: the
 * setting, or else a tenth of the worker pool (at least 4), so ten hostile
 * addresses still leave workers for the doorbells and the UI. */
int http_server_connections_per_address(const struct config *config)
{
    if (config->connections_per_address > 0)
        return config->connections_per_address;
    return config->http_threads / 10 > 4 ? config->http_threads / 10 : 4;
}

/* Port number part of a listen spec ("8443", "127.0.0.1:8443", "[::]:8443"). */
static const char *http_server_port(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    return colon ? colon + 1 : listen;
}

/* Each connection is a descriptor: raise the soft limit to the hard one so
 * that a connection flood meets the per-address bound, not EMFILE. */
static void http_server_raise_file_limit(void)
{
    struct rlimit limit;

    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
        return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        log_warn("cannot raise the open-file limit to %llu", (unsigned long long)limit.rlim_max);
}

int http_server_start(struct hub *hub, char *error, size_t error_size)
{
    char ports[160], threads[16], per_address[16];
    struct mg_callbacks callbacks;
    int all_interfaces = strchr(hub->config.listen, ':') == NULL;

    http_server_raise_file_limit();

    /* A bare port listens on IPv6 and IPv4 ("+"); fall back to IPv4 only on
     * hosts without IPv6. */
    for (int attempt = 0; attempt < (all_interfaces ? 2 : 1); attempt++) {
        snprintf(ports, sizeof(ports), "%s%ss", all_interfaces && attempt == 0 ? "+" : "",
                 hub->config.listen);
        snprintf(threads, sizeof(threads), "%d", hub->config.http_threads);
        snprintf(per_address, sizeof(per_address), "%d",
                 http_server_connections_per_address(&hub->config));
        const char *options[] = {
            "listening_ports",
            ports,
            "ssl_certificate",
            hub->certificate.server_pem,
            "num_threads",
            threads,
            /* A flood from a few addresses cannot take every worker: each
             * address may hold a tenth of them (docs/architecture.md,
             * "Connection lifecycle"). */
            "connections_per_address",
            per_address,
            /* A TLS handshake, and a request's head, must arrive within a few
             * seconds: idle and byte-a-second clients let go of their worker. */
            "tls_handshake_timeout_ms",
            "5000",
            "request_timeout_ms",
            "10000",
            /* The kernel's queue of connections not yet accepted: room for a
             * flood's SYNs so that a real client's is not dropped. */
            "listen_backlog",
            "4096",
            "websocket_timeout_ms",
            "10000",
            "enable_websocket_ping_pong",
            "yes",
            "enable_keep_alive",
            "yes",
            /* Small WebSocket writes (one video frame) must not wait for the
             * browser's delayed ACK (Nagle): that cost ~40 ms per opening. */
            "tcp_nodelay",
            "1",
            "keep_alive_timeout_ms",
            "10000",
            "static_file_cache_control",
            "no-cache",
            "additional_header",
            http_security_headers,
            "max_request_size",
            "16384",
            "enable_directory_listing",
            "no",
            "enable_auth_domain_check",
            "no",
            NULL,
        };
        memset(&callbacks, 0, sizeof(callbacks));
        callbacks.log_message = http_server_log;
        callbacks.connection_closed = http_server_connection_closed;
        hub->server = mg_start(&callbacks, hub, options);
        if (hub->server != NULL)
            break;
    }
    if (hub->server == NULL) {
        error_text_set(
            error, error_size,
            "cannot start HTTPS on %s (port %s in use, or the certificate %s is unusable)",
            hub->config.listen, http_server_port(hub->config.listen), hub->certificate.server_pem);
        return -1;
    }
    mg_set_request_handler(hub->server, "/", http_server_handle, hub);
    link_server_register(hub);
    pair_server_register(hub);
    live_server_register(hub);
    talk_server_register(hub);
    log_info("HTTPS listening on %s", ports);
    return 0;
}

void http_server_stop(struct hub *hub)
{
    if (hub->server != NULL) {
        mg_stop(hub->server);
        hub->server = NULL;
    }
}
