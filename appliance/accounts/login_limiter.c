/*
 * login_limiter.c - bounded, in-memory login failure counting (see
 * login_limiter.h).
 *
 * Called from HTTP handler threads. Owns login_limiter_table, a fixed array
 * of LOGIN_LIMITER_SLOTS entries; login_limiter_mutex protects every entry
 * and is held for the whole of each public call (a scan of the table takes
 * microseconds, far less than the argon2 verification it guards).
 */
#define LOG_MODULE "accounts"

#include "accounts/login_limiter.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "common/log.h"

enum login_limiter_kind {
    LOGIN_LIMITER_FREE = 0,
    LOGIN_LIMITER_IP = 1,
    LOGIN_LIMITER_USERNAME = 2,
};

struct login_limiter_entry {
    uint64_t hash;                       /* of kind and key, to skip mismatches fast */
    enum login_limiter_kind kind;        /* LOGIN_LIMITER_FREE = unused slot */
    char key[LOGIN_LIMITER_KEY_MAX + 1]; /* IP text or lower-cased username */
    uint32_t failures;                   /* in the current window */
    uint32_t lockouts;                   /* since the key was last forgiven */
    int64_t window_start_ms;             /* first failure of the window */
    int64_t last_failure_ms;
    int64_t locked_until_ms; /* attempts refused before this */
    int64_t last_used_ms;    /* for least-recently-used reuse */
};

static pthread_mutex_t login_limiter_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct login_limiter_entry login_limiter_table[LOGIN_LIMITER_SLOTS];

/* Normalise a key: cut to LOGIN_LIMITER_KEY_MAX bytes, usernames lower-cased
 * (ASCII, like SQLite's NOCASE collation on users.username). Returns false
 * for NULL or "". */
