/*
 * self_test.h - `doorbelld --self-test`: checks that this build of the
 * firmware works on the machine it runs on, without a hub, a camera or a
 * sound card. It is what a freshly installed package (or a cross-built
 * binary under qemu) runs to say "the parts work here": the camera
 * back-ends it has (and the V4L2 devices present), the simulated camera and
 * its frame stamps, x264, libopus, libjpeg, and the device-link codec and
 * authentication against fixed vectors (so a byte-order or ABI mistake of a
 * cross build shows up as a wrong vector).
 *
 * Runs on the calling (main) thread; owns nothing after it returns.
 */
#ifndef DOORSTEP_SELF_TEST_H
#define DOORSTEP_SELF_TEST_H

#include <stdio.h>

/* Run every check, one line each ("self-test: NAME: ok (...)" or
 * "self-test: NAME: FAILED: reason") on out, then a summary line.
 * Returns 0 when every check passed, 1 otherwise. */
int self_test_run(FILE *out);

#endif
