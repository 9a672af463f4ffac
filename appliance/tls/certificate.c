/*
 * certificate.c - create or load the hub's TLS key and certificate with
 * mbedtls (see certificate.h). Main thread, at start-up.
 *
 * Files under data_dir/tls/ (directory 0700, files 0600):
 *   hub.key     ECDSA P-256 private key (PEM), created once
 *   hub.crt     self-signed certificate (PEM), re-issued when names change
 *   server.pem  key + certificate concatenated: civetweb's mbedTLS backend
 *               reads both from one file
 */
#define LOG_MODULE "tls"

#include "tls/certificate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "common/error_text.h"
#include "common/link_protocol.h"
#include "common/log.h"

#define CERTIFICATE_PEM_MAX     8192
#define CERTIFICATE_VALID_DAYS  3650
#define CERTIFICATE_RENEW_DAYS  30
#define CERTIFICATE_SAN_DER_MAX 4096

/* Random source shared by key and certificate generation in one call. */
struct certificate_random {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static int certificate_random_init(struct certificate_random *random)
{
    static const char personalisation[] = "doorstep-certificate";
    mbedtls_entropy_init(&random->entropy);
    mbedtls_ctr_drbg_init(&random->drbg);
    return mbedtls_ctr_drbg_seed(&random->drbg, mbedtls_entropy_func, &random->entropy,
                                 (const unsigned char *)personalisation,
                                 sizeof(personalisation) - 1);
}

static void certificate_random_free(struct certificate_random *random)
{
    mbedtls_ctr_drbg_free(&random->drbg);
    mbedtls_entropy_free(&random->entropy);
}

/* Write data to path atomically (temp file + rename) with mode 0600. */
static int certificate_write_file(const char *path, const void *data, size_t size, char *error,
                                  size_t error_size)
{
    char temporary[4200];
    int fd;
    ssize_t written;

    snprintf(temporary, sizeof(temporary), "%s.tmp", path);
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        error_text_set(error, error_size, "%s: %s", temporary, strerror(errno));
        return -1;
    }
    written = write(fd, data, size);
    if (written != (ssize_t)size || fsync(fd) != 0) {
        error_text_set(error, error_size, "%s: %s", temporary,
                       written < 0 ? strerror(errno) : "short write");
        close(fd);
        unlink(temporary);
        return -1;
    }
    close(fd);
    if (rename(temporary, path) != 0) {
        error_text_set(error, error_size, "rename to %s: %s", path, strerror(errno));
        unlink(temporary);
        return -1;
    }
    return 0;
}

/* Read a whole small file into a NUL-terminated malloc'd buffer (caller frees). */
static char *certificate_read_file(const char *path, size_t max_size)
{
    FILE *file = fopen(path, "re");
    char *data;
    size_t size;

    if (file == NULL)
        return NULL;
    data = malloc(max_size + 1);
    if (data == NULL) {
        fclose(file);
        return NULL;
    }
    size = fread(data, 1, max_size + 1, file);
    fclose(file);
    if (size > max_size) {
        free(data);
        return NULL;
    }
    data[size] = '\0';
    return data;
}

