/*
 * fuzz_discovery_txt.c - libFuzzer harness for the mDNS TXT record parser
 * (common/discovery_txt.c), fed what anyone on the local network can
 * announce: the first byte picks the service kind (hub or doorbell), the
 * rest is the record in DNS wire form; the same bytes also go through the
 * name cleaner and the pin matcher.
 *
 * For each input: on failure the reason must be a non-empty, bounded string
 * and the output zeroed; on success every field must be in form (version 1,
 * id 12 lowercase hex, pk 16 lowercase hex for a hub, model 1..32 printable
 * characters for a doorbell, the other kind's field empty).
 *
 * Runs on libFuzzer's single thread; nothing is allocated.
 * FUZZ_SOURCES:
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/discovery_txt.h"

#define FUZZ_ERROR_SIZE 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* 1 when every byte of the string is printable ASCII. */
static int fuzz_printable(const char *text)
{
    for (; *text != '\0'; text++)
        if ((unsigned char)*text < 0x20 || (unsigned char)*text > 0x7e)
            return 0;
    return 1;
}

/* Parse one input (see the file comment); aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct discovery_txt txt;
    char error[FUZZ_ERROR_SIZE] = "";
    char name[DISCOVERY_NAME_MAX + 1];
    enum discovery_txt_kind kind;
    static const struct discovery_txt zero;

    if (size < 1)
        return 0;
    kind = data[0] & 1 ? DISCOVERY_TXT_BELL : DISCOVERY_TXT_HUB;
    if (discovery_txt_parse(data + 1, size - 1, kind, &txt, error, sizeof(error)) != 0) {
        FUZZ_CHECK(error[0] != '\0' && strlen(error) < sizeof(error));
        FUZZ_CHECK(memcmp(&txt, &zero, sizeof(txt)) == 0);
    } else {
        FUZZ_CHECK(txt.version == DISCOVERY_VERSION);
        FUZZ_CHECK(discovery_txt_is_hex(txt.id, DISCOVERY_ID_LENGTH));
        if (kind == DISCOVERY_TXT_HUB) {
            FUZZ_CHECK(discovery_txt_is_hex(txt.pk, DISCOVERY_PK_LENGTH));
            FUZZ_CHECK(txt.model[0] == '\0');
        } else {
            size_t length = strlen(txt.model);
            FUZZ_CHECK(length >= 1 && length <= DISCOVERY_MODEL_MAX);
            FUZZ_CHECK(fuzz_printable(txt.model));
            FUZZ_CHECK(txt.pk[0] == '\0');
        }
    }
    if (discovery_txt_clean_name((const char *)data, size, DISCOVERY_NAME_MAX, name,
                                 sizeof(name)) == 0)
        FUZZ_CHECK(strlen(name) == size && fuzz_printable(name));
    else
        FUZZ_CHECK(name[0] == '\0');
    if (size > DISCOVERY_PK_LENGTH + 1) {
        char pk[DISCOVERY_PK_LENGTH + 1], pin[DISCOVERY_KEY_SHA256_HEX + 1];
        memcpy(pk, data, DISCOVERY_PK_LENGTH);
        pk[DISCOVERY_PK_LENGTH] = '\0';
        memset(pin, 'a', DISCOVERY_KEY_SHA256_HEX);
        pin[DISCOVERY_KEY_SHA256_HEX] = '\0';
        (void)discovery_txt_pk_matches_pin(pk, pin);
    }
    return 0;
}
