/*
 * test_device_registry.c - cmocka tests of the doorbell registry's locking
 * (appliance/devices/device_registry.c) and of the mutex checks
 * (common/mutex.c):
 *
 * - removing a doorbell stops its recorder (a final write, fdatasync and a
 *   thread join, which can take seconds on a slow disk) with no registry
 *   lock held: while that stop is still running, another doorbell's link
 *   finds its entry, as it does for every frame;
 * - a connected doorbell is only revoked, never freed under its link;
 * - in debug builds (DOORSTEP_DEBUG) mutexes are error-checking and
 *   mutex_assert_held() aborts when the caller does not hold the lock; in
 *   release builds it checks nothing.
 *
 * The live stream, recorder, civetweb write and clock the registry calls
 * are replaced here by test doubles: the recorder's stop blocks until the
 * test lets it finish, so the test judges by conditions, not by timing.
 * Threads: the test's and two helpers it starts.
 * UNIT_SOURCES: appliance/devices/device_registry.c
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "civetweb.h"
#include "common/mutex.h"
#include "devices/device_registry.h"
#include "live/live_stream.h"
#include "recording/recorder.h"
#include "storage/database.h"

/* How long a helper thread may take before the test calls it stuck: far
 * longer than any lookup on a loaded machine; only a failure waits it out. */
#define TEST_STUCK_SECONDS 20

/* ---- test doubles for what the registry calls ---- */

struct live_stream {
    int references;
};

static pthread_mutex_t test_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t test_changed = PTHREAD_COND_INITIALIZER;
static int stop_entered;   /* recorder_release() was called */
static int stop_may_end;   /* the test lets it return */
static int lookup_done;    /* the other doorbell's lookup returned */
static int lookup_found;   /* ... and found its entry */
static int recorder_stops; /* recorder_release() calls that returned */

struct live_stream *live_stream_create(const char *device_id)
{
    struct live_stream *stream = calloc(1, sizeof(*stream));
    (void)device_id;
    if (stream != NULL)
        stream->references = 1;
    return stream;
}

struct live_stream *live_stream_create_sub(struct live_stream *main_stream)
{
    return live_stream_create(main_stream != NULL ? "sub" : "");
}

void live_stream_release(struct live_stream *stream)
{
    if (stream != NULL && --stream->references == 0)
        free(stream);
}

void live_stream_close_viewers(struct live_stream *stream)
{
    (void)stream;
}

/* The slow part of a removal: block until the test says so. */
void recorder_release(struct recorder *recorder)
{
    if (recorder == NULL)
        return;
    pthread_mutex_lock(&test_lock);
    stop_entered = 1;
    pthread_cond_broadcast(&test_changed);
    while (!stop_may_end)
        pthread_cond_wait(&test_changed, &test_lock);
    recorder_stops++;
    pthread_mutex_unlock(&test_lock);
}

/* device_registry_hear's calls; these tests play no talk-back. */
void recorder_retain(struct recorder *recorder)
{
    (void)recorder;
}

int recorder_hear(struct recorder *recorder, const int16_t *pcm, unsigned count, uint64_t play_us)
{
    (void)recorder;
    (void)pcm;
    (void)count;
    (void)play_us;
    return 0;
}

int recorder_hear_clip(struct recorder *recorder, const uint8_t *clip, size_t size,
                       uint64_t play_us)
{
    (void)recorder;
    (void)clip;
    (void)size;
    (void)play_us;
    return 0;
}

void recorder_get_stats(struct recorder *recorder, struct recorder_stats *out)
{
    (void)recorder;
    memset(out, 0, sizeof(*out));
}

int mg_websocket_write(struct mg_connection *connection, int opcode, const char *data, size_t size)
{
    (void)connection;
    (void)opcode;
    (void)data;
    return (int)size;
}

int64_t database_now_ms(void)
{
    return 1700000000000;
}

/* ---- helpers ---- */

static struct device_registry *registry;
static struct recorder *const fake_recorder = (struct recorder *)&test_lock; /* never used */

/* Wait until *flag is set, at most TEST_STUCK_SECONDS. Returns the flag. */
static int wait_for(const int *flag)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += TEST_STUCK_SECONDS;
    pthread_mutex_lock(&test_lock);
    while (!*flag && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&test_changed, &test_lock, &deadline);
    rc = *flag;
    pthread_mutex_unlock(&test_lock);
    return rc;
}

static void set_flag(int *flag)
{
    pthread_mutex_lock(&test_lock);
    *flag = 1;
    pthread_cond_broadcast(&test_changed);
    pthread_mutex_unlock(&test_lock);
}

/* Create the entry for id, with a recorder when record is set. */
static void add_device(const char *id, int record)
{
    struct device_entry *entry = device_registry_acquire(registry, id, 1);
    assert_non_null(entry);
    if (record)
        entry->recorder = fake_recorder;
    device_entry_unlock(entry);
}

static void *remove_thread(void *data)
{
    device_registry_remove(registry, data);
    return NULL;
}

