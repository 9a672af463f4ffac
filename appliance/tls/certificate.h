/*
 * certificate.h - the hub's TLS identity: an ECDSA P-256 key that lives as
 * long as the hub, and a self-signed certificate whose subjectAltNames cover
 * the host name and the machine's addresses. Or a user-supplied certificate.
 *
 * Main thread, at start-up only. The key is kept when the certificate is
 * re-issued (addresses changed), so doorbells that pin the hub's key keep
 * working.
 */
#ifndef DOORSTEP_CERTIFICATE_H
#define DOORSTEP_CERTIFICATE_H

#include <stddef.h>

#define CERTIFICATE_MAX_NAMES 32
#define CERTIFICATE_NAME_MAX  256

struct certificate_info {
    char server_pem[4096]; /* key + certificate in one PEM file, for civetweb */
    char names[CERTIFICATE_MAX_NAMES][CERTIFICATE_NAME_MAX]; /* DNS names and IPs it is valid for */
    int name_count;
    char key_sha256[65]; /* hex SHA-256 of the public key (SubjectPublicKeyInfo DER) */
    int generated;       /* 1 = our self-signed certificate */
};

/*
 * Make sure data_dir/tls/ holds a usable certificate. With user_cert and
 * user_key set, those are combined into server_pem; otherwise the key is
 * created on first start and the certificate (re-)issued when it is missing,
 * expiring within 30 days, or lacks one of the machine's current names.
 * extra_names are added to the SANs too (public_host, allowed hosts).
 * Returns 0 and fills *info, or -1 with a reason.
 */
int certificate_ensure(const char *data_dir, const char *user_cert, const char *user_key,
                       const char *const *extra_names, int extra_name_count,
                       struct certificate_info *info, char *error, size_t error_size);

/* The names this machine should be reachable as: host name, host.local,
 * localhost, and every non-link-local interface address. Returns the count. */
int certificate_machine_names(char names[][CERTIFICATE_NAME_MAX], int max_names);

#endif
