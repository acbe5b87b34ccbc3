/*
 * migrate.h: the migrations compiled into the binary (generated from migrations/NNNN_name.sql by
 * cmake/embed_migrations.cmake) and `helpdeskflow migrate`.
 */
#ifndef HDF_MIGRATE_H
#define HDF_MIGRATE_H

#include <stddef.h>

struct hdf_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct hdf_migration hdf_migrations[];
extern const size_t hdf_migrations_count;

/* The schema version this binary needs (the last migration's). */
int migrate_latest_version(void);
/* Applies pending migrations; returns the process exit status. */
int migrate_run(const char *database_url);

#endif
