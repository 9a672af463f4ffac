/*
 * gpio_input_option.h - the value of --button-gpio and --pir-gpio:
 * CHIP:LINE[,active-low|active-high][,pull-up|pull-down|no-pull], parsed
 * and checked strictly (gpio_input_option.c). Pure: no I/O; the main
 * thread calls it while parsing the command line. It owns nothing.
 */
#ifndef DOORSTEP_GPIO_INPUT_OPTION_H
#define DOORSTEP_GPIO_INPUT_OPTION_H

#include <stddef.h>

#define GPIO_INPUT_CHIP_PATH_MAX 256
#define GPIO_INPUT_LINE_MAX      65535 /* the highest line offset accepted */

enum gpio_input_bias {
    GPIO_INPUT_BIAS_NONE,
    GPIO_INPUT_BIAS_PULL_UP,
    GPIO_INPUT_BIAS_PULL_DOWN,
};

/* One input line: its chip's device path, its offset on the chip, whether
 * low means active, and the bias the kernel is asked for. */
struct gpio_input_line {
    char chip_path[GPIO_INPUT_CHIP_PATH_MAX]; /* /dev/NAME, or the path given */
    unsigned int offset;
    int active_low;
    enum gpio_input_bias bias;
};

/* Parse text into line, starting from the defaults given (what applies when
 * the text names no polarity or no bias). CHIP is a name under /dev
 * (letters, digits, '-', '_', '.') or a path with a '/'. 0, or -1 with the
 * reason in error. */
int gpio_input_option_parse(const char *text, int default_active_low,
                            enum gpio_input_bias default_bias, struct gpio_input_line *line,
                            char *error, size_t error_size);

/* "pull-up", "pull-down" or "no-pull": a static string. */
const char *gpio_input_option_bias_name(enum gpio_input_bias bias);

#endif
