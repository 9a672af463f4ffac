/*
 * reconcile.h - making the recordings index and the files on disk agree:
 * at start-up (repair) and for `doorstep check` (report only).
 *
 * Main thread of doorstepd before any recorder runs, or the CLI. Uses the
 * caller's SQLite connection.
 */
#ifndef DOORSTEP_RECONCILE_H
#define DOORSTEP_RECONCILE_H

#include <sqlite3.h>
#include <stdint.h>

struct reconcile_report {
    int deletions_finished;  /* pending deletions carried out */
    int segments_repaired;   /* open rows whose file was cut back to its last whole fragment */
    int segments_closed;     /* open rows closed as they were */
    int rows_dropped;        /* rows whose file had vanished (or was empty) */
    int orphans_indexed;     /* files without a row, now indexed */
    int orphans_quarantined; /* unusable files moved to recordings/quarantine/ */
    int problems;            /* check: inconsistencies found */
};

/* Repair: finish pending deletions, repair/close open rows, drop rows without
 * files, index or quarantine files without rows. Logs each action. 0 or -1. */
int reconcile_recordings(sqlite3 *db, const char *recordings_dir, struct reconcile_report *report);

/* Check only: every row has its file with at least `bytes` whole bytes
 * (exactly, for closed rows), and every file has a row. Each problem is
 * printed to stdout. Safe beside a running hub: a file a deletion is under
 * way for, or one changed in the last 10 s without its row yet (being
 * created), is not a problem. Returns the number of problems, or -1. */
int reconcile_check(sqlite3 *db, const char *recordings_dir, struct reconcile_report *report);

#endif