int certificate_machine_names(char names[][CERTIFICATE_NAME_MAX], int max_names)
{
    struct ifaddrs *interfaces = NULL;
    char host[CERTIFICATE_NAME_MAX - 8] = "";
    int count = 0;

#define CERTIFICATE_ADD_NAME(...)                                                                  \
    do {                                                                                           \
        if (count < max_names)                                                                     \
            snprintf(names[count++], CERTIFICATE_NAME_MAX, __VA_ARGS__);                           \
    } while (0)

    CERTIFICATE_ADD_NAME("localhost");
    if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0' &&
        strcmp(host, "localhost") != 0) {
        CERTIFICATE_ADD_NAME("%s", host);
        if (strchr(host, '.') == NULL)
            CERTIFICATE_ADD_NAME("%s.local", host);
    }
    CERTIFICATE_ADD_NAME("127.0.0.1");
    CERTIFICATE_ADD_NAME("::1");
    if (getifaddrs(&interfaces) == 0) {
        for (struct ifaddrs *entry = interfaces; entry != NULL; entry = entry->ifa_next) {
            char address[INET6_ADDRSTRLEN];
            if (entry->ifa_addr == NULL || (entry->ifa_flags & IFF_LOOPBACK))
                continue;
            if (entry->ifa_addr->sa_family == AF_INET) {
                const struct sockaddr_in *v4 = (const void *)entry->ifa_addr;
                inet_ntop(AF_INET, &v4->sin_addr, address, sizeof(address));
            } else if (entry->ifa_addr->sa_family == AF_INET6) {
                const struct sockaddr_in6 *v6 = (const void *)entry->ifa_addr;
                if (IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr))
                    continue; /* needs a zone id; unusable in a URL's Host */
                inet_ntop(AF_INET6, &v6->sin6_addr, address, sizeof(address));
            } else {
                continue;
            }
            CERTIFICATE_ADD_NAME("%s", address);
        }
        freeifaddrs(interfaces);
    }
#undef CERTIFICATE_ADD_NAME
    return count;
}

/*
 * DER-encode a subjectAltName value: SEQUENCE OF GeneralName, with
 * dNSName [2] IA5String or iPAddress [7] OCTET STRING (RFC 5280 4.2.1.6).
 * mbedtls 2.28 cannot write SANs itself. Returns the length, or -1.
 */
static int certificate_encode_san(char names[][CERTIFICATE_NAME_MAX], int count, unsigned char *out,
                                  size_t out_size)
{
    unsigned char body[CERTIFICATE_SAN_DER_MAX];
    size_t used = 0;

    for (int i = 0; i < count; i++) {
        unsigned char address[16];
        const unsigned char *value;
        size_t length;
        unsigned char tag;

        if (inet_pton(AF_INET, names[i], address) == 1) {
            tag = 0x87, value = address, length = 4;
        } else if (inet_pton(AF_INET6, names[i], address) == 1) {
            tag = 0x87, value = address, length = 16;
        } else {
            tag = 0x82, value = (const unsigned char *)names[i], length = strlen(names[i]);
        }
        if (length > 127 || used + 2 + length > sizeof(body))
            return -1;
        body[used++] = tag;
        body[used++] = (unsigned char)length;
        memcpy(body + used, value, length);
        used += length;
    }
    /* SEQUENCE header with a short or two-byte long-form length. */
    if (used < 128) {
        if (out_size < used + 2)
            return -1;
        out[0] = 0x30, out[1] = (unsigned char)used;
        memcpy(out + 2, body, used);
        return (int)used + 2;
    }
    if (used > 0xffff || out_size < used + 4)
        return -1;
    out[0] = 0x30, out[1] = 0x82, out[2] = (unsigned char)(used >> 8), out[3] = (unsigned char)used;
    memcpy(out + 4, body, used);
    return (int)used + 4;
}

/* Format a time as mbedtls wants it: "YYYYMMDDhhmmss" (UTC). */
static void certificate_format_time(time_t when, char out[16])
{
    struct tm utc;
    gmtime_r(&when, &utc);
    strftime(out, 16, "%Y%m%d%H%M%S", &utc);
}

