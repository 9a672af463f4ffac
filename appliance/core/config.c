/*
 * config.c - hub settings from defaults, a "key = value" file and flags
 * (see config.h). Main thread only, before other threads start.
 */
#include "core/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error_text.h"
#include "core/hub_settings.h"

/* Copy value into a fixed field, refusing (not truncating) a too-long value. */
static int config_copy(char *field, size_t field_size, const char *key, const char *value,
                       char *error, size_t error_size)
{
    if (strlen(value) >= field_size) {
        error_text_set(error, error_size, "%s: value too long (max %zu bytes)", key,
                       field_size - 1);
        return -1;
    }
    memcpy(field, value, strlen(value) + 1);
    return 0;
}

void config_defaults(struct config *config)
{
    memset(config, 0, sizeof(*config));
    snprintf(config->data_dir, sizeof(config->data_dir), "%s", DOORSTEP_DEFAULT_DATA_DIR);
    snprintf(config->www_dir, sizeof(config->www_dir), "%s", DOORSTEP_DEFAULT_WWW_DIR);
    snprintf(config->replies_dir, sizeof(config->replies_dir), "%s", DOORSTEP_DEFAULT_REPLIES_DIR);
    snprintf(config->listen, sizeof(config->listen), "8443");
    config->log_level = LOG_LEVEL_INFO;
    /* Every WebSocket (doorbell link or live viewer) holds a civetweb worker
     * thread for its life: room for 100 doorbells and their viewers. */
    config->http_threads = 256;
    config->segment_seconds = 60;
    config->storage_budget = 0;
    config->min_free = -1;
    config->offline_event_seconds = 60;
    config->audit_retention_days = 365;
    config->mdns = 1;
}

/* Accept "PORT", "ADDR:PORT" or "[V6ADDR]:PORT" with a port in 1..65535. */
static int config_listen_valid(const char *value)
{
    const char *port = strrchr(value, ':');
    char *end = NULL;
    long number;

    port = port ? port + 1 : value;
    if (*port == '\0')
        return 0;
    errno = 0;
    number = strtol(port, &end, 10);
    if (errno != 0 || *end != '\0' || number < 1 || number > 65535)
        return 0;
    return strspn(value, "0123456789abcdefABCDEF.:[]") == strlen(value);
}

/* A whole number in [min, max] into *out; 0, or -1 with a reason. */
static int config_int(const char *key, const char *value, long min, long max, int *out, char *error,
                      size_t error_size)
{
    char *end = NULL;
    long number = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || number < min || number > max) {
        error_text_set(error, error_size, "%s: expected %ld..%ld", key, min, max);
        return -1;
    }
    *out = (int)number;
    return 0;
}

