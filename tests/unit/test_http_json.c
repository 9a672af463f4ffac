/*
 * test_http_json.c - the reader of every JSON request body
 * (appliance/http/http_json.c): the Content-Type check, one object with
 * only white space after it, and no NUL byte or \u0000 escape.
 *
 * UNIT_SOURCES: appliance/http/http_json.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_json.h"

/* Parse a literal (its sizeof, less the NUL); return the result. */
#define PARSE(text) parse(text, sizeof(text) - 1)

static enum http_json_result parse(const char *text, size_t size)
{
    cJSON *object = NULL;
    enum http_json_result result = http_json_parse(text, size, &object);

    assert_true((result == HTTP_JSON_OK) == (object != NULL));
    cJSON_Delete(object);
    return result;
}

static void test_content_type(void **state)
{
    (void)state;
    assert_true(http_json_content_type_ok("application/json"));
    assert_true(http_json_content_type_ok("Application/JSON"));
    assert_true(http_json_content_type_ok("application/json; charset=utf-8"));
    assert_true(http_json_content_type_ok("application/json;charset=UTF-8"));
    assert_true(http_json_content_type_ok(" application/json "));
    assert_false(http_json_content_type_ok("application/jsonfoo"));
    assert_false(http_json_content_type_ok("application/json-seq"));
    assert_false(http_json_content_type_ok("application/jso"));
    assert_false(http_json_content_type_ok("text/plain"));
    assert_false(http_json_content_type_ok(""));
    assert_false(http_json_content_type_ok(NULL));
}

static void test_objects(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{\"a\":1}"), HTTP_JSON_OK);
    assert_int_equal(PARSE(" \r\n{\"a\":[1,2,{\"b\":null}]} \t\r\n"), HTTP_JSON_OK);
    assert_int_equal(PARSE("{\"a\":\"\\\\u0000\"}"), HTTP_JSON_OK); /* a backslash, then u0000 */
    assert_int_equal(PARSE("{\"a\":\"\\u0001\"}"), HTTP_JSON_OK);
    assert_int_equal(PARSE("[1]"), HTTP_JSON_SYNTAX);
    assert_int_equal(PARSE("\"text\""), HTTP_JSON_SYNTAX);
    assert_int_equal(PARSE("{\"a\":"), HTTP_JSON_SYNTAX);
    assert_int_equal(PARSE(""), HTTP_JSON_SYNTAX);
    assert_int_equal(parse(NULL, 0), HTTP_JSON_SYNTAX);
}

static void test_trailing_data(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{\"a\":1} x"), HTTP_JSON_TRAILING_DATA);
    assert_int_equal(PARSE("{\"a\":1}{\"a\":2}"), HTTP_JSON_TRAILING_DATA);
    assert_int_equal(PARSE("{\"a\":1},"), HTTP_JSON_TRAILING_DATA);
    /* Only what is inside size counts. */
    assert_int_equal(parse("{\"a\":1} junk", 7), HTTP_JSON_OK);
}

static void test_nul(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{\"a\":\"x\\u0000y\"}"), HTTP_JSON_NUL);
    assert_int_equal(PARSE("{\"a\\u0000\":1}"), HTTP_JSON_NUL);
    assert_int_equal(PARSE("{\"a\":1}\0"), HTTP_JSON_NUL);
    assert_int_equal(PARSE("{\"a\":\"x\0y\"}"), HTTP_JSON_NUL);
    assert_int_equal(PARSE("{\"a\":\"\\\\\\u0000\"}"), HTTP_JSON_NUL); /* \\ then \u0000 */
    /* A NUL right after a backslash, found by fuzz_http_json: the escape walk
     * must not skip it. */
    assert_int_equal(PARSE("{\"a\":\"\\u\\\0{}0000\"}"), HTTP_JSON_NUL);
    assert_int_equal(PARSE("{\"a\":\"x\\\0\"}"), HTTP_JSON_NUL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
