/*
 * gpio_input.c - the GPIO thread (see gpio_input.h): line requests through
 * GPIO_V2_GET_LINE_IOCTL, poll() on the line descriptors and a stop
 * eventfd, struct gpio_v2_line_event read and classified. The thread owns
 * the classifiers; the main thread opens and closes the descriptors before
 * and after it runs.
 */
#define LOG_MODULE "gpio"

#include "gpio/gpio_input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/gpio.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"

#define GPIO_INPUT_SOURCES     2
#define GPIO_INPUT_EVENT_BATCH 16

struct gpio_input_source {
    int fd; /* the line request's descriptor; -1 none */
    const char *name;
    struct gpio_input_classifier classifier;
};

struct gpio_input {
    struct gpio_input_source sources[GPIO_INPUT_SOURCES];
    int stop_fd;
    pthread_t thread;
    int thread_started;
    gpio_input_handler handler;
    void *context;
};

/* Request one line as an input with both edges, its polarity and bias and,
 * if debounce_us > 0, the kernel's debounce (asked again without it if the
 * kernel refuses the attribute). The request's descriptor, or -1 with the
 * reason in error. */
static int gpio_input_request(const struct gpio_input_line *line, const char *name,
                              unsigned int debounce_us, char *error, size_t error_size)
{
    struct gpio_v2_line_request request;
    int chip = open(line->chip_path, O_RDWR | O_CLOEXEC);
    int rc;

    if (chip < 0) {
        error_text_set(error, error_size, "%s: cannot open %s: %s", name, line->chip_path,
                       strerror(errno));
        return -1;
    }
    memset(&request, 0, sizeof(request));
    request.offsets[0] = line->offset;
    request.num_lines = 1;
    snprintf(request.consumer, sizeof(request.consumer), "doorbelld-%s", name);
    request.config.flags =
        GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
    if (line->active_low)
        request.config.flags |= GPIO_V2_LINE_FLAG_ACTIVE_LOW;
    if (line->bias == GPIO_INPUT_BIAS_PULL_UP)
        request.config.flags |= GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
    else if (line->bias == GPIO_INPUT_BIAS_PULL_DOWN)
        request.config.flags |= GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
    else
        request.config.flags |= GPIO_V2_LINE_FLAG_BIAS_DISABLED;
    if (debounce_us > 0) {
        request.config.num_attrs = 1;
        request.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
        request.config.attrs[0].attr.debounce_period_us = debounce_us;
        request.config.attrs[0].mask = 1;
    }
    rc = ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &request);
    if (rc < 0 && errno == EINVAL && debounce_us > 0) {
        log_warn("%s: the kernel refused a debounce of %u us; debouncing here only", name,
                 debounce_us);
        request.config.num_attrs = 0;
        memset(&request.config.attrs[0], 0, sizeof(request.config.attrs[0]));
        rc = ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &request);
    }
    if (rc < 0)
        error_text_set(error, error_size, "%s: cannot request line %u of %s: %s", name,
                       line->offset, line->chip_path, strerror(errno));
    close(chip);
    return rc < 0 ? -1 : request.fd;
}

/* The line's logical level now (1 active); 0 if it cannot be read. */
static int gpio_input_level(int fd)
{
    struct gpio_v2_line_values values = {.bits = 0, .mask = 1};

    if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &values) < 0)
        return 0;
    return (values.bits & 1) != 0;
}

/* GPIO thread: hand every action due at now_ns on source to the handler. */
static void gpio_input_tick(struct gpio_input *input, struct gpio_input_source *source,
                            int64_t now_ns)
{
    enum gpio_input_action action;

    while ((action = gpio_input_classify_tick(&source->classifier, now_ns)) != GPIO_INPUT_NOTHING)
        input->handler(action, input->context);
}

/* GPIO thread: read the events waiting on source and classify them. -1 if
 * the line failed (logged; it is polled no more). */
static int gpio_input_read(struct gpio_input *input, struct gpio_input_source *source)
{
    struct gpio_v2_line_event events[GPIO_INPUT_EVENT_BATCH];
    ssize_t got = read(source->fd, events, sizeof(events));

    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (got <= 0 || (size_t)got % sizeof(events[0]) != 0) {
        log_error("%s: reading its line failed: %s", source->name,
                  got < 0 ? strerror(errno) : "short read");
        return -1;
    }
    for (size_t i = 0; i < (size_t)got / sizeof(events[0]); i++) {
        int64_t at = (int64_t)events[i].timestamp_ns;
        enum gpio_input_action action;

        gpio_input_tick(input, source, at);
        action = gpio_input_classify_edge(&source->classifier,
                                          events[i].id == GPIO_V2_LINE_EVENT_RISING_EDGE, at);
        if (action != GPIO_INPUT_NOTHING)
            input->handler(action, input->context);
    }
    return 0;
}

/* GPIO thread: milliseconds poll() may wait before a classifier has
 * something due (-1: until an edge). */
