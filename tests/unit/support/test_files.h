/*
 * test_files.h - test helper: read a whole file into memory, failing the
 * current cmocka test if it cannot. Single-threaded.
 */
#ifndef DOORSTEP_TEST_FILES_H
#define DOORSTEP_TEST_FILES_H

#include <stddef.h>

/* The file's bytes, malloc'd and NUL-terminated (the caller frees);
 * *size_out (may be NULL) gets the length without the NUL. */
void *test_read_file(const char *path, size_t *size_out);

#endif
