/*
 * jpeg_fixture.c - JPEGs for the detection tests (see jpeg_fixture.h).
 * Single-threaded.
 */
#include "jpeg_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "media_judge.h"
#include "test_files.h"

/* See jpeg_fixture.h. */
uint8_t *jpeg_fixture_make(int width, int height, int components, int progressive, size_t *size_out)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    unsigned char *output = NULL;
    unsigned long output_size = 0;
    JSAMPLE *row = malloc((size_t)width * (size_t)components);

    assert_non_null(row);
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &output, &output_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 85, TRUE);
    if (progressive)
        jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        int y = (int)cinfo.next_scanline;
        for (int x = 0; x < width; x++)
            for (int c = 0; c < components; c++)
                row[x * components + c] = (JSAMPLE)(x * 160 / width + y * 40 / height + c * 20);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(row);
    *size_out = (size_t)output_size;
    return output;
}

/* See jpeg_fixture.h. */
size_t jpeg_fixture_sof_size_offset(const uint8_t *jpeg, size_t size)
{
    for (size_t i = 2; i + 9 < size; i++)
        if (jpeg[i] == 0xff && (jpeg[i + 1] == 0xc0 || jpeg[i + 1] == 0xc2))
            return i + 5; /* marker, length (2), precision (1) */
    fail_msg("no SOF marker in the JPEG");
    return 0;
}

/* See jpeg_fixture.h. */
void jpeg_fixture_extract_every(const char *video, int step, int count, const char *directory)
{
    char filter[64], frames[16], path[512];
    assert_true((size_t)snprintf(filter, sizeof(filter), "select=not(mod(n\\,%d))", step) <
                sizeof(filter));
    assert_true((size_t)snprintf(frames, sizeof(frames), "%d", count) < sizeof(frames));
    assert_true((size_t)snprintf(path, sizeof(path), "%s/f%%04d.jpg", directory) < sizeof(path));
    char *argv[] = {"ffmpeg",      "-nostdin", "-v",   "error",         "-y", "-i",
                    (char *)video, "-vf",      filter, "-vsync",        "0",  "-frames:v",
                    frames,        "-q:v",     "3",    "-start_number", "0",  path,
                    NULL};
    free(media_judge_run(directory, argv));
}

/* See jpeg_fixture.h. */
uint8_t *jpeg_fixture_read_sample(const char *directory, int index, size_t *size_out)
{
    char path[512];
    assert_true((size_t)snprintf(path, sizeof(path), "%s/f%04d.jpg", directory, index) <
                sizeof(path));
    return test_read_file(path, size_out);
}
