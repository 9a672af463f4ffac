/*
 * fuzz_pair.c - libFuzzer harness for the /pair/v1 message codec
 * (common/pair_protocol.c) on top of the device-link frame decoder: the
 * input is one whole frame, decoded as each of the six pairing types in turn
 * and parsed with that type's parser.
 *
 * Invariants: a refusal carries a terminated reason; a payload that parses
 * builds again, and the built payload parses back to the same struct (so
 * neither side can be made to send what the other refuses).
 *
 * Runs on libFuzzer's single thread; everything is freed before returning.
 * FUZZ_SOURCES:
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pair_protocol.h"

#define FUZZ_ERROR_SIZE 160

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse json as a struct of struct_size with parse, build it with build and
 * parse the result again: the two structs must be equal. */
#define FUZZ_PAIR_CHECK(struct_name, parse, build)                                                 \
    do {                                                                                           \
        struct struct_name first, second;                                                          \
        char reason[FUZZ_ERROR_SIZE] = "";                                                         \
        if (parse(json, &first, reason, sizeof(reason)) != 0) {                                    \
            if (reason[0] == '\0' || strnlen(reason, sizeof(reason)) == sizeof(reason))            \
                abort();                                                                           \
            break;                                                                                 \
        }                                                                                          \
        cJSON *built = build(&first);                                                              \
        if (built == NULL || parse(built, &second, reason, sizeof(reason)) != 0 ||                 \
            memcmp(&first, &second, sizeof(first)) != 0)                                           \
            abort();                                                                               \
        cJSON_Delete(built);                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t types[] = {LINK_PAIR_HELLO,     LINK_PAIR_SHARE_P,    LINK_PAIR_SHARE_V,
                                    LINK_PAIR_CONFIRM_P, LINK_PAIR_DEVICE_KEY, LINK_PAIR_HUB_INFO};

    for (size_t i = 0; i < sizeof(types); i++) {
        struct link_error link_error;
        char error[FUZZ_ERROR_SIZE] = "";
        cJSON *json = NULL;
        int result =
            pair_message_decode(data, size, types[i], &json, &link_error, error, sizeof(error));

        if (result < 0 && (error[0] == '\0' || strnlen(error, sizeof(error)) == sizeof(error)))
            abort();
        if (result != 0)
            continue;
        switch (types[i]) {
        case LINK_PAIR_HELLO:
            FUZZ_PAIR_CHECK(pair_hello, pair_parse_hello, pair_build_hello);
            break;
        case LINK_PAIR_SHARE_P:
            FUZZ_PAIR_CHECK(pair_share_p, pair_parse_share_p, pair_build_share_p);
            break;
        case LINK_PAIR_SHARE_V:
            FUZZ_PAIR_CHECK(pair_share_v, pair_parse_share_v, pair_build_share_v);
            break;
        case LINK_PAIR_CONFIRM_P:
            FUZZ_PAIR_CHECK(pair_confirm_p, pair_parse_confirm_p, pair_build_confirm_p);
            break;
        case LINK_PAIR_DEVICE_KEY:
            FUZZ_PAIR_CHECK(pair_device_key, pair_parse_device_key, pair_build_device_key);
            break;
        default:
            FUZZ_PAIR_CHECK(pair_hub_info, pair_parse_hub_info, pair_build_hub_info);
            break;
        }
        cJSON_Delete(json);
    }
    return 0;
}
