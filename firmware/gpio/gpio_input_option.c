/*
 * gpio_input_option.c - CHIP:LINE[,polarity][,bias] for --button-gpio and
 * --pir-gpio (see gpio_input_option.h). Main thread, at start-up; pure.
 */
#include "gpio/gpio_input_option.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"

/* 1 when name is a plain device name under /dev: 1..64 of [A-Za-z0-9._-],
 * not "." or "..". */
static int gpio_input_option_chip_name_valid(const char *name, size_t length)
{
    if (length == 0 || length > 64 || (length <= 2 && strspn(name, ".") == length))
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* One ",word" after the line: set the polarity or the bias, each at most
 * once. 0, or -1 with the reason in error. */
static int gpio_input_option_word(const char *word, size_t length, int *polarity_seen,
                                  int *bias_seen, struct gpio_input_line *line, char *error,
                                  size_t error_size)
{
    static const struct {
        const char *name;
        int is_bias;
        int value;
    } words[] = {
        {"active-low", 0, 1},
        {"active-high", 0, 0},
        {"pull-up", 1, GPIO_INPUT_BIAS_PULL_UP},
        {"pull-down", 1, GPIO_INPUT_BIAS_PULL_DOWN},
        {"no-pull", 1, GPIO_INPUT_BIAS_NONE},
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].name) != length || memcmp(words[i].name, word, length) != 0)
            continue;
        int *seen = words[i].is_bias ? bias_seen : polarity_seen;
        if (*seen) {
            error_text_set(error, error_size, "%s twice",
                           words[i].is_bias ? "a pull (bias)" : "a polarity");
            return -1;
        }
        *seen = 1;
        if (words[i].is_bias)
            line->bias = (enum gpio_input_bias)words[i].value;
        else
            line->active_low = words[i].value;
        return 0;
    }
    error_text_set(error, error_size,
                   "'%.*s' is none of active-low, active-high, pull-up, "
                   "pull-down, no-pull",
                   (int)(length > 32 ? 32 : length), word);
    return -1;
}

int gpio_input_option_parse(const char *text, int default_active_low,
                            enum gpio_input_bias default_bias, struct gpio_input_line *line,
                            char *error, size_t error_size)
{
    const char *colon = strrchr(text, ':');
    const char *words, *comma;
    int polarity_seen = 0, bias_seen = 0;
    size_t chip_length;
    unsigned long offset;
    char *end = NULL;

    memset(line, 0, sizeof(*line));
    line->active_low = default_active_low;
    line->bias = default_bias;
    if (colon == NULL) {
        error_text_set(error, error_size, "wants CHIP:LINE (e.g. gpiochip0:17)");
        return -1;
    }
    chip_length = (size_t)(colon - text);
    if (memchr(text, '/', chip_length) != NULL) {
        if (chip_length >= sizeof(line->chip_path) || memchr(text, ',', chip_length) != NULL) {
            error_text_set(error, error_size, "the chip path is too long or holds a ','");
            return -1;
        }
        memcpy(line->chip_path, text, chip_length);
    } else {
        if (!gpio_input_option_chip_name_valid(text, chip_length)) {
            error_text_set(error, error_size, "CHIP wants a name under /dev (gpiochip0) or a path");
            return -1;
        }
        snprintf(line->chip_path, sizeof(line->chip_path), "/dev/%.*s", (int)chip_length, text);
    }
    errno = 0;
    if (colon[1] < '0' || colon[1] > '9' || (offset = strtoul(colon + 1, &end, 10), errno != 0) ||
        (*end != '\0' && *end != ',') || offset > GPIO_INPUT_LINE_MAX) {
        error_text_set(error, error_size, "LINE wants a whole number from 0 to %d",
                       GPIO_INPUT_LINE_MAX);
        return -1;
    }
    line->offset = (unsigned int)offset;
    for (words = end; *words == ','; words = comma) {
        words++;
        comma = strchr(words, ',');
        if (comma == NULL)
            comma = words + strlen(words);
        if (gpio_input_option_word(words, (size_t)(comma - words), &polarity_seen, &bias_seen, line,
                                   error, error_size) != 0)
            return -1;
    }
    return 0;
}

const char *gpio_input_option_bias_name(enum gpio_input_bias bias)
{
    switch (bias) {
    case GPIO_INPUT_BIAS_PULL_UP:
        return "pull-up";
    case GPIO_INPUT_BIAS_PULL_DOWN:
        return "pull-down";
    default:
        return "no-pull";
    }
}