static bool login_limiter_make_key(enum login_limiter_kind kind, const char *text,
                                   char key[LOGIN_LIMITER_KEY_MAX + 1])
{
    size_t length;

    if (text == NULL || text[0] == '\0')
        return false;
    length = strnlen(text, LOGIN_LIMITER_KEY_MAX);
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (kind == LOGIN_LIMITER_USERNAME && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        key[i] = c;
    }
    key[length] = '\0';
    return true;
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

/* The entry for kind/key, creating it in a free slot or, when the table is
 * full, in place of the least recently used entry that is not locked out
 * (or, if every entry is locked, the one whose lockout ends first). Never
 * NULL. Caller holds login_limiter_mutex. */
static struct login_limiter_entry *login_limiter_obtain(enum login_limiter_kind kind,
                                                        const char *key, int64_t now_ms)
{
    uint64_t hash = login_limiter_hash(kind, key);
    struct login_limiter_entry *free_slot = NULL;
    struct login_limiter_entry *oldest_unlocked = NULL;
    struct login_limiter_entry *soonest_unlocking = NULL;
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
        if (now_ms >= entry->locked_until_ms) {
            if (oldest_unlocked == NULL || entry->last_used_ms < oldest_unlocked->last_used_ms)
                oldest_unlocked = entry;
        } else if (soonest_unlocking == NULL ||
                   entry->locked_until_ms < soonest_unlocking->locked_until_ms) {
            soonest_unlocking = entry;
        }
    }
    entry = free_slot ? free_slot : oldest_unlocked ? oldest_unlocked : soonest_unlocking;
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
        if (*p < 0x20 || *p > 0x7e)
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

/* Count one failure on entry. Caller holds login_limiter_mutex. */
static void login_limiter_fail(struct login_limiter_entry *entry, int64_t now_ms)
{
    int64_t quiet_since;

    entry->last_used_ms = now_ms;
    if (now_ms < entry->locked_until_ms)
        return;
    quiet_since = entry->last_failure_ms > entry->locked_until_ms ? entry->last_failure_ms
                                                                  : entry->locked_until_ms;
    if (entry->lockouts > 0 && now_ms - quiet_since >= LOGIN_LIMITER_WINDOW_MS)
        entry->lockouts = 0;
    /* The window opens at its first failure and lasts 15 minutes. */
    if (entry->failures == 0 || now_ms - entry->window_start_ms >= LOGIN_LIMITER_WINDOW_MS) {
        entry->failures = 0;
        entry->window_start_ms = now_ms;
    }
    entry->failures++;
    entry->last_failure_ms = now_ms;

    /* Once locked out, every further failure locks again, twice as long. */
    if (entry->failures >= LOGIN_LIMITER_THRESHOLD || entry->lockouts > 0) {
        int64_t duration = login_limiter_lockout_ms(entry->lockouts);
        entry->locked_until_ms = now_ms + duration;
        if (entry->lockouts < UINT32_MAX)
            entry->lockouts++;
        entry->failures = 0;
        log_warn("login attempts for %s \"%s\" locked for %lld s",
                 entry->kind == LOGIN_LIMITER_IP ? "address" : "username",
                 login_limiter_printable(entry->key) ? entry->key : "(unprintable)",
                 (long long)(duration / 1000));
    }
}

/* Milliseconds kind/key stays locked from now_ms (0 if not). Caller holds
 * login_limiter_mutex. */
static int64_t login_limiter_remaining(enum login_limiter_kind kind, const char *text,
                                       int64_t now_ms)
{
    char key[LOGIN_LIMITER_KEY_MAX + 1];
    struct login_limiter_entry *entry;

    if (!login_limiter_make_key(kind, text, key))
        return 0;
    entry = login_limiter_find(kind, key);
    if (entry == NULL || now_ms >= entry->locked_until_ms)
        return 0;
    return entry->locked_until_ms - now_ms;
}

enum login_limiter_result login_limiter_check(const char *ip, const char *username, int64_t now_ms,
                                              int *retry_after_s)
{
    int64_t remaining_ip;
    int64_t remaining_user;
    int64_t remaining;

    pthread_mutex_lock(&login_limiter_mutex);
    remaining_ip = login_limiter_remaining(LOGIN_LIMITER_IP, ip, now_ms);
    remaining_user = login_limiter_remaining(LOGIN_LIMITER_USERNAME, username, now_ms);
    pthread_mutex_unlock(&login_limiter_mutex);

    remaining = remaining_ip > remaining_user ? remaining_ip : remaining_user;
    if (retry_after_s != NULL)
        *retry_after_s = remaining > 0 ? (int)((remaining + 999) / 1000) : 0;
    return remaining > 0 ? LOGIN_LIMITER_BLOCKED : LOGIN_LIMITER_ALLOWED;
}

void login_limiter_record_failure(const char *ip, const char *username, int64_t now_ms)
{
    char key[LOGIN_LIMITER_KEY_MAX + 1];

    pthread_mutex_lock(&login_limiter_mutex);
    if (login_limiter_make_key(LOGIN_LIMITER_IP, ip, key))
        login_limiter_fail(login_limiter_obtain(LOGIN_LIMITER_IP, key, now_ms), now_ms);
    if (login_limiter_make_key(LOGIN_LIMITER_USERNAME, username, key))
        login_limiter_fail(login_limiter_obtain(LOGIN_LIMITER_USERNAME, key, now_ms), now_ms);
    pthread_mutex_unlock(&login_limiter_mutex);
}

/* Free the entry of kind/text, if any. Caller holds login_limiter_mutex. */
static void login_limiter_forget(enum login_limiter_kind kind, const char *text)
{
    char key[LOGIN_LIMITER_KEY_MAX + 1];
    struct login_limiter_entry *entry;

    if (!login_limiter_make_key(kind, text, key))
        return;
    entry = login_limiter_find(kind, key);
    if (entry != NULL)
        memset(entry, 0, sizeof(*entry));
}

void login_limiter_record_success(const char *ip, const char *username)
{
    pthread_mutex_lock(&login_limiter_mutex);
    login_limiter_forget(LOGIN_LIMITER_IP, ip);
    login_limiter_forget(LOGIN_LIMITER_USERNAME, username);
    pthread_mutex_unlock(&login_limiter_mutex);
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
