/*
 * config.h - the hub's settings: defaults, then the config file, then
 * command-line flags (each later source overrides the earlier). The
 * storage limits and the chime are only the defaults: a value saved from the
 * web UI (core/hub_settings.h, the hub_settings table) wins over them.
 *
 * Filled once by the main thread before any other thread starts, then only
 * read, so it needs no lock.
 */
#ifndef DOORSTEP_CONFIG_H
#define DOORSTEP_CONFIG_H

#include <stddef.h>

#include "common/log.h"

#define CONFIG_PATH_MAX  4096
#define CONFIG_MAX_HOSTS 16
#define CONFIG_HOST_MAX  256

#ifndef DOORSTEP_DEFAULT_CONFIG
#define DOORSTEP_DEFAULT_CONFIG "/etc/doorstep/doorstepd.conf"
#endif
#ifndef DOORSTEP_DEFAULT_DATA_DIR
#define DOORSTEP_DEFAULT_DATA_DIR "/var/lib/doorstep"
#endif
#ifndef DOORSTEP_DEFAULT_WWW_DIR
#define DOORSTEP_DEFAULT_WWW_DIR "/usr/local/share/doorstep/www"
#endif

#ifndef DOORSTEP_DEFAULT_REPLIES_DIR
#define DOORSTEP_DEFAULT_REPLIES_DIR "/usr/local/share/doorstep/replies"
#endif

#define DOORSTEP_VERSION "0.1.0"

struct config {
    char config_file[CONFIG_PATH_MAX]; /* "" if none was read */
    char data_dir[CONFIG_PATH_MAX];
    char www_dir[CONFIG_PATH_MAX];
    char replies_dir[CONFIG_PATH_MAX]; /* stock quick replies (WAV, made by espeak-ng) */
    char listen[128]; /* civetweb port spec without the 's': "8443", "127.0.0.1:8443" */
    char tls_cert[CONFIG_PATH_MAX];    /* user-supplied PEM certificate, "" = generate */
    char tls_key[CONFIG_PATH_MAX];     /* its private key */
    char public_host[CONFIG_HOST_MAX]; /* host name used in printed links; "" = hostname */
    char allowed_hosts[CONFIG_MAX_HOSTS][CONFIG_HOST_MAX]; /* extra Host header names */
    int allowed_host_count;
    enum log_level log_level;
    int http_threads;
    int connections_per_address;       /* open connections one client address may hold;
                                          0 = a tenth of http_threads, at least 4 */
    int segment_seconds;               /* recording segment length, cut on a keyframe */
    long long storage_budget;          /* bytes all recordings may use; 0 = no budget */
    int offline_event_seconds;         /* a doorbell offline this long is an "offline" event */
    int audit_retention_days;          /* audit entries older than this are deleted; 0 = kept */
    char chime_device[256];            /* ALSA PCM of the indoor chime; "" = none */
    char alsa_config[CONFIG_PATH_MAX]; /* extra asoundrc for it; "" = none */
    long long min_free;                /* bytes to keep free on the recordings' filesystem;
                                          -1 = 5 % of it, at most 2 GiB */
    int mdns;                          /* 1: announce the hub and list doorbells over mDNS
                                          (default); 0: --no-mdns / mdns = false */
};

/* Fill with defaults. */
void config_defaults(struct config *config);

/*
 * Apply argv on top of defaults and the config file (--config FILE, or the
 * default file if it exists). Returns 0 to run, 1 if --help/--version was
 * printed (exit 0), -1 on error (message printed to stderr; exit 2).
 */
int config_load(struct config *config, int argc, char **argv);

/* Apply one "key = value" setting; 0 ok, -1 unknown key or bad value. */
int config_set(struct config *config, const char *key, const char *value, char *error,
               size_t error_size);

/* Read a config file of "key = value" lines ('#' starts a comment). */
int config_read_file(struct config *config, const char *path, char *error, size_t error_size);

/* Print --help text. */
void config_print_usage(const char *program);

#endif
