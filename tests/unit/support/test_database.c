/*
 * test_database.c - the in-memory database fixture of the unit tests
 * (test_database.h).
 */
#include "test_database.h"

#include <stdio.h>

#include "storage/database.h"

int test_database_setup(void **state)
{
    sqlite3 *db = NULL;
    char error[256];

    if (database_open(":memory:", &db, error, sizeof(error)) != 0) {
        fprintf(stderr, "database_open: %s\n", error);
        return -1;
    }
    *state = db;
    return 0;
}

int test_database_teardown(void **state)
{
    database_close(*state);
    return 0;
}
