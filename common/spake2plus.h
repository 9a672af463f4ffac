/*
 * spake2plus.h - SPAKE2+ (RFC 9383) with the ciphersuite
 * P256-SHA256-HKDF-SHA256-HMAC-SHA256, on mbedTLS's ECP, bignum, MD, HKDF and
 * HMAC: the pairing handshake between the hub (the prover, holding w0 and
 * w1 derived from the setup code) and a doorbell (the verifier, holding w0
 * and L = w1*P only). docs/protocol.md, "Pairing: SPAKE2+", gives the
 * construction and the identities and context Doorstep uses.
 *
 * The three messages, each side a small state machine:
 *   hub -> doorbell   shareP                 spake2plus_prover_share()
 *   doorbell -> hub   shareV, confirmV       spake2plus_verifier_respond()
 *   hub -> doorbell   confirmP               spake2plus_prover_confirm()
 *                                            spake2plus_verifier_finish()
 * after which both sides read the same K_shared (spake2plus_shared_key()).
 * Every failure is final: a session that refused a message refuses all the
 * next ones, so a peer gets one guess of the code per session.
 *
 * Shares and L travel as uncompressed SEC1 points (65 bytes, 0x04 || x || y);
 * w0 and w1 as 32-byte big-endian integers in [1, p-1]. A received point
 * must have that length and form, be on the curve and not be the identity.
 *
 * Threads: a session belongs to one thread at a time; sessions share no
 * state, so any number run in parallel. Ownership: spake2plus_*_new()
 * returns a session the caller frees with spake2plus_free(), which zeroises
 * every secret in it (w0, w1, the ephemeral scalar, the keys).
 */
#ifndef DOORSTEP_SPAKE2PLUS_H
#define DOORSTEP_SPAKE2PLUS_H

#include <stddef.h>
#include <stdint.h>

#define SPAKE2PLUS_SCALAR_SIZE  32  /* w0, w1, x, y: big-endian, modulo p */
#define SPAKE2PLUS_POINT_SIZE   65  /* shareP, shareV, L, Z, V: uncompressed SEC1 */
#define SPAKE2PLUS_CONFIRM_SIZE 32  /* confirmP, confirmV: HMAC-SHA256 */
#define SPAKE2PLUS_KEY_SIZE     32  /* K_main, K_confirmP, K_confirmV, K_shared */
#define SPAKE2PLUS_CONTEXT_MAX  128 /* bytes of the context string */
#define SPAKE2PLUS_IDENTITY_MAX 128 /* bytes of each identity */
/* The longest transcript TT: ten 8-byte lengths, the context, both
 * identities, six points (M, N, shareP, shareV, Z, V) and w0. */
#define SPAKE2PLUS_TRANSCRIPT_MAX                                                                  \
    (10 * 8 + SPAKE2PLUS_CONTEXT_MAX + 2 * SPAKE2PLUS_IDENTITY_MAX + 6 * SPAKE2PLUS_POINT_SIZE +   \
     SPAKE2PLUS_SCALAR_SIZE)

/* The strings both sides put in the transcript (RFC 9383 section 3.3).
 * Copied into the session by spake2plus_*_new(); either identity may be
 * empty (length 0, pointer may then be NULL), which the RFC allows but
 * Doorstep never does (docs/protocol.md). */
struct spake2plus_identities {
    const uint8_t *context;
    size_t context_length;
    const uint8_t *prover;
    size_t prover_length;
    const uint8_t *verifier;
    size_t verifier_length;
};

/* Every intermediate value of a session, written as it is computed when a
 * caller attached one with spake2plus_set_trace(): the known-answer tests
 * compare them with RFC 9383's Appendix C. It holds secrets; nothing but
 * tests attaches one. */
struct spake2plus_trace {
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE];
    uint8_t share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t z[SPAKE2PLUS_POINT_SIZE];
    uint8_t v[SPAKE2PLUS_POINT_SIZE];
    uint8_t transcript[SPAKE2PLUS_TRANSCRIPT_MAX];
    size_t transcript_length;
    uint8_t k_main[SPAKE2PLUS_KEY_SIZE];
    uint8_t k_confirm_p[SPAKE2PLUS_KEY_SIZE];
    uint8_t k_confirm_v[SPAKE2PLUS_KEY_SIZE];
    uint8_t confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t k_shared[SPAKE2PLUS_KEY_SIZE];
};

struct spake2plus;

/* A prover session (the hub) from w0 and w1 (SPAKE2PLUS_SCALAR_SIZE bytes
 * each, in [1, p-1]); seeds its own CTR_DRBG from getrandom(2). Returns the
 * session (free with spake2plus_free()) or NULL with the reason in error. */
