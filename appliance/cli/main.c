/*
 * main.c - doorstep, the hub's admin command line. It works directly on the
 * hub's database (SQLite in WAL mode, so it is safe while doorstepd runs):
 * adding doorbells and users, listing, removing, changing passwords, roles
 * and the rights of doorbell grants. Every change is audited as
 * "cli:OSUSER" from "cli". Single-threaded.
 */
#define LOG_MODULE "doorstep"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "accounts/sessions.h"
#include "accounts/users.h"
#include "cli/cli_audit.h"
#include "common/log.h"
#include "core/config.h"
#include "devices/device_store.h"
#include "devices/motion_settings.h"
#include "http/pair_socket.h"
#include "recording/reconcile.h"
#include "storage/database.h"

#define CLI_PASSWORD_MAX 257

static void cli_usage(const char *program)
{
    printf("Usage: %s [--data-dir DIR] [--config FILE] COMMAND\n"
           "Doorstep hub administration (works while doorstepd runs).\n\n"
           "  device add NAME                 add a doorbell; prints its id and secret once\n"
           "  device list                     list doorbells\n"
           "  device remove ID                remove a doorbell (it is disconnected at once)\n"
           "  device motion ID [JSON]         print a doorbell's motion settings ({} when it\n"
           "                                  has none: the defaults), or set them from a JSON\n"
           "                                  object (as PUT /api/v1/devices/{id}/motion takes;\n"
           "                                  the doorbell gets them when it next connects)\n"
           "  device waiting                  doorbells waiting to pair (asks the running hub)\n"
           "  device pair DEVICE_ID CODE [--name NAME]\n"
           "                                  pair a waiting doorbell with its setup code\n"
           "  user add NAME [--role admin|viewer] [--password-stdin]\n"
           "           [--grant DEVICE_ID[:live,recordings,export,talk]]...\n"
           "                                  add a user (asks for the password); each\n"
           "                                  --grant gives a doorbell with those rights\n"
           "                                  (live,recordings,export when none are named)\n"
           "  user list                       list users with their grants\n"
           "  user remove NAME                remove a user\n"
           "  user passwd NAME [--password-stdin]\n"
           "                                  set a new password; ends that user's sessions\n"
           "  user role NAME admin|viewer     change a user's role\n"
           "  user grant NAME DEVICE_ID [--live] [--recordings] [--export] [--talk] [--all]\n"
           "                                  add rights on a doorbell (live,recordings,\n"
           "                                  export when no right is named)\n"
           "  user revoke NAME DEVICE_ID [--live] [--recordings] [--export] [--talk]\n"
           "                                  take those rights (the whole grant when no\n"
           "                                  right is named); open views close at once\n"
           "  check                           verify the recordings index against the "
           "disk\n" CLI_AUDIT_USAGE "\n"
           "  -d, --data-dir DIR   the hub's data directory (default from the config, %s)\n"
           "  -c, --config FILE    hub settings file (default %s if present)\n",
           program, DOORSTEP_DEFAULT_DATA_DIR, DOORSTEP_DEFAULT_CONFIG);
}

/* Write an audit row for a change made here: the user is "cli:" and the OS
 * account running the command, the address "cli". */
static void cli_audit_record(sqlite3 *db, const char *action, const char *target,
                             const char *detail)
{
    const struct passwd *account = getpwuid(geteuid());
    char who[USERS_USERNAME_MAX + 1];

    if (account != NULL && account->pw_name != NULL)
        snprintf(who, sizeof(who), "cli:%s", account->pw_name);
    else
        snprintf(who, sizeof(who), "cli:%lu", (unsigned long)geteuid());
    audit_record(db, 0, who, action, target, detail, "cli");
}

/* `device waiting` and `device pair ID CODE [--name NAME]`: ask the running
 * hub through its pairing socket (only it holds the waiting doorbells'
 * connections). 0 on success, 1 refused or unreachable, 2 usage. */
