/*
 * gpio_input_classify.h - what a button's or a PIR's edges mean
 * (gpio_input_classify.c): a press rings, a 10 s hold opens pairing mode, a
 * 30 s hold resets, a PIR's active edge is motion; bounce within the
 * debounce time is ignored. Pure: no I/O and no clock of its own; times
 * are the kernel's event timestamps (CLOCK_MONOTONIC, ns) and the reading
 * thread's CLOCK_MONOTONIC for deadlines. One classifier belongs to one
 * thread (the GPIO thread, gpio_input.c; tests); it holds no lock and
 * allocates nothing.
 */
#ifndef DOORSTEP_GPIO_INPUT_CLASSIFY_H
#define DOORSTEP_GPIO_INPUT_CLASSIFY_H

#include <stdint.h>

#define GPIO_INPUT_NS_PER_S        1000000000LL
#define GPIO_INPUT_HOLD_PAIRING_NS (10 * GPIO_INPUT_NS_PER_S) /* `hold 10` */
#define GPIO_INPUT_HOLD_RESET_NS   (30 * GPIO_INPUT_NS_PER_S) /* `hold 30` */

enum gpio_input_kind {
    GPIO_INPUT_BUTTON,
    GPIO_INPUT_PIR,
};

enum gpio_input_action {
    GPIO_INPUT_NOTHING,
    GPIO_INPUT_RING,    /* the button went down: what `press` does */
    GPIO_INPUT_PAIRING, /* held 10 s: what `hold 10` does */
    GPIO_INPUT_RESET,   /* held 30 s: what `hold 30` does */
    GPIO_INPUT_MOTION,  /* the PIR became active: what `pir` does */
};

struct gpio_input_classifier {
    enum gpio_input_kind kind;
    int64_t debounce_ns;
    int active;            /* the accepted level (1 = pressed / motion) */
    int raw;               /* the level of the newest edge */
    int64_t changed_at_ns; /* when the accepted level last changed */
    int settle_pending;    /* an edge came within the debounce: look again after it */
    int64_t pressed_at_ns; /* button: when the accepted press began */
    int hold_stage;        /* button: 0 counting, 1 pairing done, 2 nothing more */
};

/* Start from the line's level at now_ns (active: pressed, or PIR active). A
 * button already down at start rings not, and its hold is not counted. */
void gpio_input_classify_init(struct gpio_input_classifier *classifier, enum gpio_input_kind kind,
                              int64_t debounce_ns, int active, int64_t now_ns);

/* An edge to level active (1 rising, logically) at timestamp_ns. Call
 * gpio_input_classify_tick(timestamp_ns) until it returns nothing first, so
 * a hold that ended is counted before its release. Returns what the edge
 * means. */
enum gpio_input_action gpio_input_classify_edge(struct gpio_input_classifier *classifier,
                                                int active, int64_t timestamp_ns);

/* Time passed to now_ns without an edge: at most one action per call (call
 * until GPIO_INPUT_NOTHING): a bounce that settled, or a hold that reached
 * 10 s or 30 s. */
enum gpio_input_action gpio_input_classify_tick(struct gpio_input_classifier *classifier,
                                                int64_t now_ns);

/* When gpio_input_classify_tick() next has something to do: 1 and the time
 * in *deadline_ns, or 0 when nothing is due without an edge. */
int gpio_input_classify_deadline(const struct gpio_input_classifier *classifier,
                                 int64_t *deadline_ns);

/* "ring", "pairing", ...: a static string for logs. */
const char *gpio_input_classify_action_name(enum gpio_input_action action);

#endif
