/*
 * test_snapshot_queue.c - cmocka tests of the pictures the doorbell owes the
 * hub (firmware/snapshot/snapshot_queue.c): one per event, in order, each
 * with its event's tag; the hub's commands since the last frame share one
 * picture with the newest request id; a full queue refuses and logs; the
 * label each picture carries, written as a JPEG comment
 * (snapshot_encode_labelled_jpeg) that a JPEG reader gives back.
 *
 * Single-threaded; the test frees what it encodes. Links the link client
 * for snapshot_queue_send, which these tests do not call.
 */
/* clang-format off */
/* UNIT_SOURCES: firmware/snapshot/snapshot_queue.c firmware/snapshot/snapshot.c firmware/link/link_client.c */
/* UNIT_SOURCES: firmware/link/link_tls_binding.c firmware/link/link_client_queue.c */
/* clang-format on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "snapshot/snapshot.h"
#include "snapshot/snapshot_queue.h"

/* Events keep their order and tags; commands coalesce into one request. */
static void test_events_and_commands(void **state)
{
    struct snapshot_queue queue;
    struct snapshot_request taken[SNAPSHOT_QUEUE_SIZE];
    char label[SNAPSHOT_LABEL_MAX];

    (void)state;
    snapshot_queue_init(&queue);
    snapshot_queue_add_event(&queue, LINK_EVENT_RING, 7);
    snapshot_queue_add_command(&queue, 0);
    snapshot_queue_add_event(&queue, LINK_EVENT_MOTION, 8);
    snapshot_queue_add_command(&queue, 42);
    assert_int_equal(snapshot_queue_take(&queue, taken), 3);
    assert_true(taken[0].for_event && taken[0].sequence == 7 &&
                taken[0].event_type == LINK_EVENT_RING);
    assert_true(!taken[1].for_event && taken[1].sequence == 42);
    assert_true(taken[2].for_event && taken[2].sequence == 8 &&
                taken[2].event_type == LINK_EVENT_MOTION);
    snapshot_request_label(&taken[0], label, sizeof(label));
    assert_string_equal(label, "doorstep event ring 7");
    snapshot_request_label(&taken[1], label, sizeof(label));
    assert_string_equal(label, "doorstep snapshot");
    snapshot_request_label(&taken[2], label, sizeof(label));
    assert_string_equal(label, "doorstep event motion 8");
    assert_int_equal(snapshot_queue_take(&queue, taken), 0);
    snapshot_queue_destroy(&queue);
}

/* A full queue keeps what it has; the extra event gets none. */
static void test_full_queue(void **state)
{
    struct snapshot_queue queue;
    struct snapshot_request taken[SNAPSHOT_QUEUE_SIZE];

    (void)state;
    snapshot_queue_init(&queue);
    for (uint32_t id = 1; id <= SNAPSHOT_QUEUE_SIZE + 1; id++)
        snapshot_queue_add_event(&queue, LINK_EVENT_PIR, id);
    assert_int_equal(snapshot_queue_take(&queue, taken), SNAPSHOT_QUEUE_SIZE);
    assert_int_equal(taken[SNAPSHOT_QUEUE_SIZE - 1].sequence, SNAPSHOT_QUEUE_SIZE);
    snapshot_queue_destroy(&queue);
}

/* The label comes back as the JPEG's COM marker. */
static void test_label_in_jpeg(void **state)
{
    static uint8_t y[64 * 48], u[32 * 24], v[32 * 24];
    struct camera_frame frame = {y, u, v, 64, 48, 64, 32, 0, 0};
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    jpeg_saved_marker_ptr marker;
    uint8_t *jpeg = NULL;
    size_t size = 0;
    char error[128];
    int found = 0;

    (void)state;
    memset(y, 128, sizeof(y));
    memset(u, 128, sizeof(u));
    memset(v, 128, sizeof(v));
    assert_int_equal(snapshot_encode_labelled_jpeg(&frame, 80, 0, "doorstep event ring 7", &jpeg,
                                                   &size, error, sizeof(error)),
                     0);
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_decompress(&cinfo);
    jpeg_save_markers(&cinfo, JPEG_COM, 0xffff);
    jpeg_mem_src(&cinfo, jpeg, (unsigned long)size);
    assert_int_equal(jpeg_read_header(&cinfo, TRUE), JPEG_HEADER_OK);
    for (marker = cinfo.marker_list; marker != NULL; marker = marker->next) {
        if (marker->marker == JPEG_COM && marker->data_length == strlen("doorstep event ring 7") &&
            memcmp(marker->data, "doorstep event ring 7", marker->data_length) == 0)
            found = 1;
    }
    jpeg_destroy_decompress(&cinfo);
    free(jpeg);
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_commands),
        cmocka_unit_test(test_full_queue),
        cmocka_unit_test(test_label_in_jpeg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
