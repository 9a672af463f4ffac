/*
 * self_test.c - `doorbelld --self-test` (see self_test.h). Main thread only.
 *
 * Each check builds what it needs, judges the result against a fixed
 * expectation and frees everything before the next one starts, so one
 * failing check never hides the others. The vectors of the link check were
 * computed independently (the header layout of docs/protocol.md written out
 * by hand, the MAC with Python's hmac module), not by this code.
 */
#define LOG_MODULE "selftest"

#include "selftest/self_test.h"

#include <fcntl.h>
#include <glob.h>
#include <linux/videodev2.h>
#include <math.h>
#include <opus/opus.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jpeglib.h>

#include "camera/camera.h"
#include "camera/frame_stamp.h"
#include "common/error_text.h"
#include "common/link_protocol.h"
#include "encoder/encoder.h"
#include "snapshot/snapshot.h"

#define SELF_TEST_WIDTH    640
#define SELF_TEST_HEIGHT   360
#define SELF_TEST_FPS      10
#define SELF_TEST_RATE     48000
#define SELF_TEST_FRAME    960 /* 20 ms */
#define SELF_TEST_TONE_HZ  1000.0
#define SELF_TEST_REASON   256
#define SELF_TEST_V4L2_MAX 8

/* One check: 0 and a short summary in detail, or -1 and the reason. */
typedef int (*self_test_check)(char *detail, size_t detail_size);

/* ---- camera back-ends ---------------------------------------------------- */

/* The back-ends built in, and the V4L2 capture devices present now. */
static int self_test_cameras(char *detail, size_t detail_size)
{
    glob_t found;
    int devices = 0;
    size_t used;

    used = (size_t)snprintf(detail, detail_size, "sim, file (y4m), v4l2:");
    if (glob("/dev/video*", 0, NULL, &found) == 0) {
        for (size_t i = 0; i < found.gl_pathc && devices < SELF_TEST_V4L2_MAX; i++) {
            struct v4l2_capability capability;
            int fd = open(found.gl_pathv[i], O_RDWR | O_NONBLOCK);
            if (fd < 0)
                continue;
            memset(&capability, 0, sizeof(capability));
            if (ioctl(fd, VIDIOC_QUERYCAP, &capability) == 0) {
                uint32_t caps = (capability.capabilities & V4L2_CAP_DEVICE_CAPS)
                                    ? capability.device_caps
                                    : capability.capabilities;
                if ((caps & V4L2_CAP_VIDEO_CAPTURE) && used < detail_size) {
                    used += (size_t)snprintf(detail + used, detail_size - used, " %s (%.32s)",
                                             found.gl_pathv[i], (const char *)capability.card);
                    devices++;
                }
            }
            close(fd);
        }
        globfree(&found);
    }
    if (devices == 0 && used < detail_size)
        snprintf(detail + used, detail_size - used, " no capture device present");
    return 0;
}

/* ---- simulated camera and frame stamps ----------------------------------- */

/* Open the simulated camera unpaced (the caller closes it). */
static struct camera *self_test_open_camera(char *detail, size_t detail_size)
{
    struct camera_config config = {.source = "sim",
                                   .width = SELF_TEST_WIDTH,
                                   .height = SELF_TEST_HEIGHT,
                                   .fps = SELF_TEST_FPS,
                                   .seed = 1,
                                   .unpaced = 1};
    return camera_open(&config, detail, detail_size);
}

/* Three frames of the simulated camera, each with its stamp read back. */
static int self_test_sim_camera(char *detail, size_t detail_size)
{
    struct camera *camera = self_test_open_camera(detail, detail_size);
    int rc = -1;

    if (camera == NULL)
        return -1;
    for (int i = 0; i < 3; i++) {
        struct camera_frame frame;
        uint64_t stamp_ms = 0;
        uint16_t sequence = 0;
        if (camera_capture(camera, &frame) != 0) {
            error_text_set(detail, detail_size, "frame %d: capture failed", i);
            goto out;
        }
        if (frame_stamp_read(frame.y, frame.stride_y, &stamp_ms, &sequence) != 0 ||
            stamp_ms != frame.capture_time_us / 1000 || sequence != (uint16_t)frame.sequence) {
            error_text_set(detail, detail_size, "frame %d: the stamp does not read back", i);
            goto out;
        }
    }
    error_text_set(detail, detail_size, "3 frames %dx%d, stamps read back", SELF_TEST_WIDTH,
                   SELF_TEST_HEIGHT);
    rc = 0;
out:
    camera_close(camera);
    return rc;
}

/* ---- x264 ------------------------------------------------------------------ */

