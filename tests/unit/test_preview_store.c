/*
 * test_preview_store.c - timeline previews on disk: the container format
 * (appliance/recording/preview_container.c) on memory buffers, cut at every
 * byte (a torn last record is ignored, whole ones before it kept), with
 * times going back or zeroed tails refused, the JPEG check; and the store
 * (preview_store.c) on a real SQLite file: a preview goes into the file of
 * the segment covering it, waits for a segment's row that is not there yet,
 * is found by time within the window and the segment, never without its
 * row, survives a torn tail and a reopen, and goes with remove and sweep.
 *
 * UNIT_SOURCES: appliance/recording/preview_container.c appliance/recording/preview_store.c
 * UNIT_SOURCES: appliance/recording/recording_store.c appliance/storage/database.c
 * UNIT_SOURCES: appliance/storage/database_reserve.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "recording/preview_container.h"
#include "recording/preview_store.h"
#include "recording/recording_store.h"
#include "storage/database.h"

#define T0 1800000000000LL /* a fixed capture time */

/* A memory "file" for the container's read callback. */
struct memory_file {
    const uint8_t *data;
    size_t size;
};

static long memory_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    const struct memory_file *file = context;
    if (offset >= file->size)
        return 0;
    if (size > file->size - offset)
        size = file->size - offset;
    memcpy(buffer, file->data + offset, size);
    return (long)size;
}

/* A real grey JPEG of width x height from libjpeg; caller frees. */
static uint8_t *make_jpeg(int width, int height, size_t *size_out)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    unsigned char *out = NULL;
    unsigned long size = 0;
    uint8_t *row = calloc((size_t)width, 1);

    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &out, &size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = {row};
        memset(row, (int)(cinfo.next_scanline * 7 % 256), (size_t)width);
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(row);
    *size_out = size;
    return out;
}

/* Append one record to buffer at *used. */
static void put_record(uint8_t *buffer, size_t *used, int64_t time, const uint8_t *jpeg,
                       size_t size)
{
    preview_record_header_encode(time, (uint32_t)size, buffer + *used);
    memcpy(buffer + *used + PREVIEW_RECORD_HEADER_SIZE, jpeg, size);
    *used += PREVIEW_RECORD_HEADER_SIZE + size;
}

static void test_container_torn_at_every_byte(void **state)
{
    size_t jpeg_size;
    uint8_t *jpeg = make_jpeg(32, 16, &jpeg_size);
    uint8_t buffer[8192];
    size_t used = PREVIEW_FILE_HEADER_SIZE, ends[3];
    struct preview_record record;
    (void)state;

    preview_file_header_encode(buffer);
    for (int i = 0; i < 3; i++) {
        put_record(buffer, &used, T0 + 2000 * i, jpeg, jpeg_size);
        ends[i] = used;
    }
    for (size_t cut = 0; cut <= used; cut++) {
        struct memory_file file = {buffer, cut};
        uint64_t end = 0;
        int whole = cut >= ends[2] ? 3 : cut >= ends[1] ? 2 : cut >= ends[0] ? 1 : 0;
        int count = preview_container_scan(memory_read, &file, cut, NULL, NULL, &end);
        if (cut < PREVIEW_FILE_HEADER_SIZE) {
            assert_int_equal(count, -1);
            continue;
        }
        assert_int_equal(count, whole);
        assert_int_equal(end, whole == 0 ? PREVIEW_FILE_HEADER_SIZE : ends[whole - 1]);
    }
    /* Find: the last at or before `to`, not before `from`. */
    struct memory_file file = {buffer, used};
    assert_int_equal(preview_container_find(memory_read, &file, used, T0, T0 + 3999, &record), 1);
    assert_int_equal(record.capture_ms, T0 + 2000);
    assert_int_equal(record.size, jpeg_size);
    assert_memory_equal(buffer + record.offset, jpeg, jpeg_size);
    assert_int_equal(
        preview_container_find(memory_read, &file, used, T0 + 4001, T0 + 9000, &record), 0);
    assert_int_equal(preview_container_find(memory_read, &file, used, T0 - 9000, T0 - 1, &record),
                     0);
    free(jpeg);
}

static void test_container_refuses_implausible_records(void **state)
{
    size_t jpeg_size;
    uint8_t *jpeg = make_jpeg(16, 16, &jpeg_size);
    uint8_t buffer[8192];
    size_t used = PREVIEW_FILE_HEADER_SIZE;
    (void)state;

    preview_file_header_encode(buffer);
    put_record(buffer, &used, T0, jpeg, jpeg_size);
    put_record(buffer, &used, T0 - 1, jpeg, jpeg_size); /* time goes back: the end */
    struct memory_file file = {buffer, used};
    assert_int_equal(preview_container_scan(memory_read, &file, used, NULL, NULL, NULL), 1);

    used = PREVIEW_FILE_HEADER_SIZE + PREVIEW_RECORD_HEADER_SIZE + jpeg_size;
    memset(buffer + used, 0, 64); /* a zeroed tail */
    file.size = used + 64;
    assert_int_equal(preview_container_scan(memory_read, &file, used + 64, NULL, NULL, NULL), 1);

    buffer[0] = 'X'; /* not ours */
    assert_int_equal(preview_container_scan(memory_read, &file, used, NULL, NULL, NULL), -1);
    free(jpeg);
}

