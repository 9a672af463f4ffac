/*
 * static_files.c - serving the web UI from www_dir: only GET/HEAD, only
 * regular files inside www_dir with a known extension, with explicit MIME
 * types and "Cache-Control: no-cache" (the browser revalidates with the
 * ETag civetweb sends, so an upgraded hub is never shown stale code).
 * civetweb worker threads; no state.
 */
#define LOG_MODULE "http"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "civetweb.h"
#include "core/hub.h"
#include "http/routes.h"

struct static_files_type {
    const char *extension;
    const char *mime_type;
};

static const struct static_files_type static_files_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".woff2", "font/woff2"},
    {".wav", "audio/wav"},
};

/* MIME type for a path's extension, or NULL if we do not serve that kind. */
static const char *static_files_mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(static_files_types) / sizeof(static_files_types[0]); i++)
        if (strcmp(dot, static_files_types[i].extension) == 0)
            return static_files_types[i].mime_type;
    return NULL;
}

/* Reject anything that could step outside www_dir or reach hidden files. */
static int static_files_path_safe(const char *path)
{
    if (path[0] != '/' || strstr(path, "/.") != NULL || strchr(path, '\\') != NULL)
        return 0;
    for (const char *c = path; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20)
            return 0;
    return 1;
}

int static_files_serve(struct http_request *request)
{
    char wanted[PATH_MAX], resolved[PATH_MAX], root[PATH_MAX];
    const char *path = strcmp(request->path, "/") == 0 ? "/index.html" : request->path;
    const char *mime_type;
    struct stat info;
    size_t root_length;

    if (strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0)
        return http_send_error(request, 405, "method_not_allowed", "use GET");
    mime_type = static_files_mime_type(path);
    if (!static_files_path_safe(path) || mime_type == NULL)
        return http_send_error(request, 404, "not_found", "no such file");
    if ((size_t)snprintf(wanted, sizeof(wanted), "%s%s", request->hub->config.www_dir, path) >=
            sizeof(wanted) ||
        realpath(request->hub->config.www_dir, root) == NULL || realpath(wanted, resolved) == NULL)
        return http_send_error(request, 404, "not_found", "no such file");
    /* Symlinks are fine only if they stay inside the UI directory. */
    root_length = strlen(root);
    if (strncmp(resolved, root, root_length) != 0 || resolved[root_length] != '/' ||
        stat(resolved, &info) != 0 || !S_ISREG(info.st_mode))
        return http_send_error(request, 404, "not_found", "no such file");
    mg_send_mime_file2(request->connection, resolved, mime_type, NULL);
    return 200;
}