/* Is every wanted name among the certificate's SANs, and is it not near expiry? */
static int certificate_still_good(const char *cert_path, char names[][CERTIFICATE_NAME_MAX],
                                  int count)
{
    mbedtls_x509_crt certificate;
    int good = 0;

    mbedtls_x509_crt_init(&certificate);
    if (mbedtls_x509_crt_parse_file(&certificate, cert_path) != 0)
        goto out;
    {
        time_t renew_by = time(NULL) + (time_t)CERTIFICATE_RENEW_DAYS * 86400;
        struct tm until;
        const mbedtls_x509_time *valid_to = &certificate.valid_to;
        memset(&until, 0, sizeof(until));
        until.tm_year = valid_to->year - 1900, until.tm_mon = valid_to->mon - 1;
        until.tm_mday = valid_to->day, until.tm_hour = valid_to->hour;
        if (timegm(&until) < renew_by)
            goto out;
    }
    for (int i = 0; i < count; i++) {
        unsigned char address[16];
        size_t length;
        const void *value;
        int found = 0;

        if (inet_pton(AF_INET, names[i], address) == 1)
            value = address, length = 4;
        else if (inet_pton(AF_INET6, names[i], address) == 1)
            value = address, length = 16;
        else
            value = names[i], length = strlen(names[i]);
        /* 2.28 keeps the raw SAN entries: tag byte plus value. */
        for (const mbedtls_x509_sequence *san = &certificate.subject_alt_names;
             san != NULL && san->buf.p != NULL; san = san->next) {
            if (san->buf.len == length && memcmp(san->buf.p, value, length) == 0)
                found = 1;
        }
        if (!found)
            goto out;
    }
    good = 1;
out:
    mbedtls_x509_crt_free(&certificate);
    return good;
}

/* Load hub.key, or generate and store a new P-256 key. */
static int certificate_load_or_create_key(const char *key_path, mbedtls_pk_context *key,
                                          struct certificate_random *random, char *error,
                                          size_t error_size)
{
    unsigned char pem[CERTIFICATE_PEM_MAX];
    int rc;

    if (access(key_path, F_OK) == 0) {
        rc = mbedtls_pk_parse_keyfile(key, key_path, NULL);
        if (rc != 0 || !mbedtls_pk_can_do(key, MBEDTLS_PK_ECKEY)) {
            error_text_set(error, error_size, "%s: not a usable EC private key (mbedtls %d)",
                           key_path, rc);
            return -1;
        }
        return 0;
    }
    if ((rc = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
        (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                                  mbedtls_ctr_drbg_random, &random->drbg)) != 0 ||
        (rc = mbedtls_pk_write_key_pem(key, pem, sizeof(pem))) != 0) {
        error_text_set(error, error_size, "generating the hub key failed (mbedtls %d)", rc);
        return -1;
    }
    if (certificate_write_file(key_path, pem, strlen((char *)pem), error, error_size) != 0)
        return -1;
    log_info("generated a new ECDSA P-256 hub key in %s", key_path);
    return 0;
}

/* Issue a self-signed certificate for key covering names; write it as PEM. */
static int certificate_issue(const char *cert_path, mbedtls_pk_context *key,
                             char names[][CERTIFICATE_NAME_MAX], int count,
                             struct certificate_random *random, char *error, size_t error_size)
{
    mbedtls_x509write_cert writer;
    mbedtls_mpi serial;
    unsigned char serial_bytes[16];
    unsigned char san[CERTIFICATE_SAN_DER_MAX];
    unsigned char pem[CERTIFICATE_PEM_MAX];
    /* ExtendedKeyUsage ::= SEQUENCE { id-kp-serverAuth } */
    static const unsigned char server_auth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                                0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
    char subject[CERTIFICATE_NAME_MAX + 32];
    char not_before[16], not_after[16];
    time_t now = time(NULL);
    int san_length, rc = -1;

    mbedtls_x509write_crt_init(&writer);
    mbedtls_mpi_init(&serial);

    san_length = certificate_encode_san(names, count, san, sizeof(san));
    if (san_length < 0) {
        error_text_set(error, error_size, "too many certificate names");
        goto out;
    }
    /* Positive 127-bit random serial (RFC 5280 allows up to 20 octets). */
    if (mbedtls_ctr_drbg_random(&random->drbg, serial_bytes, sizeof(serial_bytes)) != 0)
        goto crypto_error;
    serial_bytes[0] &= 0x7f;
    serial_bytes[0] |= 0x01;
    /* A host name with a comma would need escaping; CN is informational
     * only (clients check the SANs), so fall back to a fixed name. */
    if (strpbrk(names[count > 1 ? 1 : 0], ",+=\\\"<>;") != NULL ||
        snprintf(subject, sizeof(subject), "CN=%s,O=Doorstep hub", names[count > 1 ? 1 : 0]) >=
            (int)sizeof(subject))
        snprintf(subject, sizeof(subject), "CN=doorstep,O=Doorstep hub");
    certificate_format_time(now - 86400, not_before);
    certificate_format_time(now + (time_t)CERTIFICATE_VALID_DAYS * 86400, not_after);

