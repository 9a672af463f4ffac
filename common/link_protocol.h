/*
 * link_protocol.h - the device link v1: the one encoder/decoder of the messages
 * that doorbells and the hub exchange over a TLS WebSocket (docs/protocol.md).
 *
 * Every link message is exactly one unfragmented binary WebSocket frame:
 *
 *   offset size field
 *   0      1    version       LINK_PROTOCOL_VERSION
 *   1      1    type          enum link_type
 *   2      2    flags         big-endian, LINK_FLAG_*
 *   4      4    sequence      big-endian; per-type counter (video frame number, ...)
 *   8      8    timestamp_us  big-endian; capture time, microseconds since the Unix epoch
 *   16     ...  payload       binary media, or one UTF-8 JSON object (control types)
 *
 * The decoder is the only code that reads outside data from a device; it is
 * pure (no I/O, no globals) and has a libFuzzer harness (tests/fuzz/). Any
 * thread may call it; it owns nothing beyond the cJSON tree it returns.
 */
#ifndef DOORSTEP_LINK_PROTOCOL_H
#define DOORSTEP_LINK_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define LINK_PROTOCOL_VERSION 1
#define LINK_HEADER_SIZE      16
#define LINK_WEBSOCKET_PATH   "/link/v1"

/* Limits, including the 16-byte header. A larger message is a protocol error. */
#define LINK_MAX_MESSAGE_SIZE (4u * 1024u * 1024u) /* an I-frame at 4 Mbit/s 1080p fits easily */
#define LINK_MAX_JSON_SIZE    (64u * 1024u)
#define LINK_MAX_AUDIO_SIZE   (8u * 1024u)   /* one Opus packet is at most 1275 bytes per frame */
#define LINK_MAX_PREVIEW_SIZE (256u * 1024u) /* a timeline preview is a small JPEG (10-30 KB) */
#define LINK_MAX_DETECT_SIZE  (512u * 1024u) /* a detect frame: boxes + JPEG at most 960 px wide */

/*
 * Timeline previews (docs/protocol.md, "PREVIEW"): a hub that stores them
 * says so in WELCOME's settings as LINK_PREVIEW_SETTING (ms between
 * previews, LINK_PREVIEW_INTERVAL_MIN_MS..MAX); a doorbell sends PREVIEW
 * messages only to such a hub (an older hub closes the link on an unknown
 * type), at most one per interval and at once on a keyframe after a gap.
 */
#define LINK_PREVIEW_SETTING         "preview_interval_ms"
#define LINK_PREVIEW_INTERVAL_MS     2000
#define LINK_PREVIEW_INTERVAL_MIN_MS 500
#define LINK_PREVIEW_INTERVAL_MAX_MS 60000

/*
 * Detect frames (docs/protocol.md, "DETECT_FRAME"): a hub that looks for
 * people says so in WELCOME's settings as LINK_DETECT_SETTING (frames per
 * second, LINK_DETECT_FPS_MIN..MAX; absent or 0 = send none); a doorbell
 * then sends at most that many DETECT_FRAME per second while a motion or
 * PIR event is active. The hub asks for LINK_DETECT_FPS.
 */
#define LINK_DETECT_SETTING   "detect_fps"
#define LINK_DETECT_FPS       4
#define LINK_DETECT_FPS_MIN   1
#define LINK_DETECT_FPS_MAX   8
#define LINK_DETECT_MAX_WIDTH 960 /* the JPEG is scaled down to at most this width */

/*
 * Talk-back playout (docs/protocol.md "Talk-back playout"): a doorbell starts
 * playing LINK_TALK_AUDIO once LINK_TALK_PLAYOUT_MS of it is queued, then
 * paces packets by their timestamps, conceals a missing one for at most
 * LINK_TALK_CONCEAL_MS and drops the oldest past LINK_TALK_QUEUE_MAX_MS
 * queued. The hub uses the same figures to place what the doorbell plays
 * on its own clock (recorded conversations, recording/heard_audio.h).
 */
#define LINK_TALK_PLAYOUT_MS   60
#define LINK_TALK_CONCEAL_MS   60
#define LINK_TALK_QUEUE_MAX_MS 160