int config_set(struct config *config, const char *key, const char *value, char *error,
               size_t error_size)
{
    if (strcmp(key, "data_dir") == 0)
        return config_copy(config->data_dir, sizeof(config->data_dir), key, value, error,
                           error_size);
    if (strcmp(key, "www_dir") == 0)
        return config_copy(config->www_dir, sizeof(config->www_dir), key, value, error, error_size);
    if (strcmp(key, "replies_dir") == 0)
        return config_copy(config->replies_dir, sizeof(config->replies_dir), key, value, error,
                           error_size);
    if (strcmp(key, "tls_cert") == 0)
        return config_copy(config->tls_cert, sizeof(config->tls_cert), key, value, error,
                           error_size);
    if (strcmp(key, "tls_key") == 0)
        return config_copy(config->tls_key, sizeof(config->tls_key), key, value, error, error_size);
    if (strcmp(key, "public_host") == 0)
        return config_copy(config->public_host, sizeof(config->public_host), key, value, error,
                           error_size);
    if (strcmp(key, "listen") == 0) {
        if (!config_listen_valid(value)) {
            error_text_set(error, error_size,
                           "listen: expected PORT, ADDRESS:PORT or [ADDRESS]:PORT");
            return -1;
        }
        return config_copy(config->listen, sizeof(config->listen), key, value, error, error_size);
    }
    if (strcmp(key, "log_level") == 0) {
        if (log_parse_level(value, &config->log_level) != 0) {
            error_text_set(error, error_size, "log_level: expected error, warn, info or debug");
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "http_threads") == 0)
        return config_int(key, value, 4, 1024, &config->http_threads, error, error_size);
    if (strcmp(key, "connections_per_address") == 0)
        return config_int(key, value, 1, 1024, &config->connections_per_address, error, error_size);
    if (strcmp(key, "segment_seconds") == 0)
        return config_int(key, value, 2, 3600, &config->segment_seconds, error, error_size);
    if (strcmp(key, "chime_device") == 0) {
        /* "" (no chime) or a name the settings API would take too. */
        if (value[0] != '\0' && hub_settings_check_device(value, error, error_size) != 0)
            return -1;
        return config_copy(config->chime_device, sizeof(config->chime_device), key, value, error,
                           error_size);
    }
    if (strcmp(key, "alsa_config") == 0)
        return config_copy(config->alsa_config, sizeof(config->alsa_config), key, value, error,
                           error_size);
    if (strcmp(key, "mdns") == 0) {
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            config->mdns = 1;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
            config->mdns = 0;
        else {
            error_text_set(error, error_size, "mdns: expected true or false");
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "offline_event_seconds") == 0)
        return config_int(key, value, 1, 86400, &config->offline_event_seconds, error, error_size);
    if (strcmp(key, "audit_retention_days") == 0)
        return config_int(key, value, 0, 36500, &config->audit_retention_days, error, error_size);
    if (strcmp(key, "storage_budget") == 0 || strcmp(key, "min_free") == 0) {
        long long bytes;
        if (hub_settings_parse_bytes(key, value, &bytes, error, error_size) != 0 ||
            hub_settings_check_storage(strcmp(key, "min_free") == 0 ? 0 : bytes,
                                       strcmp(key, "min_free") == 0 ? bytes : -1, 0, error,
                                       error_size) != 0)
            return -1;
        *(strcmp(key, "min_free") == 0 ? &config->min_free : &config->storage_budget) = bytes;
        return 0;
    }
    if (strcmp(key, "allowed_host") == 0 || strcmp(key, "allowed_hosts") == 0) {
        /* Comma-separated list; each entry appended. */
        char list[1024];
        char *save = NULL;
        if (config_copy(list, sizeof(list), key, value, error, error_size) != 0)
            return -1;
        for (char *host = strtok_r(list, ", ", &save); host; host = strtok_r(NULL, ", ", &save)) {
            if (config->allowed_host_count >= CONFIG_MAX_HOSTS) {
                error_text_set(error, error_size, "%s: at most %d hosts", key, CONFIG_MAX_HOSTS);
                return -1;
            }
            if (config_copy(config->allowed_hosts[config->allowed_host_count], CONFIG_HOST_MAX, key,
                            host, error, error_size) != 0)
                return -1;
            config->allowed_host_count++;
        }
        return 0;
    }
    error_text_set(error, error_size, "unknown setting '%.64s'", key);
    return -1;
}

/* Strip leading and trailing blanks in place; returns the start. */
static char *config_trim(char *text)
{
    char *end;
    while (*text == ' ' || *text == '\t')
        text++;
    end = text + strlen(text);
    while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return text;
}

int config_read_file(struct config *config, const char *path, char *error, size_t error_size)
{
    char line[2048];
    char reason[512];
    int line_number = 0;
    int result = -1;
    FILE *file = fopen(path, "re");

    if (file == NULL) {
        error_text_set(error, error_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), file) != NULL) {
        char *key, *value, *equals;
        line_number++;
        if (strchr(line, '\n') == NULL && !feof(file)) {
            error_text_set(error, error_size, "%s:%d: line too long", path, line_number);
            goto out;
        }
        key = config_trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        equals = strchr(key, '=');
        if (equals == NULL) {
            error_text_set(error, error_size, "%s:%d: expected 'key = value'", path, line_number);
            goto out;
        }
        *equals = '\0';
        value = config_trim(equals + 1);
        key = config_trim(key);
        if (config_set(config, key, value, reason, sizeof(reason)) != 0) {
            error_text_set(error, error_size, "%s:%d: %s", path, line_number, reason);
            goto out;
        }
    }
    snprintf(config->config_file, sizeof(config->config_file), "%s", path);
    result = 0;
out:
    fclose(file);
    return result;
}

