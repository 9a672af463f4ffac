/*
 * error_text.c - formatting failure reasons into callers' buffers (see
 * error_text.h).
 */
#include "common/error_text.h"

#include <stdarg.h>
#include <stdio.h>

void error_text_set(char *error, size_t error_size, const char *format, ...)
{
    va_list args;

    if (error == NULL || error_size == 0)
        return;
    va_start(args, format);
    vsnprintf(error, error_size, format, args);
    va_end(args);
}