    mbedtls_x509write_crt_set_version(&writer, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&writer, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&writer, key);
    mbedtls_x509write_crt_set_issuer_key(&writer, key);
    if (mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof(serial_bytes)) != 0 ||
        mbedtls_x509write_crt_set_serial(&writer, &serial) != 0 ||
        mbedtls_x509write_crt_set_subject_name(&writer, subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&writer, subject) != 0 ||
        mbedtls_x509write_crt_set_validity(&writer, not_before, not_after) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&writer, 0, -1) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&writer, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0 ||
        mbedtls_x509write_crt_set_subject_key_identifier(&writer) != 0 ||
        mbedtls_x509write_crt_set_extension(&writer, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                            MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                                            (size_t)san_length) != 0 ||
        mbedtls_x509write_crt_set_extension(&writer, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                            MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                            server_auth, sizeof(server_auth)) != 0 ||
        mbedtls_x509write_crt_pem(&writer, pem, sizeof(pem), mbedtls_ctr_drbg_random,
                                  &random->drbg) != 0)
        goto crypto_error;
    if (certificate_write_file(cert_path, pem, strlen((char *)pem), error, error_size) != 0)
        goto out;
    log_info("issued a self-signed certificate for %d names in %s", count, cert_path);
    rc = 0;
    goto out;

crypto_error:
    error_text_set(error, error_size, "writing the certificate failed");
out:
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&writer);
    return rc;
}

/* Hex SHA-256 of the key's SubjectPublicKeyInfo: what a doorbell pins. */
static int certificate_key_fingerprint(mbedtls_pk_context *key, char out[65])
{
    unsigned char der[512];
    unsigned char digest[32];
    int length = mbedtls_pk_write_pubkey_der(key, der, sizeof(der));
    if (length <= 0)
        return -1;
    /* mbedtls writes DER at the end of the buffer. */
    if (mbedtls_sha256_ret(der + sizeof(der) - length, (size_t)length, digest, 0) != 0)
        return -1;
    link_hex_encode(digest, sizeof(digest), out);
    return 0;
}

/* server.pem = key PEM + certificate PEM. */
static int certificate_write_combined(const char *server_path, const char *key_path,
                                      const char *cert_path, char *error, size_t error_size)
{
    char *key_pem = certificate_read_file(key_path, 64 * 1024);
    char *cert_pem = certificate_read_file(cert_path, 256 * 1024);
    char *combined = NULL;
    int rc = -1;

    if (key_pem == NULL || cert_pem == NULL) {
        error_text_set(error, error_size, "cannot read %s", key_pem ? cert_path : key_path);
        goto out;
    }
    if (asprintf(&combined, "%s%s%s", key_pem, key_pem[strlen(key_pem) - 1] == '\n' ? "" : "\n",
                 cert_pem) < 0) {
        combined = NULL;
        error_text_set(error, error_size, "out of memory");
        goto out;
    }
    rc = certificate_write_file(server_path, combined, strlen(combined), error, error_size);
out:
    if (key_pem != NULL)
        memset(key_pem, 0, strlen(key_pem));
    if (combined != NULL)
        memset(combined, 0, strlen(combined));
    free(key_pem);
    free(cert_pem);
    free(combined);
    return rc;
}