static int cli_pairing(const char *data_dir, int argc, char **argv)
{
    char request[PAIR_SOCKET_REQUEST_MAX], answer[PAIR_SOCKET_ANSWER_MAX], error[256];
    const char *name = "Doorbell";
    cJSON *json, *item;
    int status;

    if (strcmp(argv[0], "waiting") == 0 && argc == 1) {
        snprintf(request, sizeof(request), "waiting");
    } else if (strcmp(argv[0], "pair") == 0 && (argc == 3 || argc == 5)) {
        if (argc == 5) {
            if (strcmp(argv[3], "--name") != 0) {
                fprintf(stderr, "doorstep: device pair DEVICE_ID CODE [--name NAME]\n");
                return 2;
            }
            name = argv[4];
        }
        if (strchr(argv[1], ' ') != NULL || strchr(argv[1], '\n') != NULL ||
            strchr(name, '\n') != NULL ||
            snprintf(request, sizeof(request), "pair %s %s %s", argv[1], argv[2], name) >=
                (int)sizeof(request)) {
            fprintf(stderr, "doorstep: the device id, code or name is not usable\n");
            return 2;
        }
    } else {
        fprintf(stderr, "doorstep: device waiting | device pair DEVICE_ID CODE [--name NAME]\n");
        return 2;
    }
    if (pair_socket_request(data_dir, request, answer, sizeof(answer), error, sizeof(error)) != 0) {
        mbedtls_platform_zeroize(request, sizeof(request));
        fprintf(stderr, "doorstep: %s (is doorstepd running?)\n", error);
        return 1;
    }
    mbedtls_platform_zeroize(request, sizeof(request));
    json = cJSON_Parse(answer);
    if (json == NULL) {
        fprintf(stderr, "doorstep: the hub's answer is not JSON\n");
        return 1;
    }
    if (strcmp(argv[0], "waiting") == 0) {
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(json, "waiting"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "device_id");
            const cJSON *model = cJSON_GetObjectItemCaseSensitive(item, "model");
            const cJSON *address = cJSON_GetObjectItemCaseSensitive(item, "address");
            printf("%-14s %-32s %s\n", cJSON_IsString(id) ? id->valuestring : "?",
                   cJSON_IsString(model) ? model->valuestring : "?",
                   cJSON_IsString(address) ? address->valuestring : "?");
        }
        cJSON_Delete(json);
        return 0;
    }
    item = cJSON_GetObjectItemCaseSensitive(json, "status");
    status = cJSON_IsNumber(item) ? item->valueint : 0;
    if (status == 201) {
        printf("paired %s\n", argv[1]);
    } else {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(json, "error");
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(json, "reason");
        fprintf(stderr, "doorstep: not paired: %s: %s\n",
                cJSON_IsString(code) ? code->valuestring : "?",
                cJSON_IsString(reason) ? reason->valuestring : "");
    }
    cJSON_Delete(json);
    return status == 201 ? 0 : 1;
}

