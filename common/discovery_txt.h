/*
 * discovery_txt.h - the DNS-SD TXT records of Doorstep's mDNS services,
 * parsed and checked. Hub (`_doorstep._tcp`: v, id, pk) and doorbell
 * (`_doorstep-bell._tcp`: v, id, model) use the same rules
 * (docs/protocol.md, "Discovery").
 *
 * Everything here comes from the local network and is untrusted: the
 * record is the DNS wire form (one length byte, then that many bytes, per
 * string), bounded in size and count; each known key must appear once with
 * a well-formed value; unknown keys are skipped; a duplicate key, a known
 * key without a value or a value out of form rejects the whole record.
 *
 * Pure functions: no allocation, no I/O, any thread.
 */
#ifndef DOORSTEP_DISCOVERY_TXT_H
#define DOORSTEP_DISCOVERY_TXT_H

#include <stddef.h>
#include <stdint.h>

#define DISCOVERY_TXT_RECORD_MAX  1300 /* bytes of a whole TXT record (RFC 6763 6.2) */
#define DISCOVERY_TXT_STRINGS_MAX 16   /* strings in one record */
#define DISCOVERY_ID_LENGTH       12   /* hex digits of a hub or doorbell id */
#define DISCOVERY_PK_LENGTH       16   /* hex digits of the hub key hash prefix */
#define DISCOVERY_MODEL_MAX       32   /* characters of a doorbell model */
#define DISCOVERY_NAME_MAX        63   /* bytes of a DNS-SD instance name (one label) */
#define DISCOVERY_HOST_MAX        255  /* bytes of a host name */
#define DISCOVERY_KEY_SHA256_HEX  64   /* hex digits of a full key pin */

#define DISCOVERY_SERVICE_HUB  "_doorstep._tcp"
#define DISCOVERY_SERVICE_BELL "_doorstep-bell._tcp"
#define DISCOVERY_VERSION      1

/* Which service a record belongs to: decides the keys it must carry. */
enum discovery_txt_kind {
    DISCOVERY_TXT_HUB,  /* v, id, pk */
    DISCOVERY_TXT_BELL, /* v, id, model */
};

/* A checked record: every field is NUL-terminated and in form. */
struct discovery_txt {
    int version;
    char id[DISCOVERY_ID_LENGTH + 1];
    char pk[DISCOVERY_PK_LENGTH + 1];    /* hub only; "" for a doorbell */
    char model[DISCOVERY_MODEL_MAX + 1]; /* doorbell only; "" for a hub */
};

/*
 * Parse a TXT record in DNS wire form (data, size) of the given kind into
 * *out. 0 when it is whole and valid, -1 with a reason (which never quotes
 * the record) otherwise; *out is then zeroed.
 */
int discovery_txt_parse(const uint8_t *data, size_t size, enum discovery_txt_kind kind,
                        struct discovery_txt *out, char *error, size_t error_size);

/* 1 when text is exactly `length` lowercase hex digits, else 0. */
int discovery_txt_is_hex(const char *text, size_t length);

/*
 * Copy an instance or host name (size bytes, not NUL-terminated) into out
 * (out_size bytes) as printable ASCII, every other byte as '?', cut at
 * max_length. 0, or -1 when it is empty or longer than max_length (out is
 * then "").
 */
int discovery_txt_clean_name(const char *name, size_t size, size_t max_length, char *out,
                             size_t out_size);

/*
 * 1 when a hub's announced pk (16 hex) is the start of the pinned full
 * SHA-256 (64 hex, either case), else 0. A match only picks a candidate:
 * the TLS connection checks the whole pin.
 */
int discovery_txt_pk_matches_pin(const char *pk, const char *pin);

#endif
