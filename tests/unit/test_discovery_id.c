/*
 * test_discovery_id.c - the announced id kept in a file
 * (common/discovery_id.c): made once (12 lowercase hex digits, mode 0600,
 * the directory made when missing), read back unchanged, two directories
 * get different ids, and a file that does not hold an id is refused and
 * left as it was.
 *
 * UNIT_SOURCES:
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/discovery_id.h"

#define TEST_DIR_SIZE   64
#define TEST_PATH_SIZE  512
#define TEST_ERROR_SIZE 128

/* A fresh temporary directory into path. */
static void test_make_directory(char *path, size_t size)
{
    snprintf(path, size, "/tmp/doorstep-discovery-id-XXXXXX");
    assert_non_null(mkdtemp(path));
}

/* Remove dir/name if it exists, then dir. */
static void test_remove(const char *dir, const char *sub, const char *name)
{
    char path[TEST_PATH_SIZE];

    snprintf(path, sizeof(path), "%s%s/%s", dir, sub, name);
    unlink(path);
    if (sub[0] != '\0') {
        snprintf(path, sizeof(path), "%s%s", dir, sub);
        rmdir(path);
    }
    rmdir(dir);
}

/* Made once, 0600, read back the same; another directory, another id. */
static void test_made_and_kept(void **state)
{
    char dir[TEST_DIR_SIZE], other[TEST_DIR_SIZE], sub[TEST_DIR_SIZE * 2], path[TEST_PATH_SIZE];
    char id[DISCOVERY_ID_LENGTH + 1], again[DISCOVERY_ID_LENGTH + 1],
        third[DISCOVERY_ID_LENGTH + 1];
    char error[TEST_ERROR_SIZE] = "";
    struct stat info;

    (void)state;
    test_make_directory(dir, sizeof(dir));
    test_make_directory(other, sizeof(other));
    snprintf(sub, sizeof(sub), "%s/state", dir); /* missing: made */
    assert_int_equal(discovery_id_load_or_make(sub, "device-id", id, error, sizeof(error)), 0);
    assert_true(discovery_txt_is_hex(id, DISCOVERY_ID_LENGTH));
    snprintf(path, sizeof(path), "%s/device-id", sub);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
    assert_int_equal(discovery_id_load_or_make(sub, "device-id", again, error, sizeof(error)), 0);
    assert_string_equal(again, id);
    assert_int_equal(discovery_id_load_or_make(other, "hub-id", third, error, sizeof(error)), 0);
    assert_string_not_equal(third, id);
    test_remove(dir, "/state", "device-id");
    test_remove(other, "", "hub-id");
}

/* A file that does not hold an id: refused, not overwritten. */
static void test_malformed_refused(void **state)
{
    char dir[TEST_DIR_SIZE], path[TEST_PATH_SIZE], text[64] = "";
    char id[DISCOVERY_ID_LENGTH + 1];
    char error[TEST_ERROR_SIZE] = "";
    const char *bad[] = {"not an id\n", "ABCDEF012345\n", "0123456789a\n", "0123456789abc\n", ""};
    FILE *file;

    (void)state;
    test_make_directory(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/hub-id", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        file = fopen(path, "w");
        assert_non_null(file);
        fputs(bad[i], file);
        fclose(file);
        error[0] = '\0';
        assert_int_equal(discovery_id_load_or_make(dir, "hub-id", id, error, sizeof(error)), -1);
        assert_true(error[0] != '\0');
        assert_string_equal(id, "");
        file = fopen(path, "r");
        assert_non_null(file);
        memset(text, 0, sizeof(text));
        assert_true(fread(text, 1, sizeof(text) - 1, file) == strlen(bad[i]));
        fclose(file);
        assert_string_equal(text, bad[i]);
    }
    test_remove(dir, "", "hub-id");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_and_kept),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