/* Read one line from stdin without its newline. 0 ok, -1 on EOF/too long. */
static int cli_read_line(char *out, size_t size)
{
    if (fgets(out, (int)size, stdin) == NULL)
        return -1;
    if (strchr(out, '\n') == NULL && !feof(stdin))
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* Prompt for a password with echo off (twice when confirm), or read stdin. */
static int cli_read_password(int from_stdin, int confirm, char *out, size_t size)
{
    char again[CLI_PASSWORD_MAX];
    struct termios saved, quiet;
    int terminal = !from_stdin && isatty(STDIN_FILENO);
    int rc = -1;

    if (!terminal)
        return cli_read_line(out, size);
    tcgetattr(STDIN_FILENO, &saved);
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fprintf(stderr, "Password: ");
    if (cli_read_line(out, size) != 0)
        goto out;
    fprintf(stderr, "\n");
    if (confirm) {
        fprintf(stderr, "Again: ");
        if (cli_read_line(again, sizeof(again)) != 0)
            goto out;
        fprintf(stderr, "\n");
        if (strcmp(out, again) != 0) {
            fprintf(stderr, "the passwords differ\n");
            goto out;
        }
    }
    rc = 0;
out:
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    mbedtls_platform_zeroize(again, sizeof(again));
    return rc;
}

/* device_store_list callback: one line per doorbell. */
static int cli_print_device(const struct device_record *device, void *context)
{
    (void)context;
    printf("%-14s %-32s %s\n", device->id, device->name,
           device->last_seen_at ? device->firmware : "(never connected)");
    return 0;
}

/* `device motion ID [JSON]`: print the saved motion settings ({} for none),
 * or validate, save and audit new ones. A running hub sends them to the
 * doorbell when it next connects. 0, 1 (refused or failed) or 2 (usage). */
static int cli_device_motion(sqlite3 *db, const char *device_id, const char *text)
{
    struct device_record record;
    struct motion_config config;
    char error[128];
    cJSON *json = NULL;
    char *printed = NULL;
    int rc = 1, exists;

    if (device_store_find(db, device_id, &record, NULL) != 1) {
        fprintf(stderr, "doorstep: no such doorbell\n");
        return 1;
    }
    if (text == NULL) {
        if ((exists = motion_settings_exists(db, device_id)) < 0 ||
            (exists && motion_settings_load(db, device_id, &config) != 0)) {
            fprintf(stderr, "doorstep: database error\n");
            return 1;
        }
        if (!exists) {
            printf("{}\n");
            return 0;
        }
    } else {
        if (motion_config_parse(text, strlen(text), &config, error, sizeof(error)) != 0) {
            fprintf(stderr, "doorstep: motion settings: %s\n", error);
            return 2;
        }
        if (motion_settings_save(db, device_id, &config) != 0) {
            fprintf(stderr, "doorstep: database error\n");
            return 1;
        }
        cli_audit_record(db, "motion_settings", device_id, "");
    }
    if ((json = motion_config_to_json(&config)) == NULL ||
        (printed = cJSON_PrintUnformatted(json)) == NULL)
        goto out;
    printf("%s\n", printed);
    rc = 0;
out:
    cJSON_free(printed);
    cJSON_Delete(json);
    return rc;
}

static int cli_device(sqlite3 *db, const char *data_dir, int argc, char **argv)
{
    char error[256];

    if (argc >= 2 && strcmp(argv[0], "add") == 0) {
        struct device_record record;
        uint8_t secret[LINK_SECRET_SIZE];
        char secret_hex[LINK_SECRET_SIZE * 2 + 1];
        if (device_store_add(db, argv[1], &record, secret, error, sizeof(error)) != 0) {
            fprintf(stderr, "doorstep: %s\n", error);
            return 1;
        }
        link_hex_encode(secret, sizeof(secret), secret_hex);
        cli_audit_record(db, "device_add", record.id, record.name);
        printf("id %s\nsecret %s\n", record.id, secret_hex);
        fprintf(stderr,
                "Start the doorbell with:\n  doorbelld --hub wss://HUB:8443 --device-id %s "
                "--secret %s\nThe secret is shown only now.\n",
                record.id, secret_hex);
        mbedtls_platform_zeroize(secret, sizeof(secret));
        mbedtls_platform_zeroize(secret_hex, sizeof(secret_hex));
        return 0;
    }
    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return device_store_list(db, cli_print_device, NULL) == 0 ? 0 : 1;
    if (argc >= 2 && strcmp(argv[0], "remove") == 0) {
        int removed = device_store_delete(db, argv[1]);
        if (removed == 1)
            cli_audit_record(db, "device_delete", argv[1], "");
        if (removed != 1)
            fprintf(stderr, "doorstep: %s\n", removed == 0 ? "no such doorbell" : "database error");
        return removed == 1 ? 0 : 1;
    }
    if (argc >= 2 && strcmp(argv[0], "motion") == 0)
        return cli_device_motion(db, argv[1], argc >= 3 ? argv[2] : NULL);
    if (argc >= 1 && (strcmp(argv[0], "waiting") == 0 || strcmp(argv[0], "pair") == 0))
        return cli_pairing(data_dir, argc, argv);
    fprintf(stderr,
            "doorstep: device add NAME | list | remove ID | motion ID [JSON] | waiting | pair ID "
            "CODE\n");
    return 2;
}

/* users_list_grants callback: " DEVICE:rights" after a user's line. */
static int cli_print_grant(const struct users_grant *grant, void *context)
{
    char rights[USERS_RIGHTS_TEXT_MAX];

    (void)context;
    users_rights_text(grant->rights, rights, sizeof(rights));
    printf(" %s:%s", grant->device_id, rights);
    return 0;
}

/* users_list callback: one line per user, a viewer's grants at its end
 * (context: the database). */
static int cli_print_user(const struct user *user, void *context)
{
    printf("%-6lld %-32s %-6s", (long long)user->id, user->username, user->role);
    if (users_is_admin(user))
        printf(" (every doorbell)");
    else
        users_list_grants(context, user->id, cli_print_grant, NULL);
    printf("\n");
    return 0;
}

/* Parse "DEVICE_ID[:right,right...]" into grant (no rights named: live,
 * recordings, export). 0, or -1 (with a message) when malformed. */
static int cli_parse_grant(const char *text, struct users_grant *grant)
{
    const char *colon = strchr(text, ':');
    size_t id_length = colon != NULL ? (size_t)(colon - text) : strlen(text);
    char rights[USERS_RIGHTS_TEXT_MAX + 16], *saved = NULL;

    memset(grant, 0, sizeof(*grant));
    if (id_length == 0 || id_length >= sizeof(grant->device_id))
        goto bad;
    memcpy(grant->device_id, text, id_length);
    if (colon == NULL) {
        grant->rights = USERS_RIGHTS_VIEW;
        return 0;
    }
    if (snprintf(rights, sizeof(rights), "%s", colon + 1) >= (int)sizeof(rights))
        goto bad;
    for (char *name = strtok_r(rights, ",", &saved); name != NULL;
         name = strtok_r(NULL, ",", &saved)) {
        unsigned right = users_right_from_name(name);
        if (right == 0)
            goto bad;
        grant->rights |= right;
    }
    if (grant->rights != 0)
        return 0;
bad:
    fprintf(stderr, "doorstep: --grant DEVICE_ID[:live,recordings,export,talk], not '%s'\n", text);
    return -1;
}

/* The USERS_RIGHT_* of a "--live"-style flag; --all is every right; 0 for
 * anything else. */
static unsigned cli_right_flag(const char *flag)
{
    if (strcmp(flag, "--all") == 0)
        return USERS_RIGHTS_ALL;
    return strncmp(flag, "--", 2) == 0 ? users_right_from_name(flag + 2) : 0;
}

/* `doorstep user grant NAME DEVICE [--RIGHT...] | revoke NAME DEVICE
 * [--RIGHT...]`: add or take rights on one doorbell grant (grant without a
 * flag adds live, recordings, export; revoke without one takes the whole
 * grant). Audited; the running hub closes what lost its right. */
static int cli_user_rights(sqlite3 *db, int argc, char **argv)
{
    bool granting = strcmp(argv[0], "grant") == 0;
    unsigned named = 0, now = 0;
    char text[USERS_RIGHTS_TEXT_MAX];
    struct user user;
    enum users_status status;

    for (int i = 3; i < argc; i++) {
        unsigned right = cli_right_flag(argv[i]);
        if (right == 0) {
            fprintf(stderr,
                    "doorstep: unknown option '%s' (--live --recordings --export "
                    "--talk --all)\n",
                    argv[i]);
            return 2;
        }
        named |= right;
    }
    if (named == 0)
        named = granting ? USERS_RIGHTS_VIEW : USERS_RIGHTS_ALL;
    status = users_find_by_username(db, argv[1], &user);
    if (status == USERS_OK)
        status = users_change_grant(db, user.id, argv[2], granting ? named : 0,
                                    granting ? 0 : named, &now);
    if (status != USERS_OK) {
        fprintf(stderr, "doorstep: %s\n",
                status == USERS_NOT_FOUND ? "no such user or doorbell" : "database error");
        return 1;
    }
    users_rights_text(now, text, sizeof(text));
    {
        char detail[USERS_DEVICE_ID_MAX + USERS_RIGHTS_TEXT_MAX + 16];
        snprintf(detail, sizeof(detail), "%s:%s", argv[2], text);
        cli_audit_record(db, granting ? "user_grant" : "user_revoke", user.username, detail);
    }
    printf("%s %s %s: %s\n", argv[0], argv[1], argv[2], text);
    return 0;
}

/* `doorstep user role NAME ROLE`. The running hub sees the change in the
 * database and closes the user's open connections that lost their
 * authority. */
static int cli_user_role(sqlite3 *db, char **argv)
{
    struct user user;
    enum users_status status = users_find_by_username(db, argv[1], &user);

    if (status == USERS_OK)
        status = users_set_role(db, user.id, argv[2]);
    if (status != USERS_OK) {
        fprintf(stderr, "doorstep: %s\n",
                status == USERS_NOT_FOUND      ? "no such user or doorbell"
                : status == USERS_INVALID_ROLE ? "the role is admin or viewer"
                : status == USERS_LAST_ADMIN   ? "the last admin must stay an admin"
                                               : "database error");
        return 1;
    }
    cli_audit_record(db, "user_update", user.username, argv[2]);
    printf("%s %s %s\n", argv[0], argv[1], argv[2]);
    return 0;
}

static int cli_user(sqlite3 *db, int argc, char **argv)
{
    char password[CLI_PASSWORD_MAX];
    char error[256] = "";
    const char *role = USERS_ROLE_VIEWER;
    int password_stdin = 0, rc = 1;
    struct users_grant *grants = NULL;
    size_t grant_count = 0;
    struct user user;
    enum users_status status;

    if (argc == 3 && strcmp(argv[0], "role") == 0)
        return cli_user_role(db, argv);
    if (argc >= 3 && (strcmp(argv[0], "grant") == 0 || strcmp(argv[0], "revoke") == 0))
        return cli_user_rights(db, argc, argv);
    grants = calloc(USERS_GRANTS_MAX, sizeof(*grants));
    if (grants == NULL) {
        fprintf(stderr, "doorstep: out of memory\n");
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--password-stdin") == 0)
            password_stdin = 1;
        else if (strcmp(argv[i], "--grant") == 0 && i + 1 < argc &&
                 grant_count < USERS_GRANTS_MAX) {
            if (cli_parse_grant(argv[++i], &grants[grant_count++]) != 0) {
                rc = 2;
                goto out;
            }
        } else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp(argv[i], "--admin") == 0)
            role = USERS_ROLE_ADMIN;
        else {
            fprintf(stderr, "doorstep: unknown option '%s'\n", argv[i]);
            rc = 2;
            goto out;
        }
    }
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        rc = users_list(db, cli_print_user, db) == USERS_OK ? 0 : 1;
        goto out;
    }
    if (argc < 2) {
        fprintf(stderr, "doorstep: user add NAME | list | remove NAME | passwd NAME | role NAME "
                        "ROLE | grant NAME DEVICE | revoke NAME DEVICE\n");
        rc = 2;
        goto out;
    }
    if (strcmp(argv[0], "remove") == 0) {
        status = users_find_by_username(db, argv[1], &user);
        if (status == USERS_OK)
            status = users_delete(db, user.id);
        if (status == USERS_OK)
            cli_audit_record(db, "user_delete", user.username, "");
        else
            fprintf(stderr, "doorstep: %s\n",
                    status == USERS_LAST_ADMIN  ? "the last admin cannot be removed"
                    : status == USERS_NOT_FOUND ? "no such user"
                                                : "database error");
        rc = status == USERS_OK ? 0 : 1;
        goto out;
    }
    if (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "passwd") != 0) {
        fprintf(stderr, "doorstep: unknown user command '%s'\n", argv[0]);
        rc = 2;
        goto out;
    }
    for (size_t i = 0; i < grant_count; i++)
        if (!users_device_exists(db, grants[i].device_id)) {
            fprintf(stderr, "doorstep: no such doorbell '%s'\n", grants[i].device_id);
            goto out;
        }
    if (cli_read_password(password_stdin, 1, password, sizeof(password)) != 0) {
        fprintf(stderr, "doorstep: no password given\n");
        goto out;
    }
    if (strcmp(argv[0], "add") == 0) {
        status = users_create(db, argv[1], password, role, &user.id, error, sizeof(error));
        if (status == USERS_OK && grant_count > 0)
            status = users_set_grants(db, user.id, grants, grant_count);
        if (status == USERS_OK)
            cli_audit_record(db, "user_add", argv[1], role);
        for (size_t i = 0; status == USERS_OK && i < grant_count; i++) {
            char rights[USERS_RIGHTS_TEXT_MAX], detail[USERS_DEVICE_ID_MAX + 48];
            users_rights_text(grants[i].rights, rights, sizeof(rights));
            snprintf(detail, sizeof(detail), "%s:%s", grants[i].device_id, rights);
            cli_audit_record(db, "user_grant", argv[1], detail);
        }
    } else {
        status = users_find_by_username(db, argv[1], &user);
        if (status == USERS_OK)
            status = users_set_password(db, user.id, password, error, sizeof(error));
        if (status == USERS_OK)
            cli_audit_record(db, "user_password", argv[1], "");
    }
    if (status != USERS_OK) {
        fprintf(stderr, "doorstep: %s\n",
                error[0]                    ? error
                : status == USERS_NOT_FOUND ? "no such user"
                                            : "failed");
        goto out;
    }
    printf("%s %s\n", argv[0][0] == 'a' ? "added" : "password changed for", argv[1]);
    rc = 0;
