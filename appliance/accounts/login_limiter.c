/*
 * login_limiter.c - bounded, in-memory login failure counting with attempts
 * reserved before hashing (see login_limiter.h).
 *
 * Called from HTTP handler threads. Owns login_limiter_table, a fixed array
 * of LOGIN_LIMITER_SLOTS entries; login_limiter_mutex protects every entry
 * and is held for the whole of each public call (a scan of the table takes
 * microseconds, far less than the argon2 verification it guards, which runs
 * outside the lock between login_limiter_begin() and the settling call).
 */
#define LOG_MODULE "accounts"

#include "accounts/login_limiter.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mutex.h"

/* A pair key is "username\naddress"; an address never holds a newline. */
#define LOGIN_LIMITER_KEY_MAX (2 * LOGIN_LIMITER_NAME_MAX + 1)

enum login_limiter_kind {
    LOGIN_LIMITER_FREE = 0,
    LOGIN_LIMITER_PAIR = 1,
    LOGIN_LIMITER_ADDRESS = 2,
    LOGIN_LIMITER_ACCOUNT = 3,
    LOGIN_LIMITER_KINDS = 4,
};

struct login_limiter_entry {
    uint64_t hash;                       /* of kind and key, to skip mismatches fast */
    enum login_limiter_kind kind;        /* LOGIN_LIMITER_FREE = unused slot */
    char key[LOGIN_LIMITER_KEY_MAX + 1]; /* see login_limiter_make_key() */
    uint32_t failures;                   /* in the current window */
    uint32_t lockouts;                   /* pairs: since the key was last forgiven */
    uint32_t reserved;                   /* attempts begun and not yet settled */
    int64_t window_start_ms;             /* first failure of the window */
    int64_t last_failure_ms;
    int64_t locked_until_ms; /* attempts refused before this */
    int64_t last_used_ms;    /* for least-recently-used reuse */
};

static pthread_mutex_t login_limiter_mutex = MUTEX_INITIALIZER;
static struct login_limiter_entry login_limiter_table[LOGIN_LIMITER_SLOTS];

/* Failures allowed in a window, and the window, per kind. */
static uint32_t login_limiter_threshold(enum login_limiter_kind kind)
{
    return kind == LOGIN_LIMITER_PAIR      ? LOGIN_LIMITER_PAIR_THRESHOLD
           : kind == LOGIN_LIMITER_ADDRESS ? LOGIN_LIMITER_ADDRESS_THRESHOLD
                                           : LOGIN_LIMITER_ACCOUNT_THRESHOLD;
}

static int64_t login_limiter_window(enum login_limiter_kind kind)
{
    return kind == LOGIN_LIMITER_PAIR ? LOGIN_LIMITER_PAIR_WINDOW_MS : LOGIN_LIMITER_HOUR_MS;
}

/* Copy text cut to LOGIN_LIMITER_NAME_MAX bytes into out, lower-cased if
 * lower (usernames, like SQLite's NOCASE on users.username). False for NULL
 * or "". */
static bool login_limiter_copy_name(const char *text, bool lower,
                                    char out[LOGIN_LIMITER_NAME_MAX + 1])
{
    size_t length;

    if (text == NULL || text[0] == '\0')
        return false;
    length = strnlen(text, LOGIN_LIMITER_NAME_MAX);
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
    }
    out[length] = '\0';
    return true;
}

/* The key of kind for an attempt into key; false when the attempt has no
 * such counter (no address, no username, or a known device's account). */
static bool login_limiter_make_key(enum login_limiter_kind kind,
                                   const struct login_limiter_attempt *attempt,
                                   char key[LOGIN_LIMITER_KEY_MAX + 1])
{
    bool has_address = attempt->address[0] != '\0';
    bool has_username = attempt->username[0] != '\0';

    switch (kind) {
    case LOGIN_LIMITER_PAIR:
        if (!has_address || !has_username)
            return false;
        snprintf(key, LOGIN_LIMITER_KEY_MAX + 1, "%s\n%s", attempt->username, attempt->address);
        return true;
    case LOGIN_LIMITER_ADDRESS:
        if (!has_address)
            return false;
        memcpy(key, attempt->address, strlen(attempt->address) + 1);
        return true;
    case LOGIN_LIMITER_ACCOUNT:
        if (!has_username || attempt->known_device)
            return false;
        memcpy(key, attempt->username, strlen(attempt->username) + 1);
        return true;
    default:
        return false;
    }
}

