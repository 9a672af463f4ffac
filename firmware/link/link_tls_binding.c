/*
 * link_tls_binding.c - the doorbell's side of the TLS channel binding (see
 * link_tls_binding.h). Debian's libwebsockets runs on OpenSSL, so the
 * exporter is OpenSSL's SSL_export_keying_material on the session that
 * lws_get_ssl() gives.
 *
 * Threads: the lws service thread. Owns nothing.
 */
#include "link/link_tls_binding.h"

#include <openssl/ssl.h>

#include "common/error_text.h"

#define LINK_TLS_BINDING_LABEL "EXPORTER-Channel-Binding"

int link_tls_binding(struct lws *wsi, uint8_t out[LINK_TLS_BINDING_SIZE], char *error,
                     size_t error_size)
{
    SSL *ssl = wsi != NULL ? lws_get_ssl(wsi) : NULL;

    if (ssl == NULL) {
        error_text_set(error, error_size, "the connection has no TLS session");
        return -1;
    }
    /* TLS 1.3 exporters are safe as they are; TLS 1.2 needs the extended
     * master secret. */
    if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) {
        error_text_set(error, error_size,
                       "the TLS session has no extended master secret (RFC 7627)");
        return -1;
    }
    if (SSL_export_keying_material(ssl, out, LINK_TLS_BINDING_SIZE, LINK_TLS_BINDING_LABEL,
                                   sizeof(LINK_TLS_BINDING_LABEL) - 1, NULL, 0, 0) != 1) {
        error_text_set(error, error_size, "the TLS exporter failed");
        return -1;
    }
    return 0;
}