/* Fill info->names from a certificate's dNSName/iPAddress SANs. */
static void certificate_collect_names(const char *cert_path, struct certificate_info *info)
{
    mbedtls_x509_crt certificate;

    info->name_count = 0;
    mbedtls_x509_crt_init(&certificate);
    if (mbedtls_x509_crt_parse_file(&certificate, cert_path) == 0) {
        for (const mbedtls_x509_sequence *san = &certificate.subject_alt_names;
             san != NULL && san->buf.p != NULL && info->name_count < CERTIFICATE_MAX_NAMES;
             san = san->next) {
            char *name = info->names[info->name_count];
            int tag = san->buf.tag & 0x1f;
            if (tag == 2 && san->buf.len < CERTIFICATE_NAME_MAX) {
                memcpy(name, san->buf.p, san->buf.len);
                name[san->buf.len] = '\0';
            } else if (tag == 7 && (san->buf.len == 4 || san->buf.len == 16)) {
                inet_ntop(san->buf.len == 4 ? AF_INET : AF_INET6, san->buf.p, name,
                          CERTIFICATE_NAME_MAX);
            } else {
                continue;
            }
            info->name_count++;
        }
    }
    mbedtls_x509_crt_free(&certificate);
}

int certificate_ensure(const char *data_dir, const char *user_cert, const char *user_key,
                       const char *const *extra_names, int extra_name_count,
                       struct certificate_info *info, char *error, size_t error_size)
{
    char directory[4096], key_path[4200], cert_path[4200];
    char names[CERTIFICATE_MAX_NAMES][CERTIFICATE_NAME_MAX];
    struct certificate_random random;
    mbedtls_pk_context key;
    int count, rc = -1;

    memset(info, 0, sizeof(*info));
    mbedtls_pk_init(&key);
    if (certificate_random_init(&random) != 0) {
        error_text_set(error, error_size, "cannot seed the random generator");
        goto out;
    }
    snprintf(directory, sizeof(directory), "%s/tls", data_dir);
    if (mkdir(directory, 0700) != 0 && errno != EEXIST) {
        error_text_set(error, error_size, "%s: %s", directory, strerror(errno));
        goto out;
    }
    if (snprintf(info->server_pem, sizeof(info->server_pem), "%s/server.pem", directory) >=
        (int)sizeof(info->server_pem)) {
        error_text_set(error, error_size, "data directory path too long");
        goto out;
    }

    if (user_cert != NULL && user_cert[0] != '\0') {
        snprintf(key_path, sizeof(key_path), "%s", user_key);
        snprintf(cert_path, sizeof(cert_path), "%s", user_cert);
        if (mbedtls_pk_parse_keyfile(&key, key_path, NULL) != 0) {
            error_text_set(error, error_size, "%s: cannot parse the private key", key_path);
            goto out;
        }
    } else {
        snprintf(key_path, sizeof(key_path), "%s/hub.key", directory);
        snprintf(cert_path, sizeof(cert_path), "%s/hub.crt", directory);
        count = certificate_machine_names(names, CERTIFICATE_MAX_NAMES);
        for (int i = 0; i < extra_name_count && count < CERTIFICATE_MAX_NAMES; i++)
            if (extra_names[i][0] != '\0')
                snprintf(names[count++], CERTIFICATE_NAME_MAX, "%s", extra_names[i]);
        if (certificate_load_or_create_key(key_path, &key, &random, error, error_size) != 0)
            goto out;
        if (!certificate_still_good(cert_path, names, count) &&
            certificate_issue(cert_path, &key, names, count, &random, error, error_size) != 0)
            goto out;
        info->generated = 1;
    }
    if (certificate_write_combined(info->server_pem, key_path, cert_path, error, error_size) != 0)
        goto out;
    if (certificate_key_fingerprint(&key, info->key_sha256) != 0) {
        error_text_set(error, error_size, "cannot fingerprint the hub key");
        goto out;
    }
    certificate_collect_names(cert_path, info);
    rc = 0;
out:
    mbedtls_pk_free(&key);
    certificate_random_free(&random);
    return rc;
}
