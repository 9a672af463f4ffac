/*
 * migrations.h - the schema migrations compiled into the hub, generated from
 * db/migrations/NNNN_name.sql by scripts/embed-migrations.sh. Read-only data.
 */
#ifndef DOORSTEP_MIGRATIONS_H
#define DOORSTEP_MIGRATIONS_H

struct database_migration {
    int version;      /* NNNN from the file name; strictly increasing */
    const char *name; /* file name without .sql */
    const char *sql;  /* whole file */
};

extern const struct database_migration database_migrations[];
extern const int database_migration_count;

#endif
