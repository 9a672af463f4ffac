/*
 * link_tls_binding.h - the TLS channel binding of the doorbell's connection
 * to the hub: RFC 9266 "tls-exporter", the RFC 5705 keying-material exporter
 * with the label "EXPORTER-Channel-Binding", no context, 32 bytes. Both
 * ends of one TLS session compute the same value; two sessions (a relay's
 * two legs) never do, so a signature over it cannot be passed through a
 * relay. The hub computes its side in civetweb (mg_get_tls_channel_binding).
 *
 * Threads: the lws service thread (the caller's connection). No state.
 */
#ifndef DOORSTEP_LINK_TLS_BINDING_H
#define DOORSTEP_LINK_TLS_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#define LINK_TLS_BINDING_SIZE 32

/*
 * The binding of wsi's TLS session into out. 0, or -1 with a reason in error
 * when there is none: no TLS, or a TLS 1.2 session without the extended
 * master secret (RFC 7627; without it a relay can give its two sessions the
 * same master secret, and so the same binding).
 */
int link_tls_binding(struct lws *wsi, uint8_t out[LINK_TLS_BINDING_SIZE], char *error,
                     size_t error_size);

#endif
