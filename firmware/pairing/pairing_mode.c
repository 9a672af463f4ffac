/*
 * pairing_mode.c - when the doorbell accepts a pairing attempt (see
 * pairing_mode.h). Pure: no clock of its own, no I/O; the caller's lock.
 */
#include "pairing/pairing_mode.h"

#include <string.h>

/* Open the window from now with a fresh count. */
static void pairing_mode_open(struct pairing_mode *mode, int64_t now_ms)
{
    mode->open = true;
    mode->closes_at_ms = now_ms + PAIRING_MODE_WINDOW_MS;
    mode->wrong_codes = 0;
}

void pairing_mode_init(struct pairing_mode *mode, bool paired, int64_t now_ms)
{
    memset(mode, 0, sizeof(*mode));
    mode->paired = paired;
    if (!paired)
        pairing_mode_open(mode, now_ms);
}

bool pairing_mode_is_open(struct pairing_mode *mode, int64_t now_ms)
{
    if (mode->open &&
        (now_ms >= mode->closes_at_ms || mode->wrong_codes >= PAIRING_MODE_WRONG_CODES_MAX))
        mode->open = false;
    return mode->open;
}

int64_t pairing_mode_remaining_ms(struct pairing_mode *mode, int64_t now_ms)
{
    return pairing_mode_is_open(mode, now_ms) ? mode->closes_at_ms - now_ms : 0;
}

enum pairing_hold_action pairing_mode_hold(struct pairing_mode *mode, int seconds, int64_t now_ms)
{
    if (seconds >= PAIRING_HOLD_RESET_S) {
        pairing_mode_init(mode, false, now_ms);
        return PAIRING_HOLD_RESET;
    }
    if (seconds >= PAIRING_HOLD_OPEN_S) {
        pairing_mode_open(mode, now_ms);
        return PAIRING_HOLD_OPEN;
    }
    return PAIRING_HOLD_NOTHING;
}

int pairing_mode_wrong_code(struct pairing_mode *mode, int64_t now_ms)
{
    if (pairing_mode_is_open(mode, now_ms))
        mode->wrong_codes++;
    (void)pairing_mode_is_open(mode, now_ms);
    return mode->wrong_codes;
}

void pairing_mode_paired(struct pairing_mode *mode)
{
    mode->paired = true;
    mode->open = false;
    mode->wrong_codes = 0;
}