struct spake2plus *spake2plus_prover_new(const struct spake2plus_identities *identities,
                                         const uint8_t *w0, const uint8_t *w1, char *error,
                                         size_t error_size);

/* A verifier session (the doorbell) from its stored record: w0
 * (SPAKE2PLUS_SCALAR_SIZE bytes) and L (SPAKE2PLUS_POINT_SIZE bytes, a
 * point of the curve). Returns the session or NULL with the reason. */
struct spake2plus *spake2plus_verifier_new(const struct spake2plus_identities *identities,
                                           const uint8_t *w0, const uint8_t *l, char *error,
                                           size_t error_size);

/* Zeroise and free a session; NULL is ignored. */
void spake2plus_free(struct spake2plus *session);

/* Record every intermediate into trace (owned by the caller, which must
 * outlive the session or be detached with NULL). For tests. */
void spake2plus_set_trace(struct spake2plus *session, struct spake2plus_trace *trace);

/* Use scalar (SPAKE2PLUS_SCALAR_SIZE bytes, in [1, p-1]) as the session's
 * x or y instead of a random one: the known-answer tests replay the RFC's.
 * Only before the session's first message. Returns 0 or -1 with the reason. */
int spake2plus_set_ephemeral(struct spake2plus *session, const uint8_t *scalar, char *error,
                             size_t error_size);

/* Prover, first step: draw x, write shareP = x*P + w0*M into share_p
 * (share_p_size >= SPAKE2PLUS_POINT_SIZE; SPAKE2PLUS_POINT_SIZE bytes are
 * written). Returns 0 or -1 with the reason (the session is then failed). */
int spake2plus_prover_share(struct spake2plus *session, uint8_t *share_p, size_t share_p_size,
                            char *error, size_t error_size);

/* Verifier, on the prover's share: check it, draw y, write shareV = y*P +
 * w0*N and confirmV = HMAC(K_confirmV, shareP) (SPAKE2PLUS_POINT_SIZE and
 * SPAKE2PLUS_CONFIRM_SIZE bytes). Returns 0, or -1 with the reason for a
 * malformed share (the session is then failed). */
int spake2plus_verifier_respond(struct spake2plus *session, const uint8_t *share_p,
                                size_t share_p_length, uint8_t *share_v, size_t share_v_size,
                                uint8_t *confirm_v, size_t confirm_v_size, char *error,
                                size_t error_size);

/* Prover, on the verifier's answer: check shareV, derive the keys, check
 * confirmV (in constant time) and write confirmP = HMAC(K_confirmP, shareV)
 * (SPAKE2PLUS_CONFIRM_SIZE bytes). Returns 0 when the verifier proved it
 * holds this code's record; -1 with the reason otherwise (wrong code,
 * malformed message), the session then failed and confirm_p untouched. */
int spake2plus_prover_confirm(struct spake2plus *session, const uint8_t *share_v,
                              size_t share_v_length, const uint8_t *confirm_v,
                              size_t confirm_v_length, uint8_t *confirm_p, size_t confirm_p_size,
                              char *error, size_t error_size);

/* Verifier, last step: check confirmP in constant time. Returns 0 when the
 * prover proved it knows the code; -1 with the reason otherwise. */
int spake2plus_verifier_finish(struct spake2plus *session, const uint8_t *confirm_p,
                               size_t confirm_p_length, char *error, size_t error_size);

/* Copy K_shared (SPAKE2PLUS_KEY_SIZE bytes) into key once the session
 * completed: the prover after spake2plus_prover_confirm(), the verifier after
 * spake2plus_verifier_finish() succeeded. Returns 0, or -1 with the reason. */
int spake2plus_shared_key(const struct spake2plus *session, uint8_t *key, size_t key_size,
                          char *error, size_t error_size);

/* w1*P, uncompressed into l (SPAKE2PLUS_POINT_SIZE bytes): the L of the
 * verifier's record, from w1 (SPAKE2PLUS_SCALAR_SIZE bytes in [1, p-1]).
 * Returns 0 or -1 with the reason. */
int spake2plus_compute_l(const uint8_t *w1, uint8_t *l, size_t l_size, char *error,
                         size_t error_size);

/* Reduce a PBKDF output half (w0s or w1s, half_length big-endian bytes) modulo
 * the group order p into scalar (SPAKE2PLUS_SCALAR_SIZE bytes), as RFC 9383
 * section 3.2 says. Fails on a zero result, which the protocol cannot use.
 * Returns 0 or -1 with the reason. */
int spake2plus_reduce_scalar(const uint8_t *half, size_t half_length, uint8_t *scalar, char *error,
                             size_t error_size);

#endif
