/*
 * fuzz_preview.c - libFuzzer harness for what the hub reads of timeline
 * previews: the previews file format (appliance/recording/preview_container.c),
 * fed what a crash or a damaged disk could leave, and the JPEG check every
 * PREVIEW message's payload goes through before it is stored, reached the
 * way the link delivers it (encoded and decoded as a PREVIEW message).
 *
 * Invariants: the scan never reads outside the file; every record it visits
 * lies inside the file after the previous one, with a size in range and a
 * time not before the previous one; valid_end is the end of the last whole
 * record; scanning the prefix [0, valid_end) finds the same records (what a
 * writer keeps when it cuts a torn tail); find returns the last record in
 * its window. A JPEG the check accepts starts with SOI and ends with EOI.
 *
 * Runs on libFuzzer's single thread; everything allocated per input is freed
 * before returning. Built from common/ (always linked) and:
 * FUZZ_SOURCES: appliance/recording/preview_container.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/link_protocol.h"
#include "recording/preview_container.h"

#define FUZZ_MAX_RECORDS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fuzz_file {
    const uint8_t *data;
    size_t size;
};

/* The read callback over the input; reading past the end is a finding. */
static long fuzz_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct fuzz_file *file = context;
    FUZZ_CHECK(offset <= file->size);
    if (size > file->size - offset)
        size = file->size - (size_t)offset;
    memcpy(buffer, file->data + offset, size);
    return (long)size;
}

struct fuzz_walk {
    uint64_t file_size, previous_end;
    int64_t previous_time;
    int count;
    struct preview_record records[FUZZ_MAX_RECORDS];
};

/* scan callback: check each record against the previous one, keep it. */
static int fuzz_visit(const struct preview_record *record, void *data)
{
    struct fuzz_walk *walk = data;
    FUZZ_CHECK(record->size >= 1 && record->size <= PREVIEW_JPEG_MAX);
    FUZZ_CHECK(record->offset == walk->previous_end + PREVIEW_RECORD_HEADER_SIZE);
    FUZZ_CHECK(record->offset + record->size <= walk->file_size);
    FUZZ_CHECK(walk->count == 0 || record->capture_ms >= walk->previous_time);
    walk->previous_end = record->offset + record->size;
    walk->previous_time = record->capture_ms;
    if (walk->count < FUZZ_MAX_RECORDS)
        walk->records[walk->count] = *record;
    walk->count++;
    return 0;
}

/* The file format: scan, repair idempotence, find. */
static void fuzz_container(const uint8_t *data, size_t size)
{
    static struct fuzz_walk walk, again;
    struct fuzz_file file = {data, size};
    struct preview_record found;
    uint64_t valid_end = 0, valid_again = 0;
    int count;

    memset(&walk, 0, sizeof(walk));
    walk.file_size = size;
    walk.previous_end = PREVIEW_FILE_HEADER_SIZE;
    count = preview_container_scan(fuzz_read, &file, size, fuzz_visit, &walk, &valid_end);
    if (count < 0)
        return;
    FUZZ_CHECK(count == walk.count);
    FUZZ_CHECK(valid_end == walk.previous_end && valid_end <= size);

    memset(&again, 0, sizeof(again));
    again.file_size = valid_end;
    again.previous_end = PREVIEW_FILE_HEADER_SIZE;
    file.size = (size_t)valid_end;
    FUZZ_CHECK(preview_container_scan(fuzz_read, &file, valid_end, fuzz_visit, &again,
                                      &valid_again) == count);
    FUZZ_CHECK(valid_again == valid_end);
    file.size = size;

    if (count > 0 && count <= FUZZ_MAX_RECORDS) {
        const struct preview_record *last = &walk.records[count - 1];
        FUZZ_CHECK(preview_container_find(fuzz_read, &file, size, INT64_MIN, INT64_MAX, &found) ==
                   1);
        FUZZ_CHECK(found.offset == last->offset && found.capture_ms == last->capture_ms);
        FUZZ_CHECK(preview_container_find(fuzz_read, &file, size, walk.records[0].capture_ms,
                                          walk.records[0].capture_ms, &found) == 1);
        FUZZ_CHECK(found.capture_ms == walk.records[0].capture_ms);
    }
}

/* The input as the payload of a PREVIEW message, then the JPEG check. */
static void fuzz_message(const uint8_t *data, size_t size)
{
    struct link_header header = {LINK_PROTOCOL_VERSION, LINK_PREVIEW, 0, 1, 1800000000000000ull};
    struct link_message message;
    size_t message_size = 0;
    char error[128];
    uint8_t *encoded = link_message_encode(&header, data, size, 0, &message_size);

    if (encoded == NULL) {
        FUZZ_CHECK(size == 0 || size + LINK_HEADER_SIZE > LINK_MAX_PREVIEW_SIZE);
        return;
    }
    if (link_message_decode(encoded, message_size, &message, error, sizeof(error)) == 0) {
        FUZZ_CHECK(message.payload_size == size);
        if (preview_jpeg_check(message.payload, message.payload_size, error, sizeof(error)) == 0)
            FUZZ_CHECK(size >= 4 && data[0] == 0xff && data[1] == 0xd8 && data[size - 1] == 0xd9);
        else
            FUZZ_CHECK(strnlen(error, sizeof(error)) > 0 && strnlen(error, sizeof(error)) < 128);
        link_message_clear(&message);
    } else {
        FUZZ_CHECK(size == 0);
    }
    free(encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_container(data, size);
    fuzz_message(data, size);
    if (size > PREVIEW_FILE_HEADER_SIZE + PREVIEW_RECORD_HEADER_SIZE)
        fuzz_message(data + PREVIEW_FILE_HEADER_SIZE + PREVIEW_RECORD_HEADER_SIZE,
                     size - PREVIEW_FILE_HEADER_SIZE - PREVIEW_RECORD_HEADER_SIZE);
    return 0;
}
