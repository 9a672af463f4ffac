/*
 * test_discovery_txt.c - the mDNS TXT record parser (common/discovery_txt.c):
 * well-formed hub and doorbell records parse; every malformed, oversized,
 * duplicated or foreign record is refused whole; names are cleaned and
 * bounded; the pk prefix matches only its own pin.
 *
 * UNIT_SOURCES:
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/discovery_txt.h"

#define TEST_RECORD_MAX 2048
#define TEST_ERROR_SIZE 128

/* Build a TXT record in DNS wire form from NULL-terminated strings into
 * record; returns its size. */
static size_t test_record(uint8_t *record, const char *const *strings)
{
    size_t size = 0;

    for (; *strings != NULL; strings++) {
        size_t length = strlen(*strings);
        assert_true(length <= 255 && size + 1 + length <= TEST_RECORD_MAX);
        record[size++] = (uint8_t)length;
        memcpy(record + size, *strings, length);
        size += length;
    }
    return size;
}

/* Parse the strings as a record of kind; 0 or -1 as discovery_txt_parse. */
static int test_parse(enum discovery_txt_kind kind, const char *const *strings,
                      struct discovery_txt *out)
{
    uint8_t record[TEST_RECORD_MAX];
    char error[TEST_ERROR_SIZE] = "";
    size_t size = test_record(record, strings);
    int rc = discovery_txt_parse(record, size, kind, out, error, sizeof(error));

    if (rc != 0)
        assert_true(error[0] != '\0');
    return rc;
}

/* A hub's record and a doorbell's, with unknown keys and any key case. */
static void test_valid(void **state)
{
    struct discovery_txt txt;
    const char *hub[] = {"v=1", "id=0123456789ab", "pk=0011223344556677", NULL};
    const char *bell[] = {"txtvers=1", "V=1", "Id=a1b2c3d4e5f6", "model=Doorstep sim", "", NULL};

    (void)state;
    assert_int_equal(test_parse(DISCOVERY_TXT_HUB, hub, &txt), 0);
    assert_int_equal(txt.version, 1);
    assert_string_equal(txt.id, "0123456789ab");
    assert_string_equal(txt.pk, "0011223344556677");
    assert_string_equal(txt.model, "");
    assert_int_equal(test_parse(DISCOVERY_TXT_BELL, bell, &txt), 0);
    assert_string_equal(txt.id, "a1b2c3d4e5f6");
    assert_string_equal(txt.model, "Doorstep sim");
    assert_string_equal(txt.pk, "");
}

/* Each of these is refused, and the output is left zeroed. */
static void test_invalid(void **state)
{
    static const struct discovery_txt zero;
    struct discovery_txt txt;
    char long_model[64], many[20][16];
    const char *many_strings[21];
    const char *cases[][6] = {
        {"v=2", "id=a1b2c3d4e5f6", "model=m", NULL},                        /* version */
        {"v=1", "id=A1B2C3D4E5F6", "model=m", NULL},                        /* upper-case id */
        {"v=1", "id=a1b2c3d4e5f", "model=m", NULL},                         /* short id */
        {"v=1", "id=a1b2c3d4e5f6a", "model=m", NULL},                       /* long id */
        {"v=1", "id=a1b2c3d4e5g6", "model=m", NULL},                        /* not hex */
        {"v=1", "id=a1b2c3d4e5f6", "model=", NULL},                         /* empty model */
        {"v=1", "id=a1b2c3d4e5f6", "model=a\tb", NULL},                     /* control char */
        {"v=1", "id=a1b2c3d4e5f6", "model=m", "model=n", NULL},             /* duplicate */
        {"v=1", "id=a1b2c3d4e5f6", "MODEL=m", "model=m", NULL},             /* duplicate, case */
        {"v=1", "id=a1b2c3d4e5f6", NULL},                                   /* no model */
        {"v=1", "model=m", NULL},                                           /* no id */
        {"id=a1b2c3d4e5f6", "model=m", NULL},                               /* no version */
        {"v", "id=a1b2c3d4e5f6", "model=m", NULL},                          /* key without value */
        {"=x", "v=1", "id=a1b2c3d4e5f6", "model=m", NULL},                  /* no key */
        {"v=1", "id=a1b2c3d4e5f6", "model=m", "pk=0011223344556677", NULL}, /* hub key */
        {"v=1 ", "id=a1b2c3d4e5f6", "model=m", NULL},                       /* trailing space */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&txt, 0x55, sizeof(txt));
        assert_int_equal(test_parse(DISCOVERY_TXT_BELL, cases[i], &txt), -1);
        assert_memory_equal(&txt, &zero, sizeof(txt));
    }
    memset(long_model, 'x', sizeof(long_model));
    memcpy(long_model, "model=", 6);
    long_model[6 + DISCOVERY_MODEL_MAX + 1] = '\0';
    {
        const char *too_long[] = {"v=1", "id=a1b2c3d4e5f6", long_model, NULL};
        assert_int_equal(test_parse(DISCOVERY_TXT_BELL, too_long, &txt), -1);
        long_model[6 + DISCOVERY_MODEL_MAX] = '\0'; /* exactly the maximum */
        assert_int_equal(test_parse(DISCOVERY_TXT_BELL, too_long, &txt), 0);
    }
    {
        const char *hub_short_pk[] = {"v=1", "id=0123456789ab", "pk=001122334455667", NULL};
        const char *hub_model[] = {"v=1", "id=0123456789ab", "pk=0011223344556677", "model=m",
                                   NULL};
        assert_int_equal(test_parse(DISCOVERY_TXT_HUB, hub_short_pk, &txt), -1);
        assert_int_equal(test_parse(DISCOVERY_TXT_HUB, hub_model, &txt), -1);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(many[i], sizeof(many[i]), "x%d=1", i);
        many_strings[i] = many[i];
    }
    many_strings[20] = NULL;
    assert_int_equal(test_parse(DISCOVERY_TXT_BELL, many_strings, &txt), -1);
}

