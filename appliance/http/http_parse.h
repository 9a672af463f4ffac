/*
 * http_parse.h - the hub's own parsing of request text that civetweb hands
 * over unparsed: the Host header's name and route patterns with {params}.
 * Pure functions (no I/O, no globals), so any thread may call them and a
 * libFuzzer harness (tests/fuzz/fuzz_http.c) drives them directly.
 */
#ifndef DOORSTEP_HTTP_PARSE_H
#define DOORSTEP_HTTP_PARSE_H

#include <stddef.h>

#define HTTP_PARSE_MAX_PARAMS 4
#define HTTP_PARSE_PARAM_MAX  64

/* Copy the host part of a Host header ("name", "name:port", "[v6]:port")
 * into out. 0 ok, -1 if malformed or too long. */
int http_parse_host_name(const char *host, char *out, size_t out_size);

/*
 * Match path against pattern ("/api/v1/devices/{id}"); a {x} segment matches
 * 1..63 characters of [A-Za-z0-9_.-] that are not "." or "..". On a match,
 * fills params and *param_count and returns 1; else 0.
 */
int http_parse_route_match(const char *pattern, const char *path,
                           char params[HTTP_PARSE_MAX_PARAMS][HTTP_PARSE_PARAM_MAX],
                           int *param_count);

#endif
