/*
 * test_gpio_input.c - the doorbell's GPIO inputs without a GPIO chip: the
 * classifier (firmware/gpio/gpio_input_classify.c) on injected kernel
 * timestamps - a press rings once, bounce within the debounce is ignored,
 * a tap shorter than the debounce still ends, 10 s held opens pairing mode
 * and 30 s resets (while held, or decided on release), a button down at
 * start neither rings nor counts, the PIR's active edge is motion - and
 * the CHIP:LINE[,...] option parser (gpio_input_option.c).
 *
 * UNIT_SOURCES: firmware/gpio/gpio_input_classify.c firmware/gpio/gpio_input_option.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gpio/gpio_input_classify.h"
#include "gpio/gpio_input_option.h"

#define TEST_MS       1000000LL
#define TEST_S        (1000 * TEST_MS)
#define TEST_DEBOUNCE (20 * TEST_MS)
#define TEST_START    (5 * TEST_S)

/* Every action due at now, in order, into actions (at most max); returns
 * how many. What the GPIO thread does before each edge and after poll(). */
static int test_ticks(struct gpio_input_classifier *classifier, int64_t now,
                      enum gpio_input_action *actions, int max)
{
    int count = 0;
    enum gpio_input_action action;

    while ((action = gpio_input_classify_tick(classifier, now)) != GPIO_INPUT_NOTHING) {
        assert_true(count < max);
        actions[count++] = action;
    }
    return count;
}

/* An edge at at, after the ticks due then: the one action the edge or its
 * ticks produced (NOTHING if none; two fail the test). */
static enum gpio_input_action test_edge(struct gpio_input_classifier *classifier, int active,
                                        int64_t at)
{
    enum gpio_input_action actions[4];
    int count = test_ticks(classifier, at, actions, 4);
    enum gpio_input_action edge = gpio_input_classify_edge(classifier, active, at);

    assert_true(count + (edge != GPIO_INPUT_NOTHING) <= 1);
    return count == 1 ? actions[0] : edge;
}

/* A press rings at once; its bounce (both ways, within 20 ms) rings no
 * more, and a short press ends with no hold action. */
