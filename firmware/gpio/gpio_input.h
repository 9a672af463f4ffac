/*
 * gpio_input.h - the doorbell's button and PIR on GPIO lines, read through
 * the Linux GPIO character device (uAPI v2, <linux/gpio.h>; gpio_input.c):
 * each line is requested as an input with both edges, the bias asked for
 * and the kernel's debounce, and its edges go through a classifier
 * (gpio_input_classify.h) to the handler.
 *
 * Threads: gpio_input_start() (main thread) requests the lines and starts
 * the GPIO thread, which waits in poll() on the lines and a stop eventfd
 * and calls the handler on that thread; gpio_input_stop() (main thread)
 * wakes it, joins it and closes everything. Locks: none; the classifiers
 * and the line descriptors belong to the GPIO thread while it runs.
 * Ownership: the caller frees the result of gpio_input_start() with
 * gpio_input_stop().
 */
#ifndef DOORSTEP_GPIO_INPUT_H
#define DOORSTEP_GPIO_INPUT_H

#include <stddef.h>

#include "gpio/gpio_input_classify.h"
#include "gpio/gpio_input_option.h"

#define GPIO_INPUT_BUTTON_DEBOUNCE_US 20000 /* contact bounce of a push button */

/* GPIO thread: what an edge (or a hold) meant. */
typedef void (*gpio_input_handler)(enum gpio_input_action action, void *context);

struct gpio_input;

/* Request the button line and the PIR line (either may be NULL, not both)
 * and start the GPIO thread. NULL with the reason in error (a chip that
 * cannot be opened names its path). */
struct gpio_input *gpio_input_start(const struct gpio_input_line *button,
                                    const struct gpio_input_line *pir, gpio_input_handler handler,
                                    void *context, char *error, size_t error_size);

/* Stop the GPIO thread, release the lines and free input (NULL is ignored). */
void gpio_input_stop(struct gpio_input *input);

#endif