/* FNV-1a over the kind and the key. */
static uint64_t login_limiter_hash(enum login_limiter_kind kind, const char *key)
{
    uint64_t hash = 14695981039346656037ULL;

    hash = (hash ^ (uint64_t)kind) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        hash = (hash ^ *p) * 1099511628211ULL;
    return hash;
}

/* The entry for kind/key, or NULL. Caller holds login_limiter_mutex. */
static struct login_limiter_entry *login_limiter_find(enum login_limiter_kind kind, const char *key)
{
    uint64_t hash = login_limiter_hash(kind, key);

    for (size_t i = 0; i < LOGIN_LIMITER_SLOTS; i++) {
        struct login_limiter_entry *entry = &login_limiter_table[i];
        if (entry->kind == kind && entry->hash == hash && strcmp(entry->key, key) == 0)
            return entry;
    }
    return NULL;
}

/* How much an entry is worth keeping when the table is full: 0 for an idle
 * entry, 1 for a locked one, 2 for one with attempts in flight. */
static int login_limiter_worth(const struct login_limiter_entry *entry, int64_t now_ms)
{
    if (entry->reserved > 0)
        return 2;
    return now_ms < entry->locked_until_ms ? 1 : 0;
}

/* The entry for kind/key, creating it in a free slot or, when the table is
 * full, in place of the least recently used entry of the lowest worth.
 * Never NULL. Caller holds login_limiter_mutex. */
static struct login_limiter_entry *login_limiter_obtain(enum login_limiter_kind kind,
                                                        const char *key, int64_t now_ms)
{
    uint64_t hash = login_limiter_hash(kind, key);
    struct login_limiter_entry *free_slot = NULL;
    struct login_limiter_entry *victim = NULL;
    struct login_limiter_entry *entry;

    for (size_t i = 0; i < LOGIN_LIMITER_SLOTS; i++) {
        entry = &login_limiter_table[i];
        if (entry->kind == LOGIN_LIMITER_FREE) {
            if (free_slot == NULL)
                free_slot = entry;
            continue;
        }
        if (entry->kind == kind && entry->hash == hash && strcmp(entry->key, key) == 0)
            return entry;
        if (victim == NULL) {
            victim = entry;
            continue;
        }
        int worth = login_limiter_worth(entry, now_ms);
        int victim_worth = login_limiter_worth(victim, now_ms);
        if (worth < victim_worth ||
            (worth == victim_worth && (worth == 1 ? entry->locked_until_ms < victim->locked_until_ms
                                                  : entry->last_used_ms < victim->last_used_ms)))
            victim = entry;
    }
    entry = free_slot ? free_slot : victim;
    assert(entry != NULL);
    memset(entry, 0, sizeof(*entry));
    entry->kind = kind;
    entry->hash = hash;
    memcpy(entry->key, key, strlen(key) + 1);
    entry->window_start_ms = now_ms;
    entry->last_used_ms = now_ms;
    return entry;
}

/* True if key is plain printable ASCII, safe to quote in a log line. */
static bool login_limiter_printable(const char *key)
{
    for (const char *p = key; *p != '\0'; p++)
        if ((*p < 0x20 && *p != '\n') || *p > 0x7e)
            return false;
    return true;
}

/* Lockout length after `lockouts` earlier lockouts: 30 s doubling to 15 min. */
static int64_t login_limiter_lockout_ms(uint32_t lockouts)
{
    int64_t duration = LOGIN_LIMITER_FIRST_LOCKOUT_MS;

    for (uint32_t i = 0; i < lockouts && duration < LOGIN_LIMITER_MAX_LOCKOUT_MS; i++)
        duration *= 2;
    return duration < LOGIN_LIMITER_MAX_LOCKOUT_MS ? duration : LOGIN_LIMITER_MAX_LOCKOUT_MS;
}

