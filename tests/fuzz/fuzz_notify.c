/*
 * fuzz_notify.c - libFuzzer harness for what the notification sender puts
 * into headers: any user text (event and doorbell names, titles) turned
 * into a header value, which must come out as one line of printable ASCII
 * whatever goes in. (What a receiver answers, Retry-After included, is
 * read by libcurl.)
 *
 * Input: one byte choosing the output size, then the text.
 * FUZZ_SOURCES: appliance/notify/notify_request.c appliance/accounts/random_bytes.c
 * FUZZ_SOURCES: appliance/events/event_store.c
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[256];
    size_t capacity;
    char *text;

    if (size < 1)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    capacity = 1 + (size_t)data[0] % sizeof(out);
    notify_header_text(text, out, capacity);
    assert(strlen(out) < capacity);
    for (const char *at = out; *at != '\0'; at++)
        assert(*at >= 0x20 && *at < 0x7f); /* one printable line: no header injection */
    free(text);
    return 0;
}