#define LINK_FLAG_KEYFRAME   0x0001u /* LINK_VIDEO: access unit is an IDR with SPS/PPS */
#define LINK_FLAG_SUB_STREAM 0x0002u /* LINK_VIDEO: access unit of the sub-stream (link_hello) */
#define LINK_VIDEO_FLAGS     (LINK_FLAG_KEYFRAME | LINK_FLAG_SUB_STREAM)

/* LINK_ERROR codes ([a-z0-9_]{1,63}); a receiver treats an unknown code like protocol_error. */
#define LINK_ERROR_CODE_PROTOCOL            "protocol_error"      /* undecodable or unexpected */
#define LINK_ERROR_CODE_UNSUPPORTED_VERSION "unsupported_version" /* version byte != ours */
#define LINK_ERROR_CODE_AUTH_FAILED         "auth_failed" /* wrong mac, unknown or revoked */
#define LINK_ERROR_CODE_TIMEOUT             "timeout"     /* handshake not finished in time */
#define LINK_ERROR_CODE_REPLACED            "replaced"    /* a newer connection took over */
#define LINK_ERROR_CODE_SHUTDOWN            "shutdown"    /* the hub is stopping */

enum link_type {
    LINK_HELLO = 0x01,            /* up,   JSON: device_id, firmware, protocol */
    LINK_CHALLENGE = 0x02,        /* down, JSON: nonce (64 hex chars) */
    LINK_AUTH = 0x03,             /* up,   JSON: mac (64 hex chars), see link_auth_compute_mac */
    LINK_WELCOME = 0x04,          /* down, JSON: name, settings */
    LINK_ERROR = 0x05,            /* both, JSON: code, reason; the sender closes afterwards */
    LINK_VIDEO = 0x10,            /* up,   H.264 Annex B access unit */
    LINK_AUDIO = 0x11,            /* up,   one Opus packet */
    LINK_SNAPSHOT = 0x12,         /* up,   JPEG; sequence = request or event id, see link_hello */
    LINK_PREVIEW = 0x13,          /* up,   small JPEG for the timeline; timestamp = capture time */
    LINK_DETECT_FRAME = 0x14,     /* up,   boxes + JPEG of an active event, see below */
    LINK_EVENT = 0x20,            /* up,   JSON: see struct link_event */
    LINK_TELEMETRY = 0x21,        /* up,   JSON: see struct link_telemetry */
    LINK_COMMAND = 0x30,          /* down, JSON: see struct link_command */
    LINK_TALK_AUDIO = 0x31,       /* down, one Opus packet */
    LINK_COMMAND_RESULT = 0x32,   /* up,   JSON: id, ok, reason */
    LINK_QUICK_REPLY_DATA = 0x33, /* down, a chunk of a quick reply clip, see below */
    /* Pairing, on /pair/v1 only (common/pair_protocol.h); JSON payloads. */
    LINK_PAIR_HELLO = 0x40,      /* up,   device_id, model, firmware, salt, argon2 */
    LINK_PAIR_SHARE_P = 0x41,    /* down, share_p */
    LINK_PAIR_SHARE_V = 0x42,    /* up,   share_v, confirm_v */
    LINK_PAIR_CONFIRM_P = 0x43,  /* down, confirm_p */
    LINK_PAIR_DEVICE_KEY = 0x44, /* up,   public_key, mac */
    LINK_PAIR_HUB_INFO = 0x45,   /* down, device_id, name, hub_key_sha256, url, mac */
};

struct link_header {
    uint8_t version;
    uint8_t type;
    uint16_t flags;
    uint32_t sequence;
    uint64_t timestamp_us;
};

/* A decoded message. payload points into the decoder's input buffer (not
 * copied); json is owned by the message and freed by link_message_clear(). */
struct link_message {
    struct link_header header;
    const uint8_t *payload;
    size_t payload_size;
    cJSON *json; /* non-NULL exactly for JSON types */
};

/* Return a stable lower-case name ("video", "hello", ...) or "unknown". */
const char *link_type_name(uint8_t type);