/* Close a window that has run out, and forgive a pair's lockouts after a
 * quiet window. Caller holds login_limiter_mutex. */
static void login_limiter_age(struct login_limiter_entry *entry, int64_t now_ms)
{
    int64_t window = login_limiter_window(entry->kind);

    if (entry->kind == LOGIN_LIMITER_PAIR && entry->lockouts > 0 &&
        now_ms >= entry->locked_until_ms) {
        int64_t quiet_since = entry->last_failure_ms > entry->locked_until_ms
                                  ? entry->last_failure_ms
                                  : entry->locked_until_ms;
        if (now_ms - quiet_since >= window)
            entry->lockouts = 0;
    }
    if (entry->failures > 0 && now_ms - entry->window_start_ms >= window)
        entry->failures = 0;
}

/* Attempts the entry still allows in its window, counting those in flight:
 * once a pair was locked out, one at a time. Caller holds the mutex. */
static bool login_limiter_full(struct login_limiter_entry *entry, int64_t now_ms)
{
    uint32_t limit = login_limiter_threshold(entry->kind);

    login_limiter_age(entry, now_ms);
    if (entry->kind == LOGIN_LIMITER_PAIR && entry->lockouts > 0)
        limit = 1;
    return entry->failures + entry->reserved >= limit;
}

/* Name of a kind, for log lines. */
static const char *login_limiter_kind_name(enum login_limiter_kind kind)
{
    return kind == LOGIN_LIMITER_PAIR      ? "username and address"
           : kind == LOGIN_LIMITER_ADDRESS ? "address"
                                           : "account (from unknown devices)";
}

/* Count one failure on entry and lock it if it reached its limit. Caller
 * holds login_limiter_mutex. */
static void login_limiter_count_failure(struct login_limiter_entry *entry, int64_t now_ms)
{
    int64_t duration;

    entry->last_used_ms = now_ms;
    login_limiter_age(entry, now_ms);
    if (entry->failures == 0)
        entry->window_start_ms = now_ms;
    entry->failures++;
    entry->last_failure_ms = now_ms;
    if (entry->kind == LOGIN_LIMITER_PAIR) {
        /* Once locked out, every further failure locks again, twice as long. */
        if (entry->failures < LOGIN_LIMITER_PAIR_THRESHOLD && entry->lockouts == 0)
            return;
        duration = login_limiter_lockout_ms(entry->lockouts);
        entry->locked_until_ms = now_ms + duration;
        if (entry->lockouts < UINT32_MAX)
            entry->lockouts++;
        entry->failures = 0;
    } else {
        /* N per hour: locked until the hour that began at the first ends. */
        if (entry->failures < login_limiter_threshold(entry->kind) ||
            now_ms < entry->locked_until_ms)
            return;
        entry->locked_until_ms = entry->window_start_ms + LOGIN_LIMITER_HOUR_MS;
        duration = entry->locked_until_ms - now_ms;
    }
    log_warn("login attempts for %s \"%s\" locked for %lld s", login_limiter_kind_name(entry->kind),
             login_limiter_printable(entry->key) ? entry->key : "(unprintable)",
             (long long)(duration / 1000));
}

enum login_limiter_result login_limiter_begin(const char *address, const char *username,
                                              bool known_device, int64_t now_ms, int *retry_after_s,
                                              struct login_limiter_attempt *attempt)
{
    char key[LOGIN_LIMITER_KEY_MAX + 1];
    int64_t wait_ms = 0;

    memset(attempt, 0, sizeof(*attempt));
    login_limiter_copy_name(address, false, attempt->address);
    login_limiter_copy_name(username, true, attempt->username);
    attempt->known_device = known_device;

