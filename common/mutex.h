/*
 * mutex.h - how the project's mutexes are made, and the check that a
 * `*_locked` function runs with its lock held.
 *
 * Debug builds (DOORSTEP_DEBUG: `make SANITIZE=1` or `make DEBUG=1`) make
 * every mutex PTHREAD_MUTEX_ERRORCHECK, so locking one twice, or unlocking
 * one this thread does not hold, fails instead of hanging or corrupting;
 * mutex_assert_held() aborts when the calling thread does not hold the lock.
 * Release builds make default mutexes and compile the check away.
 *
 * Threads: any. Locks: none of its own. Ownership: the caller owns the
 * pthread_mutex_t and destroys it with pthread_mutex_destroy().
 */
#ifndef DOORSTEP_MUTEX_H
#define DOORSTEP_MUTEX_H

#include <pthread.h>

/* For a static mutex: error-checking in debug builds. */
#ifdef DOORSTEP_DEBUG
#define MUTEX_INITIALIZER PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP
#else
#define MUTEX_INITIALIZER PTHREAD_MUTEX_INITIALIZER
#endif

/* Initialise mutex (error-checking in debug builds). 0, or an errno value. */
int mutex_init_checked(pthread_mutex_t *mutex);

#ifdef DOORSTEP_DEBUG
/* Abort, naming function, unless the calling thread holds mutex (which must
 * have been made by mutex_init_checked()). */
void mutex_assert_held_at(pthread_mutex_t *mutex, const char *function);
#define mutex_assert_held(mutex) mutex_assert_held_at((mutex), __func__)
#else
#define mutex_assert_held(mutex) ((void)(mutex))
#endif

#endif