/* Return 1 if messages of this type carry a JSON payload, else 0. */
int link_type_is_json(uint8_t type);

/* Return 1 if the type is one of enum link_type, else 0. */
int link_type_is_known(uint8_t type);

/*
 * Largest whole message (header included) accepted for a type:
 * LINK_MAX_MESSAGE_SIZE for video and snapshots, LINK_MAX_PREVIEW_SIZE for
 * previews, LINK_MAX_DETECT_SIZE for detect frames, LINK_MAX_AUDIO_SIZE for both audio types,
 * LINK_MAX_JSON_SIZE for JSON types; unknown types get LINK_MAX_MESSAGE_SIZE (the decoder rejects
 * them anyway).
 */
size_t link_type_max_message_size(uint8_t type);

/* Return 1 if [data, data + size) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF), else 0. */
int link_utf8_is_valid(const uint8_t *data, size_t size);

/*
 * Decode and validate one message: version, known type, size limits per type,
 * flags (only LINK_FLAG_KEYFRAME, only on video), non-empty media, and for
 * JSON types UTF-8 that parses as exactly one JSON object. On success fills
 * *out and returns 0; on failure returns -1, leaves *out cleared and writes a
 * short human-readable reason into error (always NUL-terminated; never
 * quotes input text, so it is safe to log). A caller that must tell an unsupported version apart
 * (LINK_ERROR_CODE_UNSUPPORTED_VERSION) checks size >= 1 && data[0] != 1.
 */
int link_message_decode(const uint8_t *data, size_t size, struct link_message *out, char *error,
                        size_t error_size);

/* Free what link_message_decode() allocated; safe on a cleared message. */
void link_message_clear(struct link_message *message);

/* Write the 16-byte header in network byte order. */
void link_header_encode(const struct link_header *header, uint8_t out[LINK_HEADER_SIZE]);

/*
 * Build a whole message in one malloc'd buffer with `headroom` spare bytes in
 * front (libwebsockets needs LWS_PRE). Returns the buffer (caller frees) and
 * sets *message_size to the message length excluding headroom; the message
 * starts at buffer + headroom. The header is written as given. Returns NULL
 * if out of memory or larger than link_type_max_message_size(header->type).
 */
uint8_t *link_message_encode(const struct link_header *header, const void *payload,
                             size_t payload_size, size_t headroom, size_t *message_size);

/* As link_message_encode, with version 1, flags 0 and cJSON_PrintUnformatted(json) as the
 * payload. Returns NULL also if type is not a JSON type or json is not an object. */
uint8_t *link_message_encode_json(uint8_t type, uint32_t sequence, uint64_t timestamp_us,
                                  const cJSON *json, size_t headroom, size_t *message_size);

/* ---- typed views of JSON payloads; each validates ranges and lengths ---- */

#define LINK_DEVICE_ID_MAX 64 /* including NUL */
#define LINK_TEXT_MAX      128

struct link_hello {
    char device_id[LINK_DEVICE_ID_MAX]; /* [A-Za-z0-9_-]{1,63} */
    char firmware[LINK_TEXT_MAX];
    int protocol;           /* must equal LINK_PROTOCOL_VERSION */
    int width, height, fps; /* current video format, 0 if unknown */
    int audio_channels;     /* Opus audio it will send: 0 (none), 1 or 2 */
    int event_snapshots;    /* 1: it sends one SNAPSHOT per event start, sequence = event id */
    /* The sub-stream it can encode on request (stream_on): 0 = none. Its VIDEO
     * carries LINK_FLAG_SUB_STREAM; the main stream always runs. */
    int sub_width, sub_height, sub_fps;
    char auth[8]; /* "" or "secret": AUTH carries a mac; "key": a signature
                     (common/link_auth_key.h) */
};

enum link_event_type {
    LINK_EVENT_RING,
    LINK_EVENT_MOTION,
    LINK_EVENT_PIR,
    LINK_EVENT_TAMPER,
    LINK_EVENT_PACKAGE_DELIVERED, /* one-shot (active 0): a new object stays in the doorstep area */
    LINK_EVENT_PACKAGE_TAKEN,     /* one-shot (active 0): that object is gone again */
};
#define LINK_EVENT_TYPE_LAST LINK_EVENT_PACKAGE_TAKEN