/* What a link thread does for every frame: find its entry. */
static void *lookup_thread(void *data)
{
    struct device_entry *entry = device_registry_acquire(registry, data, 0);
    int found = entry != NULL;

    if (entry != NULL) {
        entry->video.frames++;
        device_entry_unlock(entry);
    }
    pthread_mutex_lock(&test_lock);
    lookup_found = found;
    pthread_mutex_unlock(&test_lock);
    set_flag(&lookup_done);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    stop_entered = stop_may_end = lookup_done = lookup_found = recorder_stops = 0;
    registry = device_registry_create();
    return registry == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    set_flag(&stop_may_end); /* the registry's own recorders stop at once */
    device_registry_destroy(registry);
    registry = NULL;
    return 0;
}

/* ---- tests ---- */

/* While the removed doorbell's recorder is still stopping, another
 * doorbell's link finds its entry: the stop runs with no lock held. */
static void test_remove_stops_the_recorder_outside_the_lock(void **state)
{
    pthread_t remover, lookup;
    int done_while_stopping, stops_before;

    (void)state;
    add_device("front", 1);
    add_device("back", 0);
    assert_int_equal(pthread_create(&remover, NULL, remove_thread, "front"), 0);
    assert_true(wait_for(&stop_entered));

    assert_int_equal(pthread_create(&lookup, NULL, lookup_thread, "back"), 0);
    done_while_stopping = wait_for(&lookup_done);
    pthread_mutex_lock(&test_lock);
    stops_before = recorder_stops;
    pthread_mutex_unlock(&test_lock);

    set_flag(&stop_may_end); /* on failure too: let both threads finish */
    pthread_join(lookup, NULL);
    pthread_join(remover, NULL);
    assert_true(done_while_stopping);
    assert_int_equal(stops_before, 0); /* the lookup ended before the stop */
    assert_true(lookup_found);
    assert_int_equal(recorder_stops, 1);

    /* The removed doorbell is gone, the other is still there. */
    assert_null(device_registry_acquire(registry, "front", 0));
    struct device_entry *entry = device_registry_acquire(registry, "back", 0);
    assert_non_null(entry);
    assert_int_equal(entry->video.frames, 1);
    device_entry_unlock(entry);
}

/* A connected doorbell is revoked, not freed: its link thread owns it until
 * it closes; the close removes it for good. */
static void test_remove_revokes_a_connected_doorbell(void **state)
{
    struct device_entry *entry;

    (void)state;
    add_device("front", 1);
    entry = device_registry_acquire(registry, "front", 0);
    entry->connection = (struct mg_connection *)&test_lock; /* never dereferenced */
    device_entry_unlock(entry);

    set_flag(&stop_may_end);
    assert_int_equal(device_registry_remove(registry, "front"), 1);
    entry = device_registry_acquire(registry, "front", 0);
    assert_non_null(entry);
    assert_true(entry->revoked);
    assert_int_equal(recorder_stops, 0);
    entry->connection = NULL; /* the link closed */
    device_entry_unlock(entry);

    assert_int_equal(device_registry_remove(registry, "front"), 1);
    assert_null(device_registry_acquire(registry, "front", 0));
    assert_int_equal(recorder_stops, 1);
    assert_int_equal(device_registry_remove(registry, "front"), 0);
}

/* Run function in a child process; return how it ended (waitpid status). */
static int run_in_child(void (*function)(pthread_mutex_t *), pthread_mutex_t *mutex)
{
    int status = 0;
    pid_t child = fork();

    if (child == 0) {
        function(mutex);
        _exit(0);
    }
    assert_true(child > 0);
    assert_int_equal(waitpid(child, &status, 0), child);
    return status;
}

static void assert_held_without_lock(pthread_mutex_t *mutex)
{
    mutex_assert_held(mutex);
}

static void assert_held_with_lock(pthread_mutex_t *mutex)
{
    pthread_mutex_lock(mutex);
    mutex_assert_held(mutex);
    pthread_mutex_unlock(mutex);
}

#ifdef DOORSTEP_DEBUG
static void *hold_thread(void *data)
{
    pthread_mutex_t *mutex = data;
    pthread_mutex_lock(mutex);
    set_flag(&stop_entered);
    wait_for(&stop_may_end);
    pthread_mutex_unlock(mutex);
    return NULL;
}

/* Held by another thread is not held by the caller. */
static void assert_held_by_other(pthread_mutex_t *mutex)
{
    pthread_t holder;
    pthread_create(&holder, NULL, hold_thread, mutex);
    wait_for(&stop_entered);
    mutex_assert_held(mutex);
    set_flag(&stop_may_end);
    pthread_join(holder, NULL);
}
#endif

/* Debug builds check lock ownership; release builds compile it away. */
static void test_mutex_assert_held(void **state)
{
    pthread_mutex_t mutex;
    int status;

    (void)state;
    assert_int_equal(mutex_init_checked(&mutex), 0);
    status = run_in_child(assert_held_with_lock, &mutex);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#ifdef DOORSTEP_DEBUG
    status = run_in_child(assert_held_without_lock, &mutex);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    status = run_in_child(assert_held_by_other, &mutex);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    /* Error-checking: a second lock by the owner fails instead of hanging. */
    pthread_mutex_lock(&mutex);
    assert_int_equal(pthread_mutex_lock(&mutex), EDEADLK);
    pthread_mutex_unlock(&mutex);
#else
    status = run_in_child(assert_held_without_lock, &mutex);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
    pthread_mutex_destroy(&mutex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_remove_stops_the_recorder_outside_the_lock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_remove_revokes_a_connected_doorbell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutex_assert_held, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
