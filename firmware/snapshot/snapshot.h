/*
 * snapshot.h - JPEG snapshots of camera frames with libjpeg-turbo (raw YUV
 * 4:2:0 input, so no colour conversion). Pure function; any thread.
 */
#ifndef DOORSTEP_SNAPSHOT_H
#define DOORSTEP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "camera/camera.h"

/*
 * Encode frame as a baseline JPEG at `quality` (1..100). If max_width > 0 and
 * the frame is wider, it is downscaled by an integer factor first. On success
 * returns 0 and a malloc'd buffer in *jpeg_out (caller frees); -1 with reason.
 */
int snapshot_encode_jpeg(const struct camera_frame *frame, int quality, int max_width,
                         uint8_t **jpeg_out, size_t *size_out, char *error, size_t error_size);

#define SNAPSHOT_LABEL_MAX 64 /* longer labels are cut */

/*
 * As snapshot_encode_jpeg, with `label` (NULL for none) written as a JPEG
 * comment (COM marker) after the JFIF header: the doorbell names the event a
 * picture was taken for ("doorstep event ring 17"), so the picture says so
 * wherever it ends up.
 */
int snapshot_encode_labelled_jpeg(const struct camera_frame *frame, int quality, int max_width,
                                  const char *label, uint8_t **jpeg_out, size_t *size_out,
                                  char *error, size_t error_size);

#endif
