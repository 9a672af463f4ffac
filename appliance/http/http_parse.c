/*
 * http_parse.c - Host header and route pattern parsing (see http_parse.h).
 */
#include "http/http_parse.h"

#include <string.h>

int http_parse_host_name(const char *host, char *out, size_t out_size)
{
    size_t length;

    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return -1;
        host++;
        length = (size_t)(close - host);
    } else {
        const char *colon = strchr(host, ':');
        length = colon ? (size_t)(colon - host) : strlen(host);
    }
    if (length == 0 || length >= out_size)
        return -1;
    memcpy(out, host, length);
    out[length] = '\0';
    return 0;
}

/* Characters allowed in a {param} path segment. */
static int http_parse_param_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

int http_parse_route_match(const char *pattern, const char *path,
                           char params[HTTP_PARSE_MAX_PARAMS][HTTP_PARSE_PARAM_MAX],
                           int *param_count)
{
    int count = 0;

    while (*pattern != '\0') {
        if (*pattern == '{') {
            size_t length = 0;
            const char *end = strchr(pattern, '}');
            if (end == NULL || count >= HTTP_PARSE_MAX_PARAMS)
                return 0;
            while (http_parse_param_char(path[length]))
                length++;
            /* A segment is never "." or "..", and fits its buffer. */
            if (length == 0 || length >= HTTP_PARSE_PARAM_MAX ||
                (path[0] == '.' && (length == 1 || (length == 2 && path[1] == '.'))))
                return 0;
            memcpy(params[count], path, length);
            params[count][length] = '\0';
            count++;
            path += length;
            pattern = end + 1;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    if (*path != '\0')
        return 0;
    *param_count = count;
    return 1;
}
