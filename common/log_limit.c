/*
 * log_limit.c - the log's rate limit (see log_limit.h).
 *
 * A group is found by a 64-bit FNV-1a hash of level, module and text (digit
 * runs hashed as one '#'); a linear scan of 64 slots is cheaper than the
 * write(2) that follows it. Whoever calls holds the table's lock.
 */
#include "common/log_limit.h"

#include <stdio.h>
#include <string.h>

#define LOG_LIMIT_FNV_OFFSET 14695981039346656037ULL
#define LOG_LIMIT_FNV_PRIME  1099511628211ULL

/* Hash one byte into an FNV-1a state. */
static uint64_t log_limit_hash_byte(uint64_t hash, unsigned char byte)
{
    return (hash ^ byte) * LOG_LIMIT_FNV_PRIME;
}

/* The group key of a message (never 0, which marks a free slot). */
static uint64_t log_limit_key(int level, const char *module, const char *text)
{
    uint64_t hash = log_limit_hash_byte(LOG_LIMIT_FNV_OFFSET, (unsigned char)level);
    for (const char *c = module; *c != '\0'; c++)
        hash = log_limit_hash_byte(hash, (unsigned char)*c);
    hash = log_limit_hash_byte(hash, 0);
    for (const char *c = text; *c != '\0'; c++) {
        if (*c >= '0' && *c <= '9') {
            while (c[1] >= '0' && c[1] <= '9')
                c++;
            hash = log_limit_hash_byte(hash, '#');
            continue;
        }
        hash = log_limit_hash_byte(hash, (unsigned char)*c);
    }
    return hash != 0 ? hash : 1;
}

/* See log_limit.h. */
void log_limit_init(struct log_limit *limit, uint32_t burst, int64_t window_ms)
{
    memset(limit, 0, sizeof(*limit));
    limit->burst = burst != 0 ? burst : LOG_LIMIT_DEFAULT_BURST;
    limit->window_ms = window_ms > 0 ? window_ms : LOG_LIMIT_DEFAULT_WINDOW;
}

/* Sum a slot up into *summary and free it. */
static void log_limit_close(struct log_limit *limit, struct log_limit_slot *slot, int64_t now_ms,
                            struct log_limit_summary *summary)
{
    int64_t span = now_ms - slot->window_start_ms;
    summary->level = slot->level;
    memcpy(summary->module, slot->module, sizeof(summary->module));
    summary->suppressed = slot->suppressed;
    summary->window_ms = span < limit->window_ms ? span : limit->window_ms;
    memcpy(summary->text, slot->text, sizeof(summary->text));
    memset(slot, 0, sizeof(*slot));
}

/* See log_limit.h. */
size_t log_limit_expire(struct log_limit *limit, int64_t now_ms,
                        struct log_limit_summary *summaries, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < LOG_LIMIT_SLOTS; i++) {
        struct log_limit_slot *slot = &limit->slots[i];
        if (slot->key == 0 || now_ms - slot->window_start_ms < limit->window_ms)
            continue;
        if (slot->suppressed == 0) {
            memset(slot, 0, sizeof(*slot));
            continue;
        }
        if (count == max)
            continue; /* summed up next time */
        log_limit_close(limit, slot, now_ms, &summaries[count++]);
    }
    return count;
}

/* See log_limit.h. */
int log_limit_admit(struct log_limit *limit, int level, const char *module, const char *text,
                    int64_t now_ms, struct log_limit_summary *evicted, int *evicted_count)
{
    uint64_t key = log_limit_key(level, module, text);
    struct log_limit_slot *slot = NULL, *free_slot = NULL, *oldest = NULL;

    *evicted_count = 0;
    for (size_t i = 0; i < LOG_LIMIT_SLOTS; i++) {
        struct log_limit_slot *candidate = &limit->slots[i];
        if (candidate->key == key) {
            slot = candidate;
            break;
        }
        if (candidate->key == 0) {
            if (free_slot == NULL)
                free_slot = candidate;
        } else if (oldest == NULL || candidate->window_start_ms < oldest->window_start_ms) {
            oldest = candidate;
        }
    }
    if (slot != NULL && now_ms - slot->window_start_ms >= limit->window_ms) {
        /* Its window is over (the caller did not expire first): sum up, restart. */
        if (slot->suppressed > 0) {
            log_limit_close(limit, slot, now_ms, evicted);
            *evicted_count = 1;
        } else {
            memset(slot, 0, sizeof(*slot));
        }
        free_slot = slot;
        slot = NULL;
    }
    if (slot == NULL) {
        if (free_slot == NULL) {
            if (oldest->suppressed > 0) {
                log_limit_close(limit, oldest, now_ms, evicted);
                *evicted_count = 1;
            }
            free_slot = oldest;
        }
        slot = free_slot;
        memset(slot, 0, sizeof(*slot));
        slot->key = key;
        slot->level = level;
        snprintf(slot->module, sizeof(slot->module), "%s", module);
        slot->window_start_ms = now_ms;
    }
    if (slot->printed < limit->burst) {
        slot->printed++;
        return 1;
    }
    slot->suppressed++;
    snprintf(slot->text, sizeof(slot->text), "%s", text);
    return 0;
}
