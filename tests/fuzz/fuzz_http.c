/*
 * fuzz_http.c - libFuzzer harness for the hub's own parsing of HTTP request
 * text: Host headers and request paths against route patterns of every
 * shape the route table uses. civetweb parses the request line and headers;
 * cJSON parses bodies (both fuzzed upstream); this covers what is ours.
 *
 * Input: one byte choosing the target, then the text.
 * FUZZ_SOURCES: appliance/http/http_parse.c
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"

static const char *const fuzz_http_patterns[] = {
    "/api/v1/me",
    "/api/v1/devices/{id}",
    "/api/v1/devices/{id}/snapshot.jpg",
    "/api/v1/devices/{id}/events/{event}",
    "/api/v1/{a}/{b}/{c}/{d}",
    "/api/v1/{a}/{b}/{c}/{d}/{e}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    char params[HTTP_PARSE_MAX_PARAMS][HTTP_PARSE_PARAM_MAX];
    int count = -1;

    if (size < 1)
        return 0;
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    if (data[0] & 1) {
        char name[256];
        if (http_parse_host_name(text, name, sizeof(name)) == 0) {
            assert(strlen(name) > 0 && strlen(name) < sizeof(name));
            assert(strstr(text, name) != NULL);
        }
    } else {
        for (size_t i = 0; i < sizeof(fuzz_http_patterns) / sizeof(fuzz_http_patterns[0]); i++) {
            if (!http_parse_route_match(fuzz_http_patterns[i], text, params, &count))
                continue;
            assert(count >= 0 && count <= HTTP_PARSE_MAX_PARAMS);
            for (int p = 0; p < count; p++) {
                size_t length = strlen(params[p]);
                assert(length > 0 && length < HTTP_PARSE_PARAM_MAX);
                assert(strcmp(params[p], ".") != 0 && strcmp(params[p], "..") != 0);
                assert(strchr(params[p], '/') == NULL);
            }
        }
    }
    free(text);
    return 0;
}