out:
    mbedtls_platform_zeroize(password, sizeof(password));
    free(grants);
    return rc;
}

/* `doorstep check`: index vs disk, read-only. Exit 0 when consistent. */
static int cli_check(sqlite3 *db, const char *data_dir)
{
    char directory[CONFIG_PATH_MAX + 32];
    struct reconcile_report report;
    int problems;

    snprintf(directory, sizeof(directory), "%s/recordings", data_dir);
    problems = reconcile_check(db, directory, &report);
    if (problems < 0) {
        fprintf(stderr, "doorstep: cannot read the recordings index\n");
        return 2;
    }
    printf("%s: %d problem%s\n", problems == 0 ? "ok" : "inconsistent", problems,
           problems == 1 ? "" : "s");
    return problems == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config config;
    const char *data_dir = NULL, *config_file = NULL;
    char path[CONFIG_PATH_MAX + 32], error[1024];
    sqlite3 *db = NULL;
    int option, rc;

    /* "+" stops at the first non-option: sub-commands take their own flags. */
    while ((option = getopt_long(argc, argv, "+d:c:h", options, NULL)) != -1) {
        if (option == 'd')
            data_dir = optarg;
        else if (option == 'c')
            config_file = optarg;
        else if (option == 'h') {
            cli_usage(argv[0]);
            return 0;
        } else
            return 2;
    }
    if (optind >= argc) {
        cli_usage(argv[0]);
        return 2;
    }
    log_set_level(LOG_LEVEL_WARN);
    config_defaults(&config);
    if (config_file == NULL && data_dir == NULL && access(DOORSTEP_DEFAULT_CONFIG, R_OK) == 0)
        config_file = DOORSTEP_DEFAULT_CONFIG;
    if (config_file != NULL && config_read_file(&config, config_file, error, sizeof(error)) != 0) {
        fprintf(stderr, "doorstep: %s\n", error);
        return 2;
    }
    if (data_dir == NULL)
        data_dir = config.data_dir;
    snprintf(path, sizeof(path), "%s/doorstep.db", data_dir);
    if (access(data_dir, W_OK) != 0) {
        fprintf(stderr, "doorstep: %s: %s\n", data_dir, strerror(errno));
        return 1;
    }
    if (database_open(path, &db, error, sizeof(error)) != 0) {
        fprintf(stderr, "doorstep: %s\n", error);
        return 1;
    }
    if (strcmp(argv[optind], "device") == 0)
        rc = cli_device(db, data_dir, argc - optind - 1, argv + optind + 1);
    else if (strcmp(argv[optind], "user") == 0)
        rc = cli_user(db, argc - optind - 1, argv + optind + 1);
    else if (strcmp(argv[optind], "check") == 0)
        rc = cli_check(db, data_dir);
    else if (strcmp(argv[optind], "audit") == 0)
        rc = cli_audit(db, argc - optind - 1, argv + optind + 1);
    else {
        fprintf(stderr, "doorstep: unknown command '%s' (try --help)\n", argv[optind]);
        rc = 2;
    }
    database_close(db);
    return rc;
}
