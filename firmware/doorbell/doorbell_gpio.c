/*
 * doorbell_gpio.c - the doorbell's button and PIR on GPIO lines
 * (--button-gpio, --pir-gpio): what the GPIO thread (gpio/gpio_input.c)
 * classified takes the same path as the control commands: a press is
 * `press`, a 10 s hold `hold 10` (pairing mode), a 30 s hold `hold 30`
 * (factory reset), the PIR's active edge `pir`.
 *
 * Threads: main opens and closes; the handler runs on the GPIO thread. It
 * owns doorbell->gpio.
 */
#define LOG_MODULE "doorbelld"

#include <stdio.h>

#include "common/log.h"
#include "doorbell/doorbell.h"
#include "gpio/gpio_input.h"
#include "pairing/pairing.h"

/* GPIO thread: one classified action (context is the doorbell). */
static void doorbell_gpio_on_action(enum gpio_input_action action, void *context)
{
    struct doorbell *doorbell = context;
    char reply[256] = "";
    int seconds = action == GPIO_INPUT_RESET ? 30 : 10;

    switch (action) {
    case GPIO_INPUT_RING:
        log_info("button pressed");
        doorbell_events_button_press(doorbell);
        break;
    case GPIO_INPUT_MOTION:
        log_info("PIR active");
        doorbell_events_pir(doorbell);
        break;
    case GPIO_INPUT_PAIRING:
    case GPIO_INPUT_RESET:
        if (doorbell->pairing == NULL) {
            log_info("button held %d s: pairing is not available: this doorbell uses a secret "
                     "(--device-id)",
                     seconds);
            break;
        }
        pairing_hold(doorbell->pairing, seconds, reply, sizeof(reply));
        log_info("button held %d s: %s", seconds, reply);
        break;
    default:
        break;
    }
}

/* Request the GPIO lines the options name and start their thread; 0 (also
 * without any), or -1 (logged, naming the chip that cannot be opened).
 * Main thread. */
int doorbell_gpio_open(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    char error[512];

    if (!options->have_button_gpio && !options->have_pir_gpio)
        return 0;
    doorbell->gpio = gpio_input_start(options->have_button_gpio ? &options->button_gpio : NULL,
                                      options->have_pir_gpio ? &options->pir_gpio : NULL,
                                      doorbell_gpio_on_action, doorbell, error, sizeof(error));
    if (doorbell->gpio == NULL) {
        log_error("gpio: %s", error);
        return -1;
    }
    return 0;
}

/* Stop the GPIO thread (before what its handler uses goes away). Main
 * thread. */
void doorbell_gpio_close(struct doorbell *doorbell)
{
    gpio_input_stop(doorbell->gpio);
    doorbell->gpio = NULL;
}
