/*
 * migrate.c: `helpdeskflow migrate`. Runs outside the event loop, so plain blocking libpq is right
 * here. Every migration runs in its own transaction under a session advisory lock (so two migrate
 * runs never interleave); a failure rolls back that migration and exits non-zero, leaving the
 * schema at the last good version. An applied migration whose text changed is refused: migrations
 * are never edited once landed.
 */
#include <libpq-fe.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "migrate.h"
#include "common/log.h"
#include "common/util.h"

#define MIGRATE_LOCK_KEY "7254190358716102001" /* arbitrary, constant: pg_advisory_lock(bigint) */

int migrate_latest_version(void)
{
    return hdf_migrations_count == 0 ? 0 : hdf_migrations[hdf_migrations_count - 1].version;
}

static int exec_ok(PGconn *pg, const char *sql, const char *what)
{
    PGresult *r = PQexec(pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "helpdeskflow migrate: %s failed: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static void checksum(const char *sql, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)sql, strlen(sql), d);
    hex_encode(d, sizeof(d), out);
}

/* Returns the stored checksum of an applied version into sum, 1 if applied, 0 if not, -1 on error. */
static int applied_checksum(PGconn *pg, int version, char sum[65])
{
    char v[16];
    snprintf(v, sizeof(v), "%d", version);
    const char *params[] = {v};
    PGresult *r = PQexecParams(pg, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        rc = PQntuples(r) > 0;
        if (rc)
            strlcpy(sum, PQgetvalue(r, 0, 0), 65);
    } else {
        fprintf(stderr, "helpdeskflow migrate: reading schema_migrations failed: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
    return rc;
}

static int apply_one(PGconn *pg, const struct hdf_migration *m, const char *sum)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", m->version);
    if (!exec_ok(pg, "BEGIN", "BEGIN"))
        return -1;
    PGresult *r = PQexec(pg, m->sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "helpdeskflow migrate: migration %04d_%s failed: %s", m->version, m->name, PQresultErrorMessage(r));
        PQclear(r);
        exec_ok(pg, "ROLLBACK", "ROLLBACK");
        return -1;
    }
    PQclear(r);
    const char *params[] = {v, m->name, sum};
    r = PQexecParams(pg, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3, NULL, params, NULL, NULL,
                     0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "helpdeskflow migrate: recording %04d failed: %s", m->version, PQresultErrorMessage(r));
    PQclear(r);
    if (!ok || !exec_ok(pg, "COMMIT", "COMMIT")) {
        exec_ok(pg, "ROLLBACK", "ROLLBACK");
        return -1;
    }
    printf("migrations: applied %04d_%s\n", m->version, m->name);
    return 0;
}

static int apply_pending(PGconn *pg)
{
    int applied = 0;
    for (size_t i = 0; i < hdf_migrations_count; i++) {
        const struct hdf_migration *m = &hdf_migrations[i];
        char sum[65], stored[65];
        checksum(m->sql, sum);
        int st = applied_checksum(pg, m->version, stored);
        if (st < 0)
            return -1;
        if (st == 1) {
            if (strcmp(sum, stored) != 0) {
                fprintf(stderr,
                        "helpdeskflow migrate: migration %04d_%s was changed after it was applied "
                        "(checksum %.12s…, database has %.12s…); add a new migration instead\n",
                        m->version, m->name, sum, stored);
                return -1;
            }
            continue;
        }
        if (apply_one(pg, m, sum) != 0)
            return -1;
        applied++;
    }
    return applied;
}

int migrate_run(const char *database_url)
{
    PGconn *pg = PQconnectdb(database_url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "helpdeskflow migrate: cannot connect to DATABASE_URL: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 1;
    }
    int rc = 1;
    if (!exec_ok(pg, "SET client_min_messages = warning", "setting client_min_messages") ||
        !exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "taking the migration lock"))
        goto out;
    if (!exec_ok(pg,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                 "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                 "creating schema_migrations"))
        goto unlock;
    int n = apply_pending(pg);
    if (n >= 0) {
        if (n == 0)
            printf("migrations: up to date (version %d)\n", migrate_latest_version());
        else
            printf("migrations: now at version %d\n", migrate_latest_version());
        rc = 0;
    }
unlock:
    exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", "releasing the migration lock");
out:
    PQfinish(pg);
    return rc;
}
