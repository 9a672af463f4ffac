/*
 * gpio_input_classify.c - edges into doorbell actions (see
 * gpio_input_classify.h). Pure; the GPIO thread or a test owns each
 * classifier.
 *
 * Debounce: the first edge of a change is taken at once (a ring must not
 * wait), and edges within debounce_ns after it only note the level; when
 * the debounce time is over, a level that ended up other than the accepted
 * one is taken then (a tap shorter than the debounce still ends).
 */
#include "gpio/gpio_input_classify.h"

#include <string.h>

void gpio_input_classify_init(struct gpio_input_classifier *classifier, enum gpio_input_kind kind,
                              int64_t debounce_ns, int active, int64_t now_ns)
{
    memset(classifier, 0, sizeof(*classifier));
    classifier->kind = kind;
    classifier->debounce_ns = debounce_ns < 0 ? 0 : debounce_ns;
    classifier->active = classifier->raw = active ? 1 : 0;
    classifier->changed_at_ns = now_ns - classifier->debounce_ns;
    classifier->pressed_at_ns = now_ns;
    classifier->hold_stage = 2; /* down at start, or up: nothing to count */
}

/* The button was held held_ns when it was let go, or is held that long
 * now: the hold action not yet taken, if any, and the stage after it. */
static enum gpio_input_action gpio_input_classify_hold(struct gpio_input_classifier *classifier,
                                                       int64_t held_ns)
{
    if (classifier->hold_stage < 2 && held_ns >= GPIO_INPUT_HOLD_RESET_NS) {
        classifier->hold_stage = 2;
        return GPIO_INPUT_RESET;
    }
    if (classifier->hold_stage < 1 && held_ns >= GPIO_INPUT_HOLD_PAIRING_NS) {
        classifier->hold_stage = 1;
        return GPIO_INPUT_PAIRING;
    }
    return GPIO_INPUT_NOTHING;
}

/* The accepted level became classifier->active at at_ns: what that means. */
static enum gpio_input_action gpio_input_classify_changed(struct gpio_input_classifier *classifier,
                                                          int64_t at_ns)
{
    enum gpio_input_action action;

    classifier->changed_at_ns = at_ns;
    if (classifier->kind == GPIO_INPUT_PIR)
        return classifier->active ? GPIO_INPUT_MOTION : GPIO_INPUT_NOTHING;
    if (classifier->active) {
        classifier->pressed_at_ns = at_ns;
        classifier->hold_stage = 0;
        return GPIO_INPUT_RING;
    }
    /* Let go: a hold not yet acted on is decided now. */
    action = gpio_input_classify_hold(classifier, at_ns - classifier->pressed_at_ns);
    classifier->hold_stage = 2;
    return action;
}

enum gpio_input_action gpio_input_classify_edge(struct gpio_input_classifier *classifier,
                                                int active, int64_t timestamp_ns)
{
    classifier->raw = active ? 1 : 0;
    if (timestamp_ns - classifier->changed_at_ns < classifier->debounce_ns) {
        classifier->settle_pending = 1;
        return GPIO_INPUT_NOTHING;
    }
    classifier->settle_pending = 0;
    if (classifier->raw == classifier->active)
        return GPIO_INPUT_NOTHING; /* a repeated edge: no change */
    classifier->active = classifier->raw;
    return gpio_input_classify_changed(classifier, timestamp_ns);
}

enum gpio_input_action gpio_input_classify_tick(struct gpio_input_classifier *classifier,
                                                int64_t now_ns)
{
    int64_t settled_at = classifier->changed_at_ns + classifier->debounce_ns;
    enum gpio_input_action action;

    if (classifier->settle_pending && now_ns >= settled_at) {
        classifier->settle_pending = 0;
        if (classifier->raw != classifier->active) {
            classifier->active = classifier->raw;
            action = gpio_input_classify_changed(classifier, settled_at);
            if (action != GPIO_INPUT_NOTHING)
                return action;
        }
    }
    if (classifier->kind == GPIO_INPUT_BUTTON && classifier->active)
        return gpio_input_classify_hold(classifier, now_ns - classifier->pressed_at_ns);
    return GPIO_INPUT_NOTHING;
}

int gpio_input_classify_deadline(const struct gpio_input_classifier *classifier,
                                 int64_t *deadline_ns)
{
    int64_t deadline = INT64_MAX;

    if (classifier->settle_pending)
        deadline = classifier->changed_at_ns + classifier->debounce_ns;
    if (classifier->kind == GPIO_INPUT_BUTTON && classifier->active && classifier->hold_stage < 2) {
        int64_t hold =
            classifier->pressed_at_ns +
            (classifier->hold_stage == 0 ? GPIO_INPUT_HOLD_PAIRING_NS : GPIO_INPUT_HOLD_RESET_NS);
        if (hold < deadline)
            deadline = hold;
    }
    if (deadline == INT64_MAX)
        return 0;
    *deadline_ns = deadline;
    return 1;
}

const char *gpio_input_classify_action_name(enum gpio_input_action action)
{
    switch (action) {
    case GPIO_INPUT_RING:
        return "ring";
    case GPIO_INPUT_PAIRING:
        return "pairing";
    case GPIO_INPUT_RESET:
        return "reset";
    case GPIO_INPUT_MOTION:
        return "motion";
    default:
        return "nothing";
    }
}