#define LINK_MAX_BOXES 16

struct link_box {
    double x, y, w, h; /* normalised to the frame, 0..1 */
};

struct link_event {
    enum link_event_type type;
    uint32_t id;  /* device-local event counter */
    double score; /* 0..1 */
    int active;   /* 1 = started/ongoing, 0 = ended */
    int box_count;
    struct link_box boxes[LINK_MAX_BOXES];
    uint32_t auto_reply; /* a ring the doorbell answered itself with this quick reply; 0 none */
};

struct link_telemetry {
    int battery_percent; /* -1 = mains powered */
    int rssi_dbm;        /* 0 = wired */
    double temperature_c;
    int temperature_known; /* 0: no sensor, temperature_c means nothing (absent: 1) */
    uint64_t uptime_s;
    char firmware[LINK_TEXT_MAX];
};

/*
 * Commands the hub sends and the doorbell carries out; on the wire a command is
 * its name ("cmd"). The numbers are stable: 5 and 7..9 belonged to commands
 * that nothing sent (settings, chime, reboot, firmware_update) and stay
 * reserved, so a number never changes meaning; 6 is quick_reply, as it
 * always was, and stream_on/stream_off got back their old numbers 0 and 1.
 */
enum link_command_type {
    LINK_COMMAND_STREAM_ON = 0,   /* stream ("sub"): start encoding it, keyframe first */
    LINK_COMMAND_STREAM_OFF = 1,  /* stream ("sub"): stop encoding it */
    LINK_COMMAND_SET_VIDEO = 2,   /* stream, bitrate_kbps, width, height, fps (0 = unchanged) */
    LINK_COMMAND_KEYFRAME = 3,    /* the next access unit is an IDR */
    LINK_COMMAND_SNAPSHOT = 4,    /* request_id echoed in LINK_SNAPSHOT.sequence */
    LINK_COMMAND_QUICK_REPLY = 6, /* reply_id, version: play a cached quick reply */
    LINK_COMMAND_SET_MOTION = 10, /* motion: motion settings object (common/motion_config.h) */
    LINK_COMMAND_AUTO_REPLY = 11, /* reply_id (0 = none), version, delay_s: after a ring */
    LINK_COMMAND_ANSWERED = 12,   /* someone opened live view: no auto-reply to this ring */
};

#define LINK_STREAM_NAME_MAX 8 /* including NUL: "main" or "sub" */

struct link_command {
    enum link_command_type type;
    uint32_t id; /* hub-assigned, echoed in LINK_COMMAND_RESULT */
    /* SET_VIDEO: "" or "main" (the default), or "sub"; STREAM_ON/OFF: "sub" */
    char stream[LINK_STREAM_NAME_MAX];
    int bitrate_kbps, width, height, fps;
    uint32_t request_id;
    /* LINK_COMMAND_SET_MOTION: the motion settings object; parse points it into the
     * message's tree (borrowed, valid until link_message_clear), build copies it.
     * The firmware validates its contents. */
    const cJSON *motion;
    uint32_t reply_id;      /* QUICK_REPLY (>= 1), AUTO_REPLY (0 = none) */
    uint32_t reply_version; /* on the wire "version": the clip's version, >= 1 */
    int delay_s;            /* AUTO_REPLY: 1..600 */
};

struct link_welcome {
    char name[LINK_TEXT_MAX]; /* the doorbell's name on the hub */
    const cJSON *settings;    /* an object; parse borrows it from the message's tree (valid
                                 until link_message_clear), build copies it; NULL = {} */
};

#define LINK_ERROR_CODE_MAX 64 /* including NUL */

struct link_error {
    char code[LINK_ERROR_CODE_MAX]; /* LINK_ERROR_CODE_* or another [a-z0-9_]{1,63} */
    char reason[LINK_TEXT_MAX];     /* optional human text, "" if absent */
};

struct link_command_result {
    uint32_t id;                /* the command's id */
    int ok;                     /* 1 = done, 0 = failed */
    char reason[LINK_TEXT_MAX]; /* optional, "" if absent */
};

