/*
 * fuzz_http_json.c - libFuzzer harness for the reader of every JSON request
 * body (appliance/http/http_json.c): the Content-Type check and the strict
 * parse (one object, nothing after it, no NUL). Checks that an accepted
 * body is an object that prints and parses back, and that no input with a
 * NUL byte is ever accepted.
 *
 * Input: one byte choosing the target, then the text.
 * FUZZ_SOURCES: appliance/http/http_json.c
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;
    size_t length = size > 0 ? size - 1 : 0;
    cJSON *object = NULL;
    char *printed;

    if (size < 1)
        return 0;
    if (data[0] & 1) {
        char *header = malloc(length + 1);
        memcpy(header, text, length);
        header[length] = '\0';
        if (http_json_content_type_ok(header))
            assert(strncasecmp(header + strspn(header, " \t"), "application/json", 16) == 0);
        free(header);
        return 0;
    }
    if (http_json_parse(text, length, &object) != HTTP_JSON_OK) {
        assert(object == NULL);
        return 0;
    }
    assert(cJSON_IsObject(object));
    assert(memchr(text, '\0', length) == NULL);
    printed = cJSON_PrintUnformatted(object);
    if (printed != NULL) {
        cJSON *again = NULL;
        assert(http_json_parse(printed, strlen(printed), &again) == HTTP_JSON_OK);
        cJSON_Delete(again);
        cJSON_free(printed);
    }
    cJSON_Delete(object);
    return 0;
}
