/*
 * http_json.c - strict parsing of JSON request bodies (see http_json.h).
 *
 * cJSON does the parsing. This file adds what cJSON lets through and the hub
 * refuses: bytes after the object, NUL bytes, and \u0000 escapes (cJSON would
 * cut the string at the NUL, so the value checked would differ from the value
 * sent). Any thread; no state.
 */
#include "http/http_json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_JSON_TYPE        "application/json"
#define HTTP_JSON_TYPE_LENGTH (sizeof(HTTP_JSON_TYPE) - 1)

bool http_json_content_type_ok(const char *content_type)
{
    const char *rest;

    if (content_type == NULL)
        return false;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    if (strncasecmp(content_type, HTTP_JSON_TYPE, HTTP_JSON_TYPE_LENGTH) != 0)
        return false;
    rest = content_type + HTTP_JSON_TYPE_LENGTH;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* True for the four JSON white-space characters. */
static bool http_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* True if text holds a NUL byte or, inside a string, a \u0000 escape. Walks
 * the strings the way a JSON parser does, so "\\u0000" (an escaped backslash
 * and the letters u0000) is not mistaken for the escape. */
static bool http_json_has_nul(const char *text, size_t size)
{
    bool in_string = false;

    /* Any NUL byte first: the walk below skips escaped characters, and a
     * backslash before a NUL must not hide it. */
    if (memchr(text, '\0', size) != NULL)
        return true;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (!in_string) {
            if (c == '"')
                in_string = true;
            continue;
        }
        if (c == '"') {
            in_string = false;
        } else if (c == '\\' && i + 1 < size) {
            if (text[i + 1] == 'u' && i + 5 < size && memcmp(text + i + 2, "0000", 4) == 0)
                return true;
            i++; /* the escaped character */
        }
    }
    return false;
}

enum http_json_result http_json_parse(const char *text, size_t size, cJSON **object_out)
{
    const char *end = NULL;
    cJSON *json;

    *object_out = NULL;
    if (text == NULL || size == 0)
        return HTTP_JSON_SYNTAX;
    if (http_json_has_nul(text, size))
        return HTTP_JSON_NUL;
    json = cJSON_ParseWithLengthOpts(text, size, &end, 0);
    if (json == NULL || !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return HTTP_JSON_SYNTAX;
    }
    if (end == NULL || end < text || end > text + size) {
        cJSON_Delete(json);
        return HTTP_JSON_SYNTAX;
    }
    for (; end < text + size; end++)
        if (!http_json_space(*end)) {
            cJSON_Delete(json);
            return HTTP_JSON_TRAILING_DATA;
        }
    *object_out = json;
    return HTTP_JSON_OK;
}

const char *http_json_result_message(enum http_json_result result)
{
    switch (result) {
    case HTTP_JSON_OK:
        return "ok";
    case HTTP_JSON_TRAILING_DATA:
        return "the body has data after the JSON object";
    case HTTP_JSON_NUL:
        return "the body contains a NUL character";
    default:
        return "the body is not a JSON object";
    }
}