/* Names used on the wire ("ring", "set_video", ...). */
const char *link_event_type_name(enum link_event_type type);

/* Whether events of this type are one-shot reports sent once with active 0
 * that still start an event and get a SNAPSHOT (package_delivered,
 * package_taken). */
int link_event_is_one_shot(enum link_event_type type);
const char *link_command_type_name(enum link_command_type type);

/* Map a wire name back; 0 on success, -1 if unknown. */
int link_event_type_from_name(const char *name, enum link_event_type *out);
int link_command_type_from_name(const char *name, enum link_command_type *out);

/*
 * Parse a JSON payload into a typed struct. 0 on success, -1 with reason
 * (always NUL-terminated, names the field, never echoes input). *out is
 * zeroed first; on failure its contents are unspecified. Unknown fields are
 * ignored; missing optional fields take the defaults in docs/protocol.md.
 * Text fields must be valid UTF-8 without control characters and fit their
 * buffers (no truncation).
 */
int link_parse_hello(const cJSON *json, struct link_hello *out, char *error, size_t error_size);
int link_parse_event(const cJSON *json, struct link_event *out, char *error, size_t error_size);
int link_parse_telemetry(const cJSON *json, struct link_telemetry *out, char *error,
                         size_t error_size);
int link_parse_command(const cJSON *json, struct link_command *out, char *error, size_t error_size);
int link_parse_welcome(const cJSON *json, struct link_welcome *out, char *error, size_t error_size);
int link_parse_error(const cJSON *json, struct link_error *out, char *error, size_t error_size);
int link_parse_command_result(const cJSON *json, struct link_command_result *out, char *error,
                              size_t error_size);

/*
 * Build JSON payloads (caller owns the returned tree and frees it with
 * cJSON_Delete). Returns NULL if out of memory or if a field is outside what
 * the matching parser accepts, so every built payload parses back unchanged.
 */
cJSON *link_build_hello(const struct link_hello *hello);
cJSON *link_build_event(const struct link_event *event);
cJSON *link_build_telemetry(const struct link_telemetry *telemetry);
cJSON *link_build_command(const struct link_command *command);
cJSON *link_build_welcome(const struct link_welcome *welcome);
cJSON *link_build_error(const struct link_error *error);
cJSON *link_build_command_result(const struct link_command_result *result);

/*
 * LINK_QUICK_REPLY_DATA (down): one chunk of a quick reply's clip
 * (common/reply_clip.h), which the doorbell reassembles and caches by id and
 * version. Header sequence = reply id (>= 1), timestamp_us = 0. Payload:
 *
 *   offset size field
 *   0      4    version  big-endian, the clip's version
 *   4      4    offset   big-endian, where this chunk starts in the clip
 *   8      4    total    big-endian, the clip's size (1..LINK_QUICK_REPLY_MAX_TOTAL)
 *   12     ...  chunk    1..LINK_QUICK_REPLY_CHUNK_MAX bytes
 *
 * The hub sends the chunks of one clip in order and back to back.
 */
#define LINK_QUICK_REPLY_DATA_HEADER 12
#define LINK_QUICK_REPLY_CHUNK_MAX   (32u * 1024u)
#define LINK_QUICK_REPLY_MAX_TOTAL   (256u * 1024u) /* REPLY_CLIP_MAX_BYTES */

struct link_quick_reply_data {
    uint32_t reply_id, version, offset, total;
    const uint8_t *chunk; /* points into the message's payload */
    size_t chunk_size;
};

/* Read a decoded QUICK_REPLY_DATA message: 0, or -1 with a reason when the
 * sub-header is out of range (the chunk must lie inside total). */
int link_quick_reply_data_parse(const struct link_message *message,
                                struct link_quick_reply_data *out, char *error, size_t error_size);

/* Write the 12-byte sub-header. */
void link_quick_reply_data_header_encode(uint32_t version, uint32_t offset, uint32_t total,
                                         uint8_t out[LINK_QUICK_REPLY_DATA_HEADER]);

