/*
 * http_json.h - the one reader of JSON request bodies: the Content-Type
 * check and the strict parse every /api and /auth route uses (through
 * http_read_json() in http_request.c). Pure functions of their input: no
 * state, no I/O, callable from any thread, fuzzed by
 * tests/fuzz/fuzz_http_json.c.
 */
#ifndef DOORSTEP_HTTP_JSON_H
#define DOORSTEP_HTTP_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

enum http_json_result {
    HTTP_JSON_OK = 0,
    HTTP_JSON_SYNTAX = 1,        /* not JSON, or not one object */
    HTTP_JSON_TRAILING_DATA = 2, /* something other than white space after the object */
    HTTP_JSON_NUL = 3,           /* a NUL byte, or a \u0000 escape in a string */
};

/* True if a Content-Type header value is application/json, alone or with
 * parameters ("application/json; charset=utf-8"), in any letter case.
 * "application/jsonfoo" and NULL are false. */
bool http_json_content_type_ok(const char *content_type);

/*
 * Parse text (size bytes, need not be NUL-terminated) as exactly one JSON
 * object with optional white space around it. On HTTP_JSON_OK *object_out is
 * the object (the caller cJSON_Delete()s it); otherwise it is NULL.
 */
enum http_json_result http_json_parse(const char *text, size_t size, cJSON **object_out);

/* A short English reason for a result, for the 400 answer. Static string. */
const char *http_json_result_message(enum http_json_result result);

#endif
