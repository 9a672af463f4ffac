/*
 * media_judge.h - test helper: ffprobe and ffmpeg as the judge of the MP4
 * files the media tests write (fMP4 writer, segment writer, playback,
 * export). A tool runs without a shell and must exit 0 with nothing on
 * stderr, or the current cmocka test fails with what it printed.
 *
 * Single-threaded (one test at a time). Ownership: returned text is
 * malloc'd and the caller frees it; the helper's own files are removed.
 */
#ifndef DOORSTEP_MEDIA_JUDGE_H
#define DOORSTEP_MEDIA_JUDGE_H

/* Run argv (argv[0] looked up in PATH, stdin /dev/null) with its stdout and
 * stderr in files under directory (removed again). Fails the test unless it
 * exits 0 with an empty stderr; returns its stdout, NUL-terminated. */
char *media_judge_run(const char *directory, char *const argv[]);

/* Fail the test unless text (ffprobe's default output) has the whole line
 * line, e.g. "codec_name=h264". */
void media_judge_expect_line(const char *text, const char *line);

/* The number after "\n<key>=" in text (ffprobe's default output); fails the
 * test when there is none. */
double media_judge_field(const char *text, const char *key);

#endif