/* Wire-level damage: a length past the end, NUL inside a value, empty and
 * oversized records. */
static void test_wire(void **state)
{
    struct discovery_txt txt;
    char error[TEST_ERROR_SIZE];
    uint8_t record[TEST_RECORD_MAX];
    const char *bell[] = {"v=1", "id=a1b2c3d4e5f6", "model=m", NULL};
    size_t size = test_record(record, bell);

    (void)state;
    assert_int_equal(
        discovery_txt_parse(record, size, DISCOVERY_TXT_BELL, &txt, error, sizeof(error)), 0);
    assert_int_equal(
        discovery_txt_parse(record, size - 1, DISCOVERY_TXT_BELL, &txt, error, sizeof(error)), -1);
    record[8] = 0; /* a NUL inside the id value */
    assert_int_equal(
        discovery_txt_parse(record, size, DISCOVERY_TXT_BELL, &txt, error, sizeof(error)), -1);
    assert_int_equal(discovery_txt_parse(record, 0, DISCOVERY_TXT_BELL, &txt, error, sizeof(error)),
                     -1);
    assert_int_equal(discovery_txt_parse(NULL, 3, DISCOVERY_TXT_BELL, &txt, error, sizeof(error)),
                     -1);
    memset(record, 0, sizeof(record));
    assert_int_equal(discovery_txt_parse(record, DISCOVERY_TXT_RECORD_MAX + 1, DISCOVERY_TXT_BELL,
                                         &txt, error, sizeof(error)),
                     -1);
}

/* Names: printable copies, bounded; pins: only the right prefix matches. */
static void test_names_and_pins(void **state)
{
    char out[DISCOVERY_NAME_MAX + 1];
    char name[DISCOVERY_NAME_MAX + 2];
    const char *pin = "0011223344556677aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    (void)state;
    assert_int_equal(
        discovery_txt_clean_name("bell\n\x01x", 7, DISCOVERY_NAME_MAX, out, sizeof(out)), 0);
    assert_string_equal(out, "bell??x");
    memset(name, 'n', sizeof(name));
    assert_int_equal(
        discovery_txt_clean_name(name, sizeof(name), DISCOVERY_NAME_MAX, out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(discovery_txt_clean_name(name, 0, DISCOVERY_NAME_MAX, out, sizeof(out)), -1);
    assert_int_equal(discovery_txt_pk_matches_pin("0011223344556677", pin), 1);
    assert_int_equal(discovery_txt_pk_matches_pin("0011223344556678", pin), 0);
    assert_int_equal(discovery_txt_pk_matches_pin("001122334455667", pin), 0);
    assert_int_equal(discovery_txt_pk_matches_pin("0011223344556677", "0011223344556677"), 0);
    assert_int_equal(discovery_txt_pk_matches_pin("0011223344556677", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_wire),
        cmocka_unit_test(test_names_and_pins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