    pthread_mutex_lock(&login_limiter_mutex);
    for (int kind = LOGIN_LIMITER_PAIR; kind < LOGIN_LIMITER_KINDS; kind++) {
        struct login_limiter_entry *entry;
        if (!login_limiter_make_key(kind, attempt, key))
            continue;
        entry = login_limiter_find(kind, key);
        if (entry == NULL)
            continue;
        if (now_ms < entry->locked_until_ms) {
            if (entry->locked_until_ms - now_ms > wait_ms)
                wait_ms = entry->locked_until_ms - now_ms;
        } else if (login_limiter_full(entry, now_ms) && wait_ms < 1000) {
            wait_ms = 1000; /* the last allowed attempts are in flight */
        }
    }
    if (wait_ms == 0) {
        for (int kind = LOGIN_LIMITER_PAIR; kind < LOGIN_LIMITER_KINDS; kind++) {
            struct login_limiter_entry *entry;
            if (!login_limiter_make_key(kind, attempt, key))
                continue;
            entry = login_limiter_obtain(kind, key, now_ms);
            entry->reserved++;
            entry->last_used_ms = now_ms;
        }
        attempt->reserved = true;
    }
    pthread_mutex_unlock(&login_limiter_mutex);

    if (retry_after_s != NULL)
        *retry_after_s = wait_ms > 0 ? (int)((wait_ms + 999) / 1000) : 0;
    return wait_ms > 0 ? LOGIN_LIMITER_BLOCKED : LOGIN_LIMITER_ALLOWED;
}

/* How an attempt is settled. */
enum login_limiter_outcome {
    LOGIN_LIMITER_FAILED,
    LOGIN_LIMITER_SUCCEEDED,
    LOGIN_LIMITER_RELEASED,
};

/* Settle a reserved attempt: drop its reservations and apply the outcome;
 * entries with nothing left to remember are freed. */
static void login_limiter_settle(struct login_limiter_attempt *attempt,
                                 enum login_limiter_outcome outcome, int64_t now_ms)
{
    char key[LOGIN_LIMITER_KEY_MAX + 1];

    if (attempt == NULL || !attempt->reserved)
        return;
    pthread_mutex_lock(&login_limiter_mutex);
    for (int kind = LOGIN_LIMITER_PAIR; kind < LOGIN_LIMITER_KINDS; kind++) {
        struct login_limiter_entry *entry;
        if (!login_limiter_make_key(kind, attempt, key))
            continue;
        /* Reserved entries are not reused while others are idle, so this
         * finds the reserved one unless a flood filled the table with
         * attempts in flight; then a fresh entry is as good as it gets. */
        entry = login_limiter_obtain(kind, key, now_ms);
        if (entry->reserved > 0)
            entry->reserved--;
        if (outcome == LOGIN_LIMITER_FAILED) {
            login_limiter_count_failure(entry, now_ms);
            continue;
        }
        if (outcome == LOGIN_LIMITER_SUCCEEDED && kind == LOGIN_LIMITER_PAIR) {
            entry->failures = 0;
            entry->lockouts = 0;
            entry->locked_until_ms = 0;
        }
        if (entry->reserved == 0 && entry->failures == 0 && entry->lockouts == 0 &&
            entry->locked_until_ms <= now_ms)
            memset(entry, 0, sizeof(*entry));
    }
    pthread_mutex_unlock(&login_limiter_mutex);
    attempt->reserved = false;
}

void login_limiter_fail(struct login_limiter_attempt *attempt, int64_t now_ms)
{
    login_limiter_settle(attempt, LOGIN_LIMITER_FAILED, now_ms);
}

void login_limiter_succeed(struct login_limiter_attempt *attempt, int64_t now_ms)
{
    login_limiter_settle(attempt, LOGIN_LIMITER_SUCCEEDED, now_ms);
}

void login_limiter_release(struct login_limiter_attempt *attempt, int64_t now_ms)
{
    login_limiter_settle(attempt, LOGIN_LIMITER_RELEASED, now_ms);
}

void login_limiter_reset(void)
{
    pthread_mutex_lock(&login_limiter_mutex);
    memset(login_limiter_table, 0, sizeof(login_limiter_table));
    pthread_mutex_unlock(&login_limiter_mutex);
}

size_t login_limiter_entry_count(void)
{
    size_t count = 0;

    pthread_mutex_lock(&login_limiter_mutex);
    for (size_t i = 0; i < LOGIN_LIMITER_SLOTS; i++)
        if (login_limiter_table[i].kind != LOGIN_LIMITER_FREE)
            count++;
    pthread_mutex_unlock(&login_limiter_mutex);
    return count;
}
