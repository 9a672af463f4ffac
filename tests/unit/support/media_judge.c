/*
 * media_judge.c - ffprobe/ffmpeg as the judge of media tests (see
 * media_judge.h). Single-threaded; the stdout/stderr files it creates are
 * removed before it returns.
 */
#include "media_judge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_files.h"

extern char **environ;

/* See media_judge.h. */
char *media_judge_run(const char *directory, char *const argv[])
{
    char out[512], err[512];
    posix_spawn_file_actions_t actions;
    pid_t pid;
    int status = 0;

    assert_true((size_t)snprintf(out, sizeof(out), "%s/judge.out", directory) < sizeof(out));
    assert_true((size_t)snprintf(err, sizeof(err), "%s/judge.err", directory) < sizeof(err));
    assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *errors = test_read_file(err, NULL);
    char *output = test_read_file(out, NULL);
    unlink(out);
    unlink(err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || errors[0] != '\0')
        fail_msg("%s failed (status %d): %s", argv[0], status, errors);
    free(errors);
    return output;
}

/* See media_judge.h. */
void media_judge_expect_line(const char *text, const char *line)
{
    size_t length = strlen(line);
    for (const char *at = text; (at = strstr(at, line)) != NULL; at += length)
        if ((at == text || at[-1] == '\n') && (at[length] == '\n' || at[length] == '\0'))
            return;
    fail_msg("ffprobe output lacks \"%s\":\n%s", line, text);
}

/* See media_judge.h. */
double media_judge_field(const char *text, const char *key)
{
    char pattern[64];
    assert_true((size_t)snprintf(pattern, sizeof(pattern), "\n%s=", key) < sizeof(pattern));
    const char *at = strstr(text, pattern);
    if (at == NULL)
        fail_msg("no %s in:\n%s", key, text);
    return strtod(at + strlen(pattern), NULL);
}
