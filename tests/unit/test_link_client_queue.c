/*
 * test_link_client_queue.c - cmocka tests of the doorbell's send queue
 * (firmware/link/link_client_queue.c) when the link cannot keep up: the
 * sub-stream may fill only half of the queue, a main-stream frame that does
 * not fit throws the queued sub-stream out first, and a stream that lost a
 * frame sends nothing more until its next keyframe, so the hub never gets a
 * P-frame without its reference.
 *
 * Single-threaded, on a link client made by hand in the connected state
 * with no libwebsockets context (nothing is sent; wake-ups are skipped).
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/link/link_client_queue.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/mutex.h"
#include "link/link_client_internal.h"

#define TEST_QUEUE_LIMIT 4096u

/* A connected client whose queue holds TEST_QUEUE_LIMIT bytes. */
static int setup(void **state)
{
    struct link_client *client = calloc(1, sizeof(*client));

    if (client == NULL)
        return -1;
    if (mutex_init_checked(&client->lock) != 0) {
        free(client);
        return -1;
    }
    client->config.queue_limit_bytes = TEST_QUEUE_LIMIT;
    client->state = LINK_CLIENT_CONNECTED;
    *state = client;
    return 0;
}

static int teardown(void **state)
{
    struct link_client *client = *state;

    pthread_mutex_lock(&client->lock);
    link_client_drop_video_locked(client);
    pthread_mutex_unlock(&client->lock);
    while (client->queue_head != NULL) {
        struct link_client_message *next = client->queue_head->next;
        free(client->queue_head);
        client->queue_head = next;
    }
    pthread_mutex_destroy(&client->lock);
    free(client);
    return 0;
}

/* How many queued messages are video of kind. */
static int queued(struct link_client *client, enum link_client_video kind)
{
    int count = 0;

    for (const struct link_client_message *m = client->queue_head; m != NULL; m = m->next)
        count += m->video == kind;
    return count;
}

/* The sub-stream fills at most half the queue; the main stream the rest. */
static void test_sub_stream_fills_half(void **state)
{
    struct link_client *client = *state;
    static uint8_t unit[1100];
    int sent = 0;

    for (uint32_t i = 0; i < 10; i++)
        sent += link_client_send_sub_video(client, unit, sizeof(unit), i == 0, i, 1000 * i) == 1;
    assert_int_equal(sent, 1); /* 1116 bytes with its header; a second would pass 2048 */
    assert_true(client->queue_bytes <= TEST_QUEUE_LIMIT / 2);
    assert_true(client->sub_waiting_for_keyframe);
    /* The main stream still gets the rest of the queue. */
    assert_int_equal(link_client_send_video(client, unit, sizeof(unit), 1, 1, 1000), 1);
    assert_int_equal(link_client_send_video(client, unit, sizeof(unit), 0, 2, 2000), 1);
    assert_int_equal(queued(client, LINK_CLIENT_MAIN_VIDEO), 2);
    assert_int_equal(queued(client, LINK_CLIENT_SUB_VIDEO), 1);
}

/* A main frame that does not fit drops the queued sub-stream, which then
 * waits for a keyframe; main frames after a loss wait for one too. */
static void test_main_stream_goes_first(void **state)
{
    struct link_client *client = *state;
    static uint8_t small[600], large[2600];

    assert_int_equal(link_client_send_sub_video(client, small, sizeof(small), 1, 1, 1000), 1);
    assert_int_equal(link_client_send_sub_video(client, small, sizeof(small), 0, 3, 3000), 1);
    assert_int_equal(link_client_send_video(client, small, sizeof(small), 1, 1, 1000), 1);
    assert_int_equal(queued(client, LINK_CLIENT_SUB_VIDEO), 2);
    /* 3 x 616 queued + 2616 > 4096: the two sub frames go, the main one stays. */
    assert_int_equal(link_client_send_video(client, large, sizeof(large), 0, 2, 2000), 1);
    assert_int_equal(queued(client, LINK_CLIENT_SUB_VIDEO), 0);
    assert_int_equal(queued(client, LINK_CLIENT_MAIN_VIDEO), 2);
    assert_true(client->sub_waiting_for_keyframe);
    assert_false(client->waiting_for_keyframe);
    /* The sub-stream resumes only at a keyframe that fits. */
    assert_int_equal(link_client_send_sub_video(client, small, sizeof(small), 0, 5, 5000), 0);
    assert_int_equal(queued(client, LINK_CLIENT_SUB_VIDEO), 0);
    /* A main frame that cannot fit even alone is dropped: main waits too. */
    assert_int_equal(link_client_send_video(client, large, sizeof(large), 0, 3, 3000), 0);
    assert_true(client->waiting_for_keyframe);
    assert_int_equal(link_client_send_video(client, small, sizeof(small), 0, 4, 4000), 0);
    assert_int_equal(queued(client, LINK_CLIENT_MAIN_VIDEO), 2);
}

/* Without the hub nothing video is queued, and a send says so. */
static void test_disconnected_drops(void **state)
{
    struct link_client *client = *state;
    static uint8_t unit[100];

    client->state = LINK_CLIENT_DISCONNECTED;
    assert_int_equal(link_client_send_video(client, unit, sizeof(unit), 1, 1, 1000), -1);
    assert_int_equal(link_client_send_sub_video(client, unit, sizeof(unit), 1, 1, 1000), -1);
    assert_null(client->queue_head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sub_stream_fills_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_main_stream_goes_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnected_drops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
