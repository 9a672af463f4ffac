/*
 * pairing_mode.h - the doorbell's pairing mode as a pure state machine with
 * an injected clock (milliseconds on any monotonic scale): when the doorbell
 * accepts a pairing attempt.
 *
 *   - unpaired at start: open for PAIRING_MODE_WINDOW_MS;
 *   - `hold` of PAIRING_HOLD_OPEN_S..PAIRING_HOLD_RESET_S-1 seconds: open for
 *     PAIRING_MODE_WINDOW_MS from then, with a fresh count of wrong codes;
 *   - a hold of PAIRING_HOLD_RESET_S seconds or more: factory reset (the
 *     caller makes a new identity), then open as at a first start;
 *   - closes when the window ends, after PAIRING_MODE_WRONG_CODES_MAX wrong
 *     codes (only a new hold reopens it), or when pairing succeeded.
 *
 * Threads: none of its own; the owner (pairing.c) guards a struct
 * pairing_mode with its lock. Ownership: plain values, nothing allocated.
 */
#ifndef DOORSTEP_PAIRING_MODE_H
#define DOORSTEP_PAIRING_MODE_H

#include <stdbool.h>
#include <stdint.h>

#define PAIRING_MODE_WINDOW_MS       (10 * 60 * 1000)
#define PAIRING_MODE_WRONG_CODES_MAX 5
#define PAIRING_HOLD_OPEN_S          10
#define PAIRING_HOLD_RESET_S         30

enum pairing_hold_action {
    PAIRING_HOLD_NOTHING, /* too short to mean anything */
    PAIRING_HOLD_OPEN,    /* pairing mode opened for the window */
    PAIRING_HOLD_RESET,   /* factory reset: the caller renews the identity */
};

struct pairing_mode {
    bool paired;
    bool open;
    int64_t closes_at_ms;
    int wrong_codes;
};

/* Start: open for the window if unpaired, closed if paired. */
void pairing_mode_init(struct pairing_mode *mode, bool paired, int64_t now_ms);

/* True while attempts are accepted (open, window not over, fewer than the
 * maximum of wrong codes). Closes the mode for good once the window is over. */
bool pairing_mode_is_open(struct pairing_mode *mode, int64_t now_ms);

/* Milliseconds left in the window, 0 when closed. */
int64_t pairing_mode_remaining_ms(struct pairing_mode *mode, int64_t now_ms);

/* The button was held for seconds: what to do. Opens the mode (unpaired as
 * after a reset for PAIRING_HOLD_RESET). */
enum pairing_hold_action pairing_mode_hold(struct pairing_mode *mode, int seconds, int64_t now_ms);

/* A wrong code was tried; closes the mode at the maximum. Returns the wrong
 * codes counted since the mode opened. */
int pairing_mode_wrong_code(struct pairing_mode *mode, int64_t now_ms);

/* Pairing succeeded: paired, mode closed. */
void pairing_mode_paired(struct pairing_mode *mode);

#endif
