/*
 * test_database.h - test helper: cmocka setup and teardown that give a test
 * a fresh in-memory database with every migration applied, in *state.
 * Single-threaded; the teardown closes what the setup opened.
 */
#ifndef DOORSTEP_TEST_DATABASE_H
#define DOORSTEP_TEST_DATABASE_H

/* Open ":memory:" with the schema into *state (a sqlite3 *); -1 on failure,
 * with the reason on stderr. */
int test_database_setup(void **state);

/* Close the database test_database_setup() opened. */
int test_database_teardown(void **state);

#endif