/* Bit mask of the NAL unit types (1 << type) in an Annex B access unit. */
static unsigned int self_test_nal_types(const uint8_t *data, size_t size)
{
    unsigned int types = 0;
    for (size_t i = 0; i + 3 < size; i++)
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
            types |= 1u << (data[i + 3] & 0x1f);
            i += 2;
        }
    return types;
}

/* Encode four frames: the first an IDR with SPS and PPS, then P slices. */
static int self_test_x264(char *detail, size_t detail_size)
{
    struct encoder_config config = {.width = SELF_TEST_WIDTH,
                                    .height = SELF_TEST_HEIGHT,
                                    .fps = SELF_TEST_FPS,
                                    .bitrate_kbps = 500,
                                    .keyframe_interval = 30,
                                    .preset = "ultrafast"};
    struct camera *camera = self_test_open_camera(detail, detail_size);
    struct encoder *encoder = NULL;
    size_t bytes = 0;
    int rc = -1;

    if (camera == NULL)
        return -1;
    encoder = encoder_open(&config, detail, detail_size);
    if (encoder == NULL)
        goto out;
    for (int i = 0; i < 4; i++) {
        struct camera_frame frame;
        struct encoded_frame encoded;
        if (camera_capture(camera, &frame) != 0 || encoder_encode(encoder, &frame, &encoded) != 0) {
            error_text_set(detail, detail_size, "frame %d: capture or encode failed", i);
            goto out;
        }
        unsigned int types = self_test_nal_types(encoded.data, encoded.size);
        unsigned int wanted = i == 0 ? (1u << 5) | (1u << 7) | (1u << 8) : 1u << 1;
        if ((types & wanted) != wanted || (i == 0) != (encoded.keyframe != 0)) {
            error_text_set(detail, detail_size, "frame %d: NAL types 0x%x, keyframe %d", i, types,
                           encoded.keyframe);
            goto out;
        }
        bytes += encoded.size;
    }
    error_text_set(detail, detail_size, "IDR with SPS/PPS then P slices, %zu bytes", bytes);
    rc = 0;
out:
    encoder_close(encoder);
    camera_close(camera);
    return rc;
}

/* ---- Opus ------------------------------------------------------------------ */

/* Goertzel power of frequency over samples. */
static double self_test_power(const float *samples, size_t count, double frequency)
{
    double coefficient = 2.0 * cos(2.0 * M_PI * frequency / SELF_TEST_RATE);
    double previous = 0.0, before = 0.0;
    for (size_t i = 0; i < count; i++) {
        double value = samples[i] + coefficient * previous - before;
        before = previous;
        previous = value;
    }
    return previous * previous + before * before - coefficient * previous * before;
}

/* A 1 kHz tone through libopus and back: still 1 kHz, as loud, nothing else. */
static int self_test_opus(char *detail, size_t detail_size)
{
    enum { FRAMES = 25, SKIP = 5 };
    int error = 0, rc = -1;
    OpusEncoder *encoder = opus_encoder_create(SELF_TEST_RATE, 1, OPUS_APPLICATION_VOIP, &error);
    OpusDecoder *decoder = opus_decoder_create(SELF_TEST_RATE, 1, &error);
    float *input = calloc(SELF_TEST_FRAME, sizeof(*input));
    float *output = calloc((size_t)SELF_TEST_FRAME * (FRAMES - SKIP), sizeof(*output));
    unsigned char packet[1275];
    double input_energy = 0.0, output_energy = 0.0;

    if (encoder == NULL || decoder == NULL || input == NULL || output == NULL) {
        error_text_set(detail, detail_size, "cannot create the codec: %s", opus_strerror(error));
        goto out;
    }
    for (int frame = 0; frame < FRAMES; frame++) {
        float decoded[SELF_TEST_FRAME];
        for (int i = 0; i < SELF_TEST_FRAME; i++) {
            size_t n = (size_t)frame * SELF_TEST_FRAME + (size_t)i;
            input[i] =
                0.3f * (float)sin(2.0 * M_PI * SELF_TEST_TONE_HZ * (double)n / SELF_TEST_RATE);
        }
        int size = opus_encode_float(encoder, input, SELF_TEST_FRAME, packet, sizeof(packet));
        int samples =
            size > 0 ? opus_decode_float(decoder, packet, size, decoded, SELF_TEST_FRAME, 0) : -1;
        if (samples != SELF_TEST_FRAME) {
            error_text_set(detail, detail_size, "frame %d: encode %d, decode %d", frame, size,
                           samples);
            goto out;
        }
        if (frame < SKIP) /* the codec's start-up */
            continue;
        memcpy(output + (size_t)(frame - SKIP) * SELF_TEST_FRAME, decoded, sizeof(decoded));
        for (int i = 0; i < SELF_TEST_FRAME; i++) {
            input_energy += (double)input[i] * input[i];
            output_energy += (double)decoded[i] * decoded[i];
        }
    }
    size_t count = (size_t)SELF_TEST_FRAME * (FRAMES - SKIP);
    double tone = self_test_power(output, count, SELF_TEST_TONE_HZ);
    double other = self_test_power(output, count, 700.0) + self_test_power(output, count, 1500.0);
    double level_db = 10.0 * log10((output_energy + 1e-12) / (input_energy + 1e-12));
    if (tone < 100.0 * (other + 1e-12) || fabs(level_db) > 3.0) {
        error_text_set(detail, detail_size,
                       "the tone came back %.1f dB over other bands, level %+.1f dB",
                       10.0 * log10(tone / (other + 1e-12)), level_db);
        goto out;
    }
    error_text_set(detail, detail_size, "1 kHz round trip, level %+.1f dB, %s", level_db,
                   opus_get_version_string());
    rc = 0;
out:
    free(output);
    free(input);
    if (decoder != NULL)
        opus_decoder_destroy(decoder);
    if (encoder != NULL)
        opus_encoder_destroy(encoder);
    return rc;
}

