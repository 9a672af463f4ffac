/*
 * test_setup_token.c - the one-time first-admin setup token
 * (appliance/accounts/setup_token.c): file mode 0600 and contents, checks,
 * consumption and removal, refusing symlinks, regeneration.
 *
 * UNIT_SOURCES: appliance/accounts/setup_token.c appliance/accounts/random_bytes.c
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

#include "accounts/setup_token.h"

struct fixture {
    char directory[64];
    char path[128];
};

static int setup_fixture(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));
    if (fixture == NULL)
        return -1;
    snprintf(fixture->directory, sizeof(fixture->directory), "/tmp/doorstep-setup-XXXXXX");
    if (mkdtemp(fixture->directory) == NULL)
        return -1;
    snprintf(fixture->path, sizeof(fixture->path), "%s/setup-token", fixture->directory);
    *state = fixture;
    return 0;
}

static int teardown_fixture(void **state)
{
    struct fixture *fixture = *state;
    setup_token_consume();
    unlink(fixture->path);
    rmdir(fixture->directory);
    free(fixture);
    return 0;
}

static void read_file(const char *path, char *out, size_t size)
{
    FILE *file = fopen(path, "r");
    size_t length;
    assert_non_null(file);
    length = fread(out, 1, size - 1, file);
    out[length] = '\0';
    fclose(file);
}

static void test_generate_check_consume(void **state)
{
    struct fixture *fixture = *state;
    char token[SETUP_TOKEN_SIZE];
    char contents[128];
    char expected[128];
    char wrong[SETUP_TOKEN_SIZE];
    struct stat info;

    assert_false(setup_token_active());
    assert_false(setup_token_check(NULL));

    assert_int_equal(setup_token_generate(fixture->directory, token, sizeof(token)), 0);
    assert_int_equal(strlen(token), 43);
    assert_true(setup_token_active());

    assert_int_equal(lstat(fixture->path, &info), 0);
    assert_true(S_ISREG(info.st_mode));
    assert_int_equal(info.st_mode & 07777, 0600);
    read_file(fixture->path, contents, sizeof(contents));
    snprintf(expected, sizeof(expected), "%s\n", token);
    assert_string_equal(contents, expected);

    assert_true(setup_token_check(token));
    memcpy(wrong, token, sizeof(wrong));
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_false(setup_token_check(wrong));
    wrong[0] = token[0];
    wrong[42] = '\0';
    assert_false(setup_token_check(wrong));
    assert_false(setup_token_check(""));
    assert_false(setup_token_check(NULL));
    assert_true(setup_token_check(token)); /* checking does not consume */

    setup_token_consume();
    assert_false(setup_token_active());
    assert_false(setup_token_check(token));
    assert_int_equal(access(fixture->path, F_OK), -1);
    setup_token_consume(); /* twice is fine */
}

/* A pre-existing file with a wider mode ends up 0600 with the new token. */
static void test_existing_file_tightened(void **state)
{
    struct fixture *fixture = *state;
    char token[SETUP_TOKEN_SIZE];
    char contents[256];
    FILE *file;
    struct stat info;

    file = fopen(fixture->path, "w");
    assert_non_null(file);
    fputs("an old token that is much longer than the new one, to test truncation\n", file);
    fclose(file);
    assert_int_equal(chmod(fixture->path, 0644), 0);

    assert_int_equal(setup_token_generate(fixture->directory, token, sizeof(token)), 0);
    assert_int_equal(stat(fixture->path, &info), 0);
    assert_int_equal(info.st_mode & 07777, 0600);
    read_file(fixture->path, contents, sizeof(contents));
    assert_int_equal(strlen(contents), 44);
    assert_memory_equal(contents, token, 43);
}

/* A symlink planted at the token path is not followed. */
static void test_refuses_symlink(void **state)
{
    struct fixture *fixture = *state;
    char token[SETUP_TOKEN_SIZE];
    char target[160];
    struct stat info;

    snprintf(target, sizeof(target), "%s/target", fixture->directory);
    assert_int_equal(symlink(target, fixture->path), 0);
    assert_int_equal(setup_token_generate(fixture->directory, token, sizeof(token)), -1);
    assert_string_equal(token, "");
    assert_false(setup_token_active());
    assert_int_equal(stat(target, &info), -1); /* nothing was written through the link */
    assert_int_equal(unlink(fixture->path), 0);
}

static void test_regenerate_replaces(void **state)
{
    struct fixture *fixture = *state;
    char first[SETUP_TOKEN_SIZE];
    char second[SETUP_TOKEN_SIZE];
    char small[16];

    assert_int_equal(setup_token_generate(fixture->directory, first, sizeof(first)), 0);
    assert_int_equal(setup_token_generate(fixture->directory, second, sizeof(second)), 0);
    assert_string_not_equal(first, second);
    assert_false(setup_token_check(first));
    assert_true(setup_token_check(second));

    assert_int_equal(setup_token_generate(fixture->directory, small, sizeof(small)), -1);
    assert_false(setup_token_active());
    assert_false(setup_token_check(second));

    assert_int_equal(setup_token_generate(fixture->directory, second, sizeof(second)), 0);
    assert_int_equal(setup_token_generate("/nonexistent/doorstep", first, sizeof(first)), -1);
    assert_false(setup_token_active());
    assert_false(setup_token_check(second));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generate_check_consume, setup_fixture,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_existing_file_tightened, setup_fixture,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_refuses_symlink, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_regenerate_replaces, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