/*
 * LINK_DETECT_FRAME (up): one picture of an active motion or PIR event for
 * the hub's person detector. Header sequence = the doorbell's event id,
 * timestamp_us = the frame's capture time, flags 0. Payload:
 *
 *   offset size field
 *   0      1    box_count  0..LINK_MAX_BOXES (0: look at the whole frame)
 *   1      1    reserved   0
 *   2      8*n  boxes      x, y, w, h: u16 big-endian each, in 1/65535 of the frame
 *   2+8n   ...  JPEG       the whole picture (starts FF D8), at most 960 px wide
 *
 * The layout is checked here; whether the JPEG decodes is the hub's to check.
 */
#define LINK_DETECT_HEADER    2
#define LINK_DETECT_BOX_SIZE  8
#define LINK_DETECT_BOX_SCALE 65535.0

struct link_detect_frame {
    uint32_t event_id;     /* header sequence */
    uint64_t timestamp_us; /* capture time */
    int box_count;
    struct link_box boxes[LINK_MAX_BOXES]; /* normalised 0..1; x + w and y + h at most 1 */
    const uint8_t *jpeg;                   /* points into the message's payload */
    size_t jpeg_size;
};

/* Read a decoded DETECT_FRAME message into *out: 0, or -1 with a reason
 * (box count above 16, reserved byte set, a box outside the frame or empty,
 * no JPEG after the boxes or one that does not start with FF D8). Pure;
 * reads only [payload, payload + payload_size). */
int link_detect_frame_parse(const struct link_message *message, struct link_detect_frame *out,
                            char *error, size_t error_size);

/*
 * Build a whole DETECT_FRAME message (header and payload) in one malloc'd
 * buffer with `headroom` spare bytes in front, as link_message_encode.
 * Boxes are clamped into the frame and rounded to 1/65535. Returns NULL if
 * out of memory, box_count is not 0..16, the JPEG is empty or the message
 * would exceed LINK_MAX_DETECT_SIZE. The caller frees the buffer.
 */
uint8_t *link_detect_frame_encode(uint32_t event_id, uint64_t timestamp_us,
                                  const struct link_box *boxes, int box_count, const uint8_t *jpeg,
                                  size_t jpeg_size, size_t headroom, size_t *message_size);

/* ---- authentication before pairing (docs/protocol.md, "Authentication") ---- */

#define LINK_NONCE_SIZE  32
#define LINK_SECRET_SIZE 32
#define LINK_MAC_SIZE    32

/*
 * mac = HMAC-SHA256(secret, "doorstep-link-v1" || nonce || device_id).
 * Binding the device id stops a relay from replaying one device's answer as another's.
 * Returns 0, or -1 on a crypto library failure.
 */
int link_auth_compute_mac(const uint8_t secret[LINK_SECRET_SIZE],
                          const uint8_t nonce[LINK_NONCE_SIZE], const char *device_id,
                          uint8_t mac_out[LINK_MAC_SIZE]);

struct link_challenge {
    uint8_t nonce[LINK_NONCE_SIZE]; /* fresh from the hub's CSPRNG per connection */
};

struct link_auth {
    uint8_t mac[LINK_MAC_SIZE];
};

/* JSON views of LINK_CHALLENGE {"nonce": 64 hex} and LINK_AUTH {"mac": 64 hex}; as above. */
int link_parse_challenge(const cJSON *json, struct link_challenge *out, char *error,
                         size_t error_size);
int link_parse_auth(const cJSON *json, struct link_auth *out, char *error, size_t error_size);
cJSON *link_build_challenge(const struct link_challenge *challenge);
cJSON *link_build_auth(const struct link_auth *auth);

/* Lower-case hex helpers. hex_decode returns 0 only if text is exactly 2*size hex digits
 * (either case); on failure data_out is left untouched. */
void link_hex_encode(const uint8_t *data, size_t size, char *text_out /* 2*size+1 */);
int link_hex_decode(const char *text, uint8_t *data_out, size_t size);

/* Constant-time comparison (time depends on size only); returns 0 if equal, else 1. */
int link_constant_time_compare(const uint8_t *a, const uint8_t *b, size_t size);

#endif