/* ---- JPEG ------------------------------------------------------------------ */

/* libjpeg's error manager with a way back: error_exit longjmps to the
 * decoder's setjmp instead of ending the process. */
struct self_test_jpeg_errors {
    struct jpeg_error_mgr base;
    jmp_buf escape;
};

static void self_test_jpeg_error_exit(j_common_ptr info)
{
    struct self_test_jpeg_errors *errors = (struct self_test_jpeg_errors *)info->err;
    longjmp(errors->escape, 1);
}

/* Decode jpeg as greyscale into a new buffer (caller frees); NULL on error. */
static uint8_t *self_test_decode_jpeg(const uint8_t *jpeg, size_t size, int *width, int *height)
{
    struct jpeg_decompress_struct decoder;
    struct self_test_jpeg_errors errors;
    uint8_t *volatile pixels = NULL;

    decoder.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = self_test_jpeg_error_exit;
    if (setjmp(errors.escape) != 0) {
        jpeg_destroy_decompress(&decoder);
        free(pixels);
        return NULL;
    }
    jpeg_create_decompress(&decoder);
    jpeg_mem_src(&decoder, jpeg, (unsigned long)size);
    if (jpeg_read_header(&decoder, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&decoder);
        return NULL;
    }
    decoder.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&decoder);
    *width = (int)decoder.output_width;
    *height = (int)decoder.output_height;
    pixels = malloc((size_t)*width * (size_t)*height);
    if (pixels != NULL) {
        while (decoder.output_scanline < decoder.output_height) {
            JSAMPROW row = pixels + (size_t)decoder.output_scanline * (size_t)*width;
            jpeg_read_scanlines(&decoder, &row, 1);
        }
        jpeg_finish_decompress(&decoder);
    }
    jpeg_destroy_decompress(&decoder);
    return pixels;
}

/* A snapshot of a simulated frame decodes to the same size and picture. */
static int self_test_jpeg(char *detail, size_t detail_size)
{
    struct camera *camera = self_test_open_camera(detail, detail_size);
    struct camera_frame frame;
    uint8_t *jpeg = NULL, *pixels = NULL;
    size_t size = 0;
    int width = 0, height = 0, rc = -1;

    if (camera == NULL)
        return -1;
    if (camera_capture(camera, &frame) != 0 ||
        snapshot_encode_jpeg(&frame, 85, 0, &jpeg, &size, detail, detail_size) != 0)
        goto out;
    pixels = self_test_decode_jpeg(jpeg, size, &width, &height);
    if (pixels == NULL || width != frame.width || height != frame.height) {
        error_text_set(detail, detail_size, "the JPEG decodes to %dx%d, not %dx%d", width, height,
                       frame.width, frame.height);
        goto out;
    }
    double squared = 0.0;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            double delta = (double)pixels[(size_t)y * (size_t)width + (size_t)x] -
                           frame.y[(size_t)y * (size_t)frame.stride_y + (size_t)x];
            squared += delta * delta;
        }
    /* Quality 85 on the simulated scene's fine texture and noise gives about
     * 30 dB; a picture decoded wrong (shifted, another frame) gives 10-15. */
    double psnr = 10.0 * log10(255.0 * 255.0 / (squared / ((double)width * height) + 1e-9));
    if (psnr < 25.0) {
        error_text_set(detail, detail_size, "the decoded picture is %.1f dB PSNR from the frame",
                       psnr);
        goto out;
    }
    error_text_set(detail, detail_size, "%zu bytes, decodes to %dx%d at %.1f dB PSNR", size, width,
                   height, psnr);
    rc = 0;
out:
    free(pixels);
    free(jpeg);
    camera_close(camera);
    return rc;
}

