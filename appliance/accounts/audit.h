/*
 * audit.h - the audit log: who did what, when and from where (logins,
 * setup, account and device changes), kept in the audit_log table.
 *
 * Any thread may call audit_record() with its own SQLite connection; the
 * table is the only shared state and SQLite's locking protects it.
 */
#ifndef DOORSTEP_AUDIT_H
#define DOORSTEP_AUDIT_H

#include <sqlite3.h>
#include <stdint.h>

#define AUDIT_FIELD_MAX 512 /* longer text fields are cut */

/*
 * Append one entry stamped with database_now_ms(). user_id 0 means the
 * system or an unknown user (stored as NULL); NULL strings are stored as "".
 * Never fails visibly: a database error is logged as a warning and the
 * caller carries on.
 */
void audit_record(sqlite3 *db, int64_t user_id, const char *username, const char *action,
                  const char *target, const char *detail, const char *remote_address);

#endif