void config_print_usage(const char *program)
{
    printf("Usage: %s [OPTION]...\n"
           "Doorstep hub: pairs with doorbells, records, serves the web UI over HTTPS.\n\n"
           "  -c, --config FILE      settings file (default %s if present)\n"
           "  -d, --data-dir DIR     database, certificate and recordings (default %s)\n"
           "  -l, --listen ADDR      HTTPS listen address: PORT, ADDR:PORT, [V6]:PORT "
           "(default 8443)\n"
           "  -w, --www-dir DIR      web UI files (default %s)\n"
           "      --replies-dir DIR  stock quick replies to import (default %s)\n"
           "      --tls-cert FILE    use this PEM certificate instead of a generated one\n"
           "      --tls-key FILE     private key of --tls-cert\n"
           "      --public-host NAME host name shown in printed links\n"
           "      --allowed-host NAME  also accept this Host header (repeatable)\n"
           "      --segment-seconds N  recording segment length (default 60)\n"
           "      --http-threads N   worker threads; each open WebSocket (a doorbell's link,\n"
           "                         a live view) holds one (default 256)\n"
           "      --connections-per-address N  connections one client address may hold\n"
           "                         (default a tenth of --http-threads, at least 4)\n"
           "      --storage-budget SIZE  disk all recordings may use, e.g. 500G (default: no\n"
           "                         budget, only --min-free; a value set in the web UI wins)\n"
           "      --min-free SIZE    free space to keep on the recordings' disk\n"
           "                         (default 5 %% of it, at most 2G)\n"
           "      --offline-event-seconds N  a doorbell offline this long is an event\n"
           "                         (default 60)\n"
           "      --audit-retention-days N  keep the audit log this many days; 0 = for\n"
           "                         ever (default 365)\n"
           "      --chime-device PCM play the chime on this ALSA output when someone rings\n"
           "                         (the web UI's Settings page wins once used there)\n"
           "      --alsa-config FILE extra ALSA configuration for it\n"
           "      --no-mdns          do not announce the hub nor look for doorbells over\n"
           "                         mDNS (Avahi), for networks that forbid multicast\n"
           "  -v, --log-level LEVEL  error, warn, info (default) or debug\n"
           "  -h, --help             show this help\n"
           "      --version          show the version\n\n"
           "Settings file keys: data_dir, listen, www_dir, tls_cert, tls_key, public_host,\n"
           "allowed_hosts, log_level, http_threads, connections_per_address, segment_seconds,\n"
           "storage_budget, min_free, offline_event_seconds, audit_retention_days,\n"
           "chime_device, alsa_config, replies_dir, mdns (true or false).\n",
           program, DOORSTEP_DEFAULT_CONFIG, DOORSTEP_DEFAULT_DATA_DIR, DOORSTEP_DEFAULT_WWW_DIR,
           DOORSTEP_DEFAULT_REPLIES_DIR);
}

int config_load(struct config *config, int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"www-dir", required_argument, NULL, 'w'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"public-host", required_argument, NULL, 'P'},
        {"allowed-host", required_argument, NULL, 'A'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"segment-seconds", required_argument, NULL, 'S'},
        {"storage-budget", required_argument, NULL, 'B'},
        {"min-free", required_argument, NULL, 'F'},
        {"offline-event-seconds", required_argument, NULL, 'O'},
        {"audit-retention-days", required_argument, NULL, 'U'},
        {"chime-device", required_argument, NULL, 'M'},
        {"alsa-config", required_argument, NULL, 'L'},
        {"http-threads", required_argument, NULL, 'T'},
        {"connections-per-address", required_argument, NULL, 'N'},
        {"replies-dir", required_argument, NULL, 'R'},
        {"no-mdns", no_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    static const char *const keys[128] = {
        ['d'] = "data_dir",        ['l'] = "listen",
        ['w'] = "www_dir",         ['C'] = "tls_cert",
        ['K'] = "tls_key",         ['P'] = "public_host",
        ['A'] = "allowed_host",    ['v'] = "log_level",
        ['S'] = "segment_seconds", ['B'] = "storage_budget",
        ['F'] = "min_free",        ['O'] = "offline_event_seconds",
        ['M'] = "chime_device",    ['L'] = "alsa_config",
        ['T'] = "http_threads",    ['N'] = "connections_per_address",
        ['R'] = "replies_dir",     ['U'] = "audit_retention_days",
    };
    const char *config_file = NULL;
    char error[1024];
    int option;

    config_defaults(config);

    /* First pass: find --config, --help, --version. */
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, "c:d:l:w:v:h", options, NULL)) != -1) {
        if (option == 'c')
            config_file = optarg;
        else if (option == 'h') {
            config_print_usage(argv[0]);
            return 1;
        } else if (option == 'V') {
            printf("doorstepd %s\n", DOORSTEP_VERSION);
            return 1;
        } else if (option == '?') {
            fprintf(stderr, "%s: unknown or incomplete option '%s' (try --help)\n", argv[0],
                    argv[optind - 1]);
            return -1;
        }
    }
    if (config_file == NULL && access(DOORSTEP_DEFAULT_CONFIG, R_OK) == 0)
        config_file = DOORSTEP_DEFAULT_CONFIG;
    if (config_file != NULL && config_read_file(config, config_file, error, sizeof(error)) != 0) {
        fprintf(stderr, "%s: %s\n", argv[0], error);
        return -1;
    }

    /* Second pass: flags override the file. */
    optind = 1;
    while ((option = getopt_long(argc, argv, "c:d:l:w:v:h", options, NULL)) != -1) {
        if (option > 0 && option < 128 && keys[option] != NULL &&
            config_set(config, keys[option], optarg, error, sizeof(error)) != 0) {
            fprintf(stderr, "%s: %s\n", argv[0], error);
            return -1;
        }
        if (option == 'D')
            config->mdns = 0;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", argv[0], argv[optind]);
        return -1;
    }
    if ((config->tls_cert[0] == '\0') != (config->tls_key[0] == '\0')) {
        fprintf(stderr, "%s: --tls-cert and --tls-key go together\n", argv[0]);
        return -1;
    }
    return 0;
}