/* ---- device link ------------------------------------------------------------- */

/* The header in network byte order, a JSON message decoded back, and the
 * authentication MAC, each against a fixed vector. */
static int self_test_link(char *detail, size_t detail_size)
{
    static const uint8_t header_vector[LINK_HEADER_SIZE] = {0x01, 0x10, 0x00, 0x01, 0x01, 0x02,
                                                            0x03, 0x04, 0x01, 0x02, 0x03, 0x04,
                                                            0x05, 0x06, 0x07, 0x08};
    static const char mac_vector[] =
        "ccc31f2d51c2d4e6123874b55b34bae329d92db06ec9108c910e2a2961c19b4c";
    struct link_header header = {.version = LINK_PROTOCOL_VERSION,
                                 .type = LINK_VIDEO,
                                 .flags = LINK_FLAG_KEYFRAME,
                                 .sequence = 0x01020304u,
                                 .timestamp_us = 0x0102030405060708ull};
    uint8_t encoded[LINK_HEADER_SIZE], secret[LINK_SECRET_SIZE], nonce[LINK_NONCE_SIZE];
    uint8_t mac[LINK_MAC_SIZE];
    char mac_text[2 * LINK_MAC_SIZE + 1], reason[SELF_TEST_REASON];
    struct link_message message;
    struct link_hello hello = {.protocol = LINK_PROTOCOL_VERSION,
                               .width = 1280,
                               .height = 720,
                               .fps = 30,
                               .audio_channels = 1,
                               .event_snapshots = 1};
    struct link_hello decoded;
    uint8_t *bytes = NULL;
    size_t size = 0;
    cJSON *json = NULL;
    int rc = -1;

    link_header_encode(&header, encoded);
    if (memcmp(encoded, header_vector, sizeof(encoded)) != 0) {
        error_text_set(detail, detail_size, "the header is not in network byte order");
        return -1;
    }

    snprintf(hello.device_id, sizeof(hello.device_id), "front-door");
    snprintf(hello.firmware, sizeof(hello.firmware), "self-test");
    json = link_build_hello(&hello);
    bytes = json != NULL ? link_message_encode_json(LINK_HELLO, 7, 1234567, json, 0, &size) : NULL;
    memset(&message, 0, sizeof(message));
    if (bytes == NULL || link_message_decode(bytes, size, &message, reason, sizeof(reason)) != 0 ||
        link_parse_hello(message.json, &decoded, reason, sizeof(reason)) != 0) {
        error_text_set(detail, detail_size, "hello does not decode: %s", bytes ? reason : "");
        goto out;
    }
    if (message.header.sequence != 7 || message.header.timestamp_us != 1234567 ||
        strcmp(decoded.device_id, "front-door") != 0 || decoded.width != 1280 ||
        decoded.audio_channels != 1) {
        error_text_set(detail, detail_size, "hello decodes to other values");
        goto out;
    }

    for (int i = 0; i < LINK_SECRET_SIZE; i++)
        secret[i] = (uint8_t)i;
    for (int i = 0; i < LINK_NONCE_SIZE; i++)
        nonce[i] = (uint8_t)(32 + i);
    if (link_auth_compute_mac(secret, nonce, "front-door", mac) != 0) {
        error_text_set(detail, detail_size, "HMAC-SHA256 failed");
        goto out;
    }
    link_hex_encode(mac, sizeof(mac), mac_text);
    if (strcmp(mac_text, mac_vector) != 0) {
        error_text_set(detail, detail_size, "the authentication MAC is not the vector's");
        goto out;
    }
    error_text_set(detail, detail_size, "header, hello and MAC vectors");
    rc = 0;
out:
    link_message_clear(&message);
    free(bytes);
    cJSON_Delete(json);
    return rc;
}

/* See self_test.h. */
int self_test_run(FILE *out)
{
    static const struct {
        const char *name;
        self_test_check check;
    } checks[] = {
        {"camera back-ends", self_test_cameras},
        {"sim camera", self_test_sim_camera},
        {"x264", self_test_x264},
        {"opus", self_test_opus},
        {"jpeg", self_test_jpeg},
        {"link", self_test_link},
    };
    int failed = 0;

    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        char detail[SELF_TEST_REASON] = "";
        int rc = checks[i].check(detail, sizeof(detail));
        fprintf(out, "self-test: %s: %s%s%s\n", checks[i].name,
                rc == 0 ? "ok (" : "FAILED: ", detail, rc == 0 ? ")" : "");
        fflush(out);
        failed += rc != 0;
    }
    fprintf(out, "self-test: %s (%d of %zu checks failed)\n", failed ? "FAILED" : "passed", failed,
            sizeof(checks) / sizeof(checks[0]));
    return failed ? 1 : 0;
}