static void test_jpeg_check(void **state)
{
    size_t size;
    uint8_t *jpeg = make_jpeg(64, 32, &size);
    char reason[96];
    (void)state;

    assert_int_equal(preview_jpeg_check(jpeg, size, reason, sizeof(reason)), 0);
    assert_int_equal(preview_jpeg_check(jpeg, size - 1, reason, sizeof(reason)), -1);
    assert_true(reason[0] != '\0');
    assert_int_equal(
        preview_jpeg_check((const uint8_t *)"\xff\xd8\xff\xd9", 4, reason, sizeof(reason)), -1);
    /* SOI and EOI around the first tables only: no image in between. */
    memcpy(jpeg + 20, "\xff\xd9", 2);
    assert_int_equal(preview_jpeg_check(jpeg, 22, reason, sizeof(reason)), -1);
    free(jpeg);
    jpeg = make_jpeg(PREVIEW_DIMENSION_MAX + 16, 16, &size);
    assert_int_equal(preview_jpeg_check(jpeg, size, reason, sizeof(reason)), -1);
    free(jpeg);
}

struct fixture {
    char directory[64];
    char database[128];
    sqlite3 *db;
};

static int setup(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));
    char error[256], path[128];

    snprintf(fixture->directory, sizeof(fixture->directory), "/tmp/doorstep-previews-XXXXXX");
    if (mkdtemp(fixture->directory) == NULL)
        return -1;
    snprintf(fixture->database, sizeof(fixture->database), "%s/doorstep.db", fixture->directory);
    if (database_open(fixture->database, &fixture->db, error, sizeof(error)) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/cam", fixture->directory);
    mkdir(path, 0700);
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;
    char command[256];

    database_close(fixture->db);
    snprintf(command, sizeof(command), "rm -rf '%s'", fixture->directory);
    if (system(command) != 0)
        return -1;
    free(fixture);
    return 0;
}

/* A segment row of "cam" (and an empty file for it); returns the row id. */
static int64_t add_segment(struct fixture *fixture, int64_t start, int64_t end, int open)
{
    struct recording_row row = {.start_ms = start, .end_ms = end, .bytes = 0};
    char absolute[512];
    int64_t id;
    FILE *file;

    snprintf(row.device_id, sizeof(row.device_id), "cam");
    snprintf(row.path, sizeof(row.path), "cam/%lld.mp4", (long long)start);
    snprintf(absolute, sizeof(absolute), "%s/%s", fixture->directory, row.path);
    file = fopen(absolute, "w");
    assert_non_null(file);
    fclose(file);
    assert_int_equal(recording_store_insert(fixture->db, &row, &id), 0);
    row.id = id;
    if (!open)
        assert_int_equal(recording_store_update(fixture->db, &row, 1), 0);
    return id;
}

/* recordings.preview_bytes of one segment's row. */
static int64_t preview_bytes_of(struct fixture *fixture, int64_t start)
{
    char sql[160];
    sqlite3_stmt *statement;
    int64_t bytes = -1;

    snprintf(sql, sizeof(sql), "SELECT preview_bytes FROM recordings WHERE path = 'cam/%lld.mp4'",
             (long long)start);
    assert_int_equal(sqlite3_prepare_v2(fixture->db, sql, -1, &statement, NULL), SQLITE_OK);
    if (sqlite3_step(statement) == SQLITE_ROW)
        bytes = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return bytes;
}

/* The size of one segment's previews file, or -1. */
static int64_t previews_file_size(struct fixture *fixture, int64_t start)
{
    char path[256];
    struct stat info;

    snprintf(path, sizeof(path), "%s/cam/%lld.previews", fixture->directory, (long long)start);
    return stat(path, &info) == 0 ? (int64_t)info.st_size : -1;
}

/* The capture time of the preview found for `at` in a 3 s window, or -1 for none. */
static int64_t found_at(struct fixture *fixture, int64_t at)
{
    struct preview_image image;
    int rc = preview_store_find(fixture->db, fixture->directory, "cam", at, 3000, &image);
    assert_true(rc >= 0);
    if (rc == 0)
        return -1;
    assert_int_equal(preview_jpeg_check(image.jpeg, image.size, NULL, 0), 0);
    free(image.jpeg);
    return image.capture_ms;
}

