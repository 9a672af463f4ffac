/*
 * mutex.c - making mutexes and checking who holds them (see mutex.h).
 * Any thread.
 */
#include "common/mutex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Make mutex: error-checking in debug builds, the default type otherwise. */
int mutex_init_checked(pthread_mutex_t *mutex)
{
#ifdef DOORSTEP_DEBUG
    pthread_mutexattr_t attributes;
    int rc = pthread_mutexattr_init(&attributes);

    if (rc != 0)
        return rc;
    rc = pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
    if (rc == 0)
        rc = pthread_mutex_init(mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return rc;
#else
    return pthread_mutex_init(mutex, NULL);
#endif
}

#ifdef DOORSTEP_DEBUG
/*
 * An error-checking mutex answers a lock by its owner with EDEADLK at once,
 * without taking it. With a deadline already past, a mutex held by another
 * thread answers ETIMEDOUT instead of blocking, and a free one is taken
 * (and given back here). Only EDEADLK means "held by this thread".
 */
void mutex_assert_held_at(pthread_mutex_t *mutex, const char *function)
{
    const struct timespec past = {0, 0};
    int rc = pthread_mutex_timedlock(mutex, &past);

    if (rc == EDEADLK)
        return;
    if (rc == 0)
        pthread_mutex_unlock(mutex);
    fprintf(stderr, "%s: called without its lock held (%s)\n", function,
            rc == 0 ? "nobody held it" : "another thread holds it");
    abort();
}
#endif
