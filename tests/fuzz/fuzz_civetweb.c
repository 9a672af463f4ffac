/*
 * fuzz_civetweb.c - libFuzzer harness for the request-head parsing that
 * Doorstep patches into civetweb (scripts/civetweb-patches/0004-*): the
 * request line and headers (parse_http_request), then the checks get_request
 * makes on Content-Length, and the Range parser of static files. civetweb.c
 * is compiled into this harness (its parsers are static), without TLS; its
 * allocator is used for the input copy.
 *
 * Input: one byte choosing the target, then the text.
 * FUZZ_SOURCES:
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Weverything"
#define NO_SSL
#define NO_CGI
#define USE_WEBSOCKET
#define DOORSTEP_HTTP_MAX_BODY 1048576
#include "../src/civetweb.c"
#pragma clang diagnostic pop

/* A length field the parser accepts is all digits, at most 18 of them. */
static void fuzz_civetweb_length(const char *text)
{
    int64_t value = -1;
    int result = parse_length_field(text, &value);

    assert(result == 0 || result == -1 || result == -2);
    if (result == 0) {
        size_t digits = strlen(text);
        assert(digits >= 1 && digits <= 18 && strspn(text, "0123456789") == digits);
        assert(value >= 0 && value <= 999999999999999999LL);
    }
}

/* A Range the parser accepts has one or two non-negative numbers. */
static void fuzz_civetweb_range(const char *text)
{
    int64_t first = -1, last = -1;
    int count = parse_range_header(text, &first, &last);

    assert(count >= 0 && count <= 2);
    if (count > 0) {
        assert(strncmp(text, "bytes=", 6) == 0);
        assert(first >= 0 && first <= 999999999999999999LL);
        assert(last >= 0 && last <= 999999999999999999LL);
    }
}

/* A whole request head, then every Content-Length in it. */
static void fuzz_civetweb_head(char *text, size_t size)
{
    struct mg_request_info info;

    memset(&info, 0, sizeof(info));
    if (parse_http_request(text, (int)size, &info) <= 0)
        return;
    assert(info.num_headers >= 0 && info.num_headers <= MG_MAX_HEADERS);
    for (int i = 0; i < info.num_headers; i++) {
        assert(info.http_headers[i].name != NULL && info.http_headers[i].value != NULL);
        if (mg_strcasecmp(info.http_headers[i].name, "Content-Length") == 0)
            fuzz_civetweb_length(info.http_headers[i].value);
    }
    assert(count_request_headers(&info, "Content-Length") <= info.num_headers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size < 1)
        return 0;
    text = mg_malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0:
        fuzz_civetweb_length(text);
        break;
    case 1:
        fuzz_civetweb_range(text);
        break;
    default:
        fuzz_civetweb_head(text, size - 1);
        break;
    }
    mg_free(text);
    return 0;
}
