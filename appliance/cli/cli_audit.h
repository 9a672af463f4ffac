/*
 * cli_audit.h - `doorstep audit`: print the audit log from the hub's
 * database, newest first, as text or CSV, with the API's filters.
 * Single-threaded (the CLI).
 */
#ifndef DOORSTEP_CLI_AUDIT_H
#define DOORSTEP_CLI_AUDIT_H

#include <sqlite3.h>

/* Usage lines for cli_usage(). */
#define CLI_AUDIT_USAGE                                                                            \
    "  audit [--user U] [--action A[,B...]] [--device ID] [--since WHEN] [--until WHEN]\n"         \
    "        [--limit N] [--csv]      print the audit log, newest first; WHEN is 7d, 24h,\n"       \
    "                                  30m, YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time)\n"

/* Run `audit` with argv after the command name. 0 ok, 1 failure, 2 usage. */
int cli_audit(sqlite3 *db, int argc, char **argv);

#endif
