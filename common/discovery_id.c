/*
 * discovery_id.c - loading or making the announced id (see discovery_id.h).
 * Main thread, at start-up; owns nothing after it returns.
 */
#include "common/discovery_id.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/private_file.h"
#include "common/system_random.h"

/* Read or make the id (see discovery_id.h). */
int discovery_id_load_or_make(const char *directory, const char *file_name,
                              char id[DISCOVERY_ID_LENGTH + 1], char *error, size_t error_size)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char random[DISCOVERY_ID_LENGTH / 2];
    char path[PATH_MAX], text[DISCOVERY_ID_LENGTH + 4] = "";
    FILE *file;

    id[0] = '\0';
    if (snprintf(path, sizeof(path), "%s/%s", directory, file_name) >= (int)sizeof(path)) {
        error_text_set(error, error_size, "the path is too long");
        return -1;
    }
    if (mkdir(directory, 0700) != 0 && errno != EEXIST) {
        error_text_set(error, error_size, "cannot make the directory: %s", strerror(errno));
        return -1;
    }
    file = fopen(path, "re");
    if (file != NULL) {
        size_t got = fread(text, 1, sizeof(text) - 1, file);
        fclose(file);
        text[got] = '\0';
        text[strcspn(text, "\r\n")] = '\0';
        if (!discovery_txt_is_hex(text, DISCOVERY_ID_LENGTH)) {
            error_text_set(error, error_size, "%s does not hold a 12-hex-digit id", file_name);
            return -1;
        }
        memcpy(id, text, DISCOVERY_ID_LENGTH + 1);
        return 0;
    }
    if (errno != ENOENT) {
        error_text_set(error, error_size, "cannot read %s: %s", file_name, strerror(errno));
        return -1;
    }
    if (system_random_fill(random, sizeof(random), error, error_size) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(random); i++) {
        text[2 * i] = hex[random[i] >> 4];
        text[2 * i + 1] = hex[random[i] & 15];
    }
    text[DISCOVERY_ID_LENGTH] = '\n';
    text[DISCOVERY_ID_LENGTH + 1] = '\0';
    if (private_file_write(directory, file_name, text, strlen(text), error, error_size) != 0)
        return -1;
    memcpy(id, text, DISCOVERY_ID_LENGTH);
    id[DISCOVERY_ID_LENGTH] = '\0';
    return 0;
}