static void test_press_and_bounce(void **state)
{
    struct gpio_input_classifier button;
    enum gpio_input_action actions[4];
    int64_t t = TEST_START;
    (void)state;

    gpio_input_classify_init(&button, GPIO_INPUT_BUTTON, TEST_DEBOUNCE, 0, t);
    assert_int_equal(test_edge(&button, 1, t + TEST_S), GPIO_INPUT_RING);
    assert_int_equal(test_edge(&button, 0, t + TEST_S + 2 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&button, 1, t + TEST_S + 4 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&button, 0, t + TEST_S + 9 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&button, 1, t + TEST_S + 15 * TEST_MS), GPIO_INPUT_NOTHING);
    /* Settled down: still the one press. */
    assert_int_equal(test_ticks(&button, t + TEST_S + 30 * TEST_MS, actions, 4), 0);
    assert_int_equal(button.active, 1);
    /* Let go after 300 ms, with bounce: no hold, and up. */
    assert_int_equal(test_edge(&button, 0, t + 1300 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&button, 1, t + 1303 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&button, 0, t + 1306 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_ticks(&button, t + 60 * TEST_S, actions, 4), 0);
    assert_int_equal(button.active, 0);
    /* The next press, after the debounce, rings again. */
    assert_int_equal(test_edge(&button, 1, t + 61 * TEST_S), GPIO_INPUT_RING);
}

/* A tap shorter than the debounce: one ring, and up once the debounce is
 * over (not held for ever, which would reset the doorbell at 30 s). */
static void test_short_tap(void **state)
{
    struct gpio_input_classifier button;
    enum gpio_input_action actions[4];
    int64_t t = TEST_START, deadline = 0;
    (void)state;

    gpio_input_classify_init(&button, GPIO_INPUT_BUTTON, TEST_DEBOUNCE, 0, t);
    assert_int_equal(test_edge(&button, 1, t), GPIO_INPUT_RING);
    assert_int_equal(test_edge(&button, 0, t + 5 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_true(gpio_input_classify_deadline(&button, &deadline));
    assert_true(deadline == t + TEST_DEBOUNCE);
    assert_int_equal(test_ticks(&button, t + TEST_DEBOUNCE, actions, 4), 0);
    assert_int_equal(button.active, 0);
    assert_false(gpio_input_classify_deadline(&button, &deadline));
    assert_int_equal(test_ticks(&button, t + 40 * TEST_S, actions, 4), 0);
}

/* Held: at 10 s pairing mode (while still down, so the log says so then),
 * at 30 s the reset; the release after that does nothing more. */
static void test_holds_while_held(void **state)
{
    struct gpio_input_classifier button;
    enum gpio_input_action actions[4];
    int64_t t = TEST_START, deadline = 0;
    (void)state;

    gpio_input_classify_init(&button, GPIO_INPUT_BUTTON, TEST_DEBOUNCE, 0, t);
    assert_int_equal(test_edge(&button, 1, t), GPIO_INPUT_RING);
    assert_true(gpio_input_classify_deadline(&button, &deadline));
    assert_true(deadline == t + 10 * TEST_S);
    assert_int_equal(test_ticks(&button, t + 10 * TEST_S - 1, actions, 4), 0);
    assert_int_equal(test_ticks(&button, t + 10 * TEST_S, actions, 4), 1);
    assert_int_equal(actions[0], GPIO_INPUT_PAIRING);
    assert_int_equal(test_ticks(&button, t + 20 * TEST_S, actions, 4), 0);
    assert_true(gpio_input_classify_deadline(&button, &deadline));
    assert_true(deadline == t + 30 * TEST_S);
    assert_int_equal(test_ticks(&button, t + 30 * TEST_S, actions, 4), 1);
    assert_int_equal(actions[0], GPIO_INPUT_RESET);
    assert_false(gpio_input_classify_deadline(&button, &deadline));
    assert_int_equal(test_edge(&button, 0, t + 45 * TEST_S), GPIO_INPUT_NOTHING);

    /* Let go between 10 and 30 s: pairing only. */
    assert_int_equal(test_edge(&button, 1, t + 50 * TEST_S), GPIO_INPUT_RING);
    assert_int_equal(test_ticks(&button, t + 62 * TEST_S, actions, 4), 1);
    assert_int_equal(actions[0], GPIO_INPUT_PAIRING);
    assert_int_equal(test_edge(&button, 0, t + 65 * TEST_S), GPIO_INPUT_NOTHING);
    assert_int_equal(test_ticks(&button, t + 200 * TEST_S, actions, 4), 0);

    /* 9.9 s is not a hold. */
    assert_int_equal(test_edge(&button, 1, t + 300 * TEST_S), GPIO_INPUT_RING);
    assert_int_equal(test_edge(&button, 0, t + 300 * TEST_S + 9900 * TEST_MS), GPIO_INPUT_NOTHING);
    assert_int_equal(test_ticks(&button, t + 400 * TEST_S, actions, 4), 0);
}

/* No tick while held (a thread that only sees edges): the release decides,
 * the strongest hold reached. */
static void test_holds_on_release(void **state)
{
    struct gpio_input_classifier button;
    int64_t t = TEST_START;
    (void)state;

    gpio_input_classify_init(&button, GPIO_INPUT_BUTTON, TEST_DEBOUNCE, 0, t);
    assert_int_equal(gpio_input_classify_edge(&button, 1, t), GPIO_INPUT_RING);
    assert_int_equal(gpio_input_classify_edge(&button, 0, t + 12 * TEST_S), GPIO_INPUT_PAIRING);
    assert_int_equal(gpio_input_classify_edge(&button, 1, t + 20 * TEST_S), GPIO_INPUT_RING);
    assert_int_equal(gpio_input_classify_edge(&button, 0, t + 51 * TEST_S), GPIO_INPUT_RESET);
    assert_int_equal(gpio_input_classify_edge(&button, 1, t + 60 * TEST_S), GPIO_INPUT_RING);
    assert_int_equal(gpio_input_classify_edge(&button, 0, t + 61 * TEST_S), GPIO_INPUT_NOTHING);
}

/* Down at start (stuck, or held through a reboot): no ring, no hold. */
static void test_down_at_start(void **state)
{
    struct gpio_input_classifier button;
    enum gpio_input_action actions[4];
    int64_t t = TEST_START, deadline = 0;
    (void)state;

    gpio_input_classify_init(&button, GPIO_INPUT_BUTTON, TEST_DEBOUNCE, 1, t);
    assert_false(gpio_input_classify_deadline(&button, &deadline));
    assert_int_equal(test_ticks(&button, t + 60 * TEST_S, actions, 4), 0);
    assert_int_equal(test_edge(&button, 0, t + 61 * TEST_S), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&button, 1, t + 62 * TEST_S), GPIO_INPUT_RING);
}

/* The PIR: its active edge is motion, once per activation; the end of it
 * and repeated edges are nothing. */
static void test_pir(void **state)
{
    struct gpio_input_classifier pir;
    int64_t t = TEST_START;
    (void)state;

    gpio_input_classify_init(&pir, GPIO_INPUT_PIR, 0, 0, t);
    assert_int_equal(test_edge(&pir, 1, t + TEST_S), GPIO_INPUT_MOTION);
    assert_int_equal(test_edge(&pir, 1, t + 2 * TEST_S), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&pir, 0, t + 5 * TEST_S), GPIO_INPUT_NOTHING);
    assert_int_equal(test_edge(&pir, 1, t + 40 * TEST_S), GPIO_INPUT_MOTION);
    assert_string_equal(gpio_input_classify_action_name(GPIO_INPUT_MOTION), "motion");
}

/* CHIP:LINE[,...]: names under /dev, paths, defaults, words; bad values
 * refused with a reason. */
static void test_option(void **state)
{
    struct gpio_input_line line;
    char error[128];
    static const char *const bad[] = {
        "",
        "gpiochip0",
        "gpiochip0:",
        "gpiochip0:x",
        "gpiochip0:-1",
        "gpiochip0:+1",
        "gpiochip0:65536",
        "gpiochip0:17x",
        "gpiochip0:17,",
        "gpiochip0:17,pull-sideways",
        "gpiochip0:17,active-low,active-high",
        "gpiochip0:17,pull-up,no-pull",
        ":17",
        "..:17",
        "gpio chip:17",
        "gpiochip0:99999999999999999999",
    };
    (void)state;

    assert_int_equal(gpio_input_option_parse("gpiochip0:17", 1, GPIO_INPUT_BIAS_PULL_UP, &line,
                                             error, sizeof(error)),
                     0);
    assert_string_equal(line.chip_path, "/dev/gpiochip0");
    assert_int_equal(line.offset, 17);
    assert_int_equal(line.active_low, 1);
    assert_int_equal(line.bias, GPIO_INPUT_BIAS_PULL_UP);

    assert_int_equal(gpio_input_option_parse("/dev/gpiochip4:27,active-high,pull-down", 1,
                                             GPIO_INPUT_BIAS_PULL_UP, &line, error, sizeof(error)),
                     0);
    assert_string_equal(line.chip_path, "/dev/gpiochip4");
    assert_int_equal(line.offset, 27);
    assert_int_equal(line.active_low, 0);
    assert_int_equal(line.bias, GPIO_INPUT_BIAS_PULL_DOWN);

    assert_int_equal(gpio_input_option_parse("gpiochip1:0,no-pull,active-low", 0,
                                             GPIO_INPUT_BIAS_PULL_UP, &line, error, sizeof(error)),
                     0);
    assert_int_equal(line.offset, 0);
    assert_int_equal(line.active_low, 1);
    assert_int_equal(line.bias, GPIO_INPUT_BIAS_NONE);
    assert_string_equal(gpio_input_option_bias_name(line.bias), "no-pull");

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        error[0] = '\0';
        if (gpio_input_option_parse(bad[i], 1, GPIO_INPUT_BIAS_PULL_UP, &line, error,
                                    sizeof(error)) != -1)
            fail_msg("'%s' was taken", bad[i]);
        assert_true(error[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_press_and_bounce), cmocka_unit_test(test_short_tap),
        cmocka_unit_test(test_holds_while_held), cmocka_unit_test(test_holds_on_release),
        cmocka_unit_test(test_down_at_start),    cmocka_unit_test(test_pir),
        cmocka_unit_test(test_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