static void test_store_write_find_remove(void **state)
{
    struct fixture *fixture = *state;
    size_t size;
    uint8_t *jpeg = make_jpeg(64, 36, &size);
    char path[256];
    struct stat info;
    struct preview_writer *writer = preview_writer_create(fixture->directory, "cam");

    /* No segment yet: the preview waits, and goes in once the row exists. */
    assert_int_equal(preview_writer_add(writer, fixture->db, T0, jpeg, size, T0), 0);
    add_segment(fixture, T0, T0 + 4000, 0);
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 2000, jpeg, size, T0 + 2000), 1);
    /* Not a JPEG: dropped. */
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 2500, jpeg, size / 2, T0), 0);
    /* The next segment, still open. */
    add_segment(fixture, T0 + 4000, T0 + 6000, 1);
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 4000, jpeg, size, T0 + 4000), 1);
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 6000, jpeg, size, T0 + 6000), 1);

    assert_int_equal(found_at(fixture, T0), T0);
    assert_int_equal(found_at(fixture, T0 + 1999), T0);
    assert_int_equal(found_at(fixture, T0 + 3500), T0 + 2000);
    assert_int_equal(found_at(fixture, T0 + 4100), T0 + 4000);
    /* The open segment's durable end is T0 + 6000: its preview there is served. */
    assert_int_equal(found_at(fixture, T0 + 7000), T0 + 6000);
    assert_int_equal(found_at(fixture, T0 - 1), -1);
    assert_int_equal(found_at(fixture, T0 + 9100), -1); /* beyond the window */

    /* The storage budget counts previews: a closed file's size is in its
     * segment's row (the first when the writer moved on, the second now),
     * and the start-up sweep puts it there for files it finds. */
    assert_true(previews_file_size(fixture, T0) > 0);
    assert_int_equal(preview_bytes_of(fixture, T0), previews_file_size(fixture, T0));
    assert_int_equal(preview_bytes_of(fixture, T0 + 4000), 0); /* still being written */
    preview_writer_free(writer);
    assert_int_equal(preview_bytes_of(fixture, T0 + 4000), previews_file_size(fixture, T0 + 4000));
    assert_int_equal(
        sqlite3_exec(fixture->db, "UPDATE recordings SET preview_bytes = 0", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(preview_store_sweep(fixture->directory, fixture->db), 0);
    assert_int_equal(preview_bytes_of(fixture, T0), previews_file_size(fixture, T0));
    assert_int_equal(preview_bytes_of(fixture, T0 + 4000), previews_file_size(fixture, T0 + 4000));

    /* A torn tail on the first segment's file: read up to it, cut by the next writer. */
    snprintf(path, sizeof(path), "%s/cam/%lld.previews", fixture->directory, (long long)T0);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(truncate(path, info.st_size - 5), 0);
    assert_int_equal(found_at(fixture, T0 + 2999), T0);
    writer = preview_writer_create(fixture->directory, "cam");
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 3000, jpeg, size, T0 + 3000), 1);
    preview_writer_free(writer);
    assert_int_equal(found_at(fixture, T0 + 3500), T0 + 3000);

    /* Without its row, the segment's previews are not served; remove and sweep. */
    assert_int_equal(recording_store_delete(fixture->db, "cam/1800000000000.mp4"), 0);
    assert_int_equal(found_at(fixture, T0 + 3500), -1);
    assert_int_equal(preview_store_remove(fixture->directory, "cam/1800000000000.mp4"), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/cam/%lld.mp4", fixture->directory, (long long)(T0 + 4000));
    assert_int_equal(unlink(path), 0); /* a segment dropped elsewhere */
    assert_int_equal(preview_store_sweep(fixture->directory, fixture->db), 1);
    free(jpeg);
}

/* A preview outside any segment (events mode between clips) waits without
 * holding up newer ones; a record older than its file's last is refused. */
static void test_store_waiting_and_order(void **state)
{
    struct fixture *fixture = *state;
    size_t size;
    uint8_t *jpeg = make_jpeg(64, 36, &size);
    struct preview_writer *writer = preview_writer_create(fixture->directory, "cam");

    assert_int_equal(preview_writer_add(writer, fixture->db, T0, jpeg, size, T0), 0);
    add_segment(fixture, T0 + 5000, T0 + 9000, 1); /* a clip opens later */
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 6000, jpeg, size, T0 + 6000), 1);
    assert_int_equal(found_at(fixture, T0 + 6000), T0 + 6000);
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 5500, jpeg, size, T0 + 6100), 0);
    assert_int_equal(found_at(fixture, T0 + 5999), -1);
    /* The one outside any footage goes after its wait. */
    assert_int_equal(preview_writer_add(writer, fixture->db, T0 + 8000, jpeg, size, T0 + 20000), 1);
    assert_int_equal(found_at(fixture, T0 + 8000), T0 + 8000);
    preview_writer_free(writer);
    free(jpeg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_torn_at_every_byte),
        cmocka_unit_test(test_container_refuses_implausible_records),
        cmocka_unit_test(test_jpeg_check),
        cmocka_unit_test_setup_teardown(test_store_write_find_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_waiting_and_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