static int gpio_input_timeout_ms(const struct gpio_input *input, int64_t now_ns)
{
    int64_t soonest = INT64_MAX, deadline;

    for (int i = 0; i < GPIO_INPUT_SOURCES; i++)
        if (input->sources[i].fd >= 0 &&
            gpio_input_classify_deadline(&input->sources[i].classifier, &deadline) &&
            deadline < soonest)
            soonest = deadline;
    if (soonest == INT64_MAX)
        return -1;
    if (soonest <= now_ns)
        return 0;
    return (int)((soonest - now_ns + 999999) / 1000000 > INT_MAX
                     ? INT_MAX
                     : (soonest - now_ns + 999999) / 1000000);
}

/* The GPIO thread's body (data is the gpio_input): wait for edges, holds
 * and the stop eventfd. */
static void *gpio_input_thread(void *data)
{
    struct gpio_input *input = data;
    struct pollfd fds[1 + GPIO_INPUT_SOURCES];

    for (;;) {
        fds[0] = (struct pollfd){.fd = input->stop_fd, .events = POLLIN};
        for (int i = 0; i < GPIO_INPUT_SOURCES; i++)
            fds[1 + i] = (struct pollfd){.fd = input->sources[i].fd, .events = POLLIN};
        if (poll(fds, 1 + GPIO_INPUT_SOURCES, gpio_input_timeout_ms(input, clock_monotonic_ns())) <
                0 &&
            errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            break;
        }
        if (fds[0].revents != 0)
            break;
        for (int i = 0; i < GPIO_INPUT_SOURCES; i++) {
            struct gpio_input_source *source = &input->sources[i];
            if (source->fd < 0 || fds[1 + i].revents == 0)
                continue;
            if ((fds[1 + i].revents & POLLIN) == 0 || gpio_input_read(input, source) != 0) {
                if ((fds[1 + i].revents & POLLIN) == 0)
                    log_error("%s: its line reported an error; no longer read", source->name);
                close(source->fd);
                source->fd = -1;
            }
        }
        int64_t now = clock_monotonic_ns();
        for (int i = 0; i < GPIO_INPUT_SOURCES; i++)
            if (input->sources[i].fd >= 0)
                gpio_input_tick(input, &input->sources[i], now);
    }
    return NULL;
}

/* Request one source's line and set up its classifier; 0 or -1 (error). */
static int gpio_input_open_source(struct gpio_input_source *source,
                                  const struct gpio_input_line *line, const char *name,
                                  enum gpio_input_kind kind, unsigned int debounce_us, char *error,
                                  size_t error_size)
{
    source->name = name;
    source->fd = gpio_input_request(line, name, debounce_us, error, error_size);
    if (source->fd < 0)
        return -1;
    gpio_input_classify_init(&source->classifier, kind, (int64_t)debounce_us * 1000,
                             gpio_input_level(source->fd), clock_monotonic_ns());
    log_info("%s on %s line %u (%s, %s)", name, line->chip_path, line->offset,
             line->active_low ? "active-low" : "active-high",
             gpio_input_option_bias_name(line->bias));
    return 0;
}

struct gpio_input *gpio_input_start(const struct gpio_input_line *button,
                                    const struct gpio_input_line *pir, gpio_input_handler handler,
                                    void *context, char *error, size_t error_size)
{
    struct gpio_input *input = calloc(1, sizeof(*input));

    if (input == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    input->handler = handler;
    input->context = context;
    input->sources[0].fd = input->sources[1].fd = -1;
    input->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (input->stop_fd < 0) {
        error_text_set(error, error_size, "eventfd: %s", strerror(errno));
        goto fail;
    }
    if ((button != NULL &&
         gpio_input_open_source(&input->sources[0], button, "button", GPIO_INPUT_BUTTON,
                                GPIO_INPUT_BUTTON_DEBOUNCE_US, error, error_size) != 0) ||
        (pir != NULL && gpio_input_open_source(&input->sources[1], pir, "pir", GPIO_INPUT_PIR, 0,
                                               error, error_size) != 0))
        goto fail;
    for (int i = 0; i < GPIO_INPUT_SOURCES; i++)
        if (input->sources[i].fd >= 0)
            fcntl(input->sources[i].fd, F_SETFL, fcntl(input->sources[i].fd, F_GETFL) | O_NONBLOCK);
    if (pthread_create(&input->thread, NULL, gpio_input_thread, input) != 0) {
        error_text_set(error, error_size, "cannot start the GPIO thread");
        goto fail;
    }
    input->thread_started = 1;
    return input;

fail:
    gpio_input_stop(input);
    return NULL;
}

void gpio_input_stop(struct gpio_input *input)
{
    uint64_t one = 1;

    if (input == NULL)
        return;
    if (input->thread_started) {
        if (write(input->stop_fd, &one, sizeof(one)) != sizeof(one))
            log_warn("cannot wake the GPIO thread: %s", strerror(errno));
        pthread_join(input->thread, NULL);
    }
    for (int i = 0; i < GPIO_INPUT_SOURCES; i++)
        if (input->sources[i].fd >= 0)
            close(input->sources[i].fd);
    if (input->stop_fd >= 0)
        close(input->stop_fd);
    free(input);
}
