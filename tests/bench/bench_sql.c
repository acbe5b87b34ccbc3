/*
 * bench_sql.c: prints the pgbench scripts of tests/bench/run.sh from the server's own SQL, so that
 * pgbench runs the very statements a request sends (hdf_statements[], server/src/db/statements.c),
 * in the same order and with the same round trips, instead of a retyped copy that drifts.
 *
 *   bench_sql SCENARIO   the pgbench script of one scenario (get, create, patch, list, list_deep)
 *   bench_sql --list     one line per scenario: name, statements and round trips per transaction,
 *                        steps (separated by TABs)
 *
 * The table `scenarios` below is all there is to adapt when the server's request path changes: one
 * row per scenario, one step per statement in the order the server sends them, each naming the
 * statement by its enum and giving, for each of its $n in order, the pgbench text that stands for
 * the value the server sends:
 *   - a variable, `:ws`: pgbench sends it as a parameter of the prepared statement, as the server
 *     does. The script's \set lines draw per-transaction values; run.sh defines the rest with -D:
 *     ws (workspace id), key (API key id, the actor), t0 and t1 (seeded ticket ids), ncust (seeded
 *     customers), tag (unique per pgbench run), body (the sanitized body the server stores for the
 *     wrk request body), n (0: each client counts its transactions in it), clients (pgbench -c),
 *     pos and after (the deep cursor's position and id), lock_ms (HDF_LOCK_TIMEOUT_MS);
 *   - SQL: a literal (`'false'`, `NULL`: pgbench cannot send a NULL parameter) or an expression over
 *     variables, e.g. a unique email; wrapped in parentheses where it replaces $n;
 *   - a statement's output, read with \gset into variables named by the step's prefix (the PATCH's
 *     new fields are the locked row's fields with the change applied, as ticket_apply_patch does).
 * Round trips: a step is one, unless the steps between a STEP_META "\\startpipeline" and
 * "\\endpipeline" (printed verbatim) share one, as statements the server pipelines do. A statement
 * of several commands ("BEGIN; SET LOCAL ...", sent as one simple query) is printed as a pipeline
 * of its commands: -M prepared cannot send a simple query, and a pipeline is the same one round
 * trip. pgbench allows no \gset inside a pipeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db/statements.h"

#define STEP_META (-1)
#define MAX_STEPS 16
#define SQL_NULL "NULL"
/* the server sends a fresh 32-hex-digit request id; a constant of the same length stands for it */
#define REQUEST_ID "'0123456789abcdef0123456789abcdef'"

struct step {
    int stmt;                              /* enum hdf_stmt, or STEP_META */
    const char *args[HDF_STMT_MAX_PARAMS]; /* pgbench text for $1, $2, ...; STEP_META: the meta command */
    const char *gset;                      /* \gset prefix for the statement's one output row, or NULL */
};

struct scenario {
    const char *name;
    const char *request; /* what the API is sent (tests/bench/lua/<name>.lua) */
    const char *sets;    /* pgbench \set lines: this transaction's random values */
    struct step steps[MAX_STEPS];
};

/* POST /v1/tickets: half new customers (an email unique to this run, client and transaction), half
 * seeded ones (customer<i>@example.com) */
#define CREATE_EMAIL                                                                                                               \
    "CASE WHEN :new = 1 THEN 'pgb-' || :tag || '-' || :client_id || '-' || :n || '@bench.example.com'"                             \
    " ELSE 'customer' || :cust || '@example.com' END"
/* PATCH {"subject": ..., "priority": ...}: the locked row's fields (lk_hdf_ticket_fields, from
 * TICKET_LOCK) with the two members replaced; the subject differs every time */
#define PATCH_FIELDS                                                                                                               \
    "jsonb_set(jsonb_set(:lk_hdf_ticket_fields::jsonb, '{subject}', to_jsonb('Updated by ' || :tag || '-' || :client_id || '-'"    \
    " || :n)), '{priority}', to_jsonb((ARRAY['low', 'normal', 'high', 'urgent'])[:pri]))::text"

static const struct scenario scenarios[] = {
    {.name = "get",
     .request = "GET /v1/tickets/{id}",
     .sets = "\\set id random(:t0, :t1)\n",
     .steps = {{.stmt = HDF_STMT_TICKET_GET, .args = {":ws", ":id", "'false'"}}}},
    {.name = "create",
     .request = "POST /v1/tickets",
     .sets = "\\set n :n + 1\n\\set new random(0, 1)\n\\set cust random(1, :ncust)\n",
     .steps = {{.stmt = HDF_STMT_TICKET_CREATE,
                .args = {/* $1 ws */ ":ws",
                         /* $2..$5 customer email, name, tags, custom_fields */ CREATE_EMAIL, "'Bench Customer'", SQL_NULL,
                         SQL_NULL,
                         /* $6 subject */ "'Order ' || :n || ' from client ' || :client_id || ' has not arrived'",
                         /* $7..$9 status, priority, channel */ "'new'", "'normal'", "'api'",
                         /* $10 team, $11 assignee */ SQL_NULL, SQL_NULL,
                         /* $12 tags, $13 custom_fields */ "'{\"billing\",\"shipping\"}'", "'{}'",
                         /* $14 sanitized body */ ":body",
                         /* $15..$18 actor type, actor id, source, request id */ "'api_key'", ":key", "'api'", REQUEST_ID,
                         /* $19..$21 automation: initial fields, effects, notes (none: no rule changed anything) */
                         SQL_NULL, SQL_NULL, SQL_NULL,
                         /* $22 the rules version the server evaluated with */ ":rv"}}}},
    {.name = "patch",
     .request = "PATCH /v1/tickets/{id} {subject, priority}",
     /* ids no other client is patching: client c takes c, c + clients, ... in a permuted order */
     .sets = "\\set n :n + 1\n\\set id :t0 + :client_id + :clients * permute(:n, (:t1 - :t0 + 1) / :clients)\n"
             "\\set pri random(1, 4)\n",
     /* the server sends [BEGIN, lock_timeout, lock] as one pipeline; pgbench allows no \gset in one,
      * so here the lock is a round trip of its own (one more than the server's) */
     .steps = {{.stmt = STEP_META, .args = {"\\startpipeline"}},
               {.stmt = HDF_STMT_BEGIN},
               {.stmt = HDF_STMT_LOCK_TIMEOUT, .args = {":lock_ms"}},
               {.stmt = STEP_META, .args = {"\\endpipeline"}},
               {.stmt = HDF_STMT_TICKET_LOCK, .args = {":ws", ":id"}, .gset = "lk_"},
               {.stmt = HDF_STMT_TICKET_UPDATE,
                .args = {":ws", ":id", PATCH_FIELDS, "'api_key'", ":key", "'api'", REQUEST_ID,
                         /* $8..$10 automation: the user's fields, effects, notes (no rules) */ SQL_NULL, SQL_NULL, SQL_NULL}},
               {.stmt = HDF_STMT_COMMIT}}},
    /* no filters: the unfiltered statement, $1 ws, $2 cursor position, $3 cursor id, $4 limit + 1 */
    {.name = "list",
     .request = "GET /v1/tickets?limit=25",
     .sets = "",
     .steps = {{.stmt = HDF_STMT_TICKETS_ALL_CREATED_DESC, .args = {":ws", SQL_NULL, SQL_NULL, "26"}}}},
    {.name = "list_deep",
     .request = "GET /v1/tickets?limit=25&cursor=<page 2,000>",
     .sets = "",
     .steps = {{.stmt = HDF_STMT_TICKETS_ALL_CREATED_DESC, .args = {":ws", ":pos", ":after", "26"}}}},
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "bench_sql: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

/* Steps end at the first all-zero one (every statement but BEGIN, COMMIT and ROLLBACK, none of
 * them enum 0, has parameters). */
static int nsteps(const struct scenario *s)
{
    int n = 0;
    while (n < MAX_STEPS && (s->steps[n].stmt != 0 || s->steps[n].args[0] != NULL || s->steps[n].gset != NULL))
        n++;
    return n;
}

static const char *step_name(const struct step *st)
{
    return st->stmt == STEP_META ? st->args[0] : hdf_statements[st->stmt].name;
}

/* Length of the quoted text, comment or dollar-quoted string starting at p (0 when none starts
 * there): $n is a parameter only outside them. */
static size_t skip_quoted(const char *p)
{
    if (*p == '\'' || *p == '"') {
        const char *q = p + 1;
        for (;;) {
            q = strchr(q, *p);
            if (q == NULL)
                return strlen(p);
            if (q[1] != *p) /* '' and "" are escaped quotes */
                return (size_t)(q + 1 - p);
            q += 2;
        }
    }
    if (p[0] == '-' && p[1] == '-')
        return strcspn(p, "\n");
    if (p[0] == '$' && (p[1] < '0' || p[1] > '9')) { /* $tag$ ... $tag$ */
        size_t taglen = 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
        if (p[taglen] != '$')
            return 0;
        taglen++;
        for (const char *q = p + taglen; (q = strchr(q, '$')) != NULL; q++)
            if (strncmp(q, p, taglen) == 0)
                return (size_t)(q + taglen - p);
        return strlen(p);
    }
    return 0;
}

/* pgbench replaces every ":name" in a SQL command (quoted or not; "::" casts excepted) with a
 * variable: the server's SQL must hold none. */
static void check_no_pgbench_variables(const struct scenario *s, const char *name, const char *sql)
{
    for (const char *p = sql; (p = strchr(p, ':')) != NULL;) {
        size_t run = strspn(p, ":");
        if (run == 1 && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", p[1]) != NULL && p[1] != '\0')
            die("%s: statement %s holds text pgbench would read as a variable (\":name\")", s->name, name);
        p += run;
    }
}

/* One argument as it replaces $n: bare when a variable or NULL, else in parentheses. */
static void print_arg(const char *arg)
{
    size_t ident = arg[0] == ':' ? strspn(arg + 1, "abcdefghijklmnopqrstuvwxyz_0123456789") : 0;
    if (strcmp(arg, SQL_NULL) == 0 || (ident > 0 && arg[1 + ident] == '\0'))
        fputs(arg, stdout);
    else
        printf("(%s)", arg);
}

/* Top-level semicolons in sql, a trailing one not counted: a statement of several commands is a
 * simple query (one round trip, no parameters), which pgbench's -M prepared cannot send. */
static int count_separators(const char *sql)
{
    int n = 0;
    for (const char *p = sql; *p != '\0';) {
        size_t q = skip_quoted(p);
        if (q > 0) {
            p += q;
            continue;
        }
        if (*p++ == ';' && p[strspn(p, " \t\r\n")] != '\0')
            n++;
    }
    return n;
}

/* The statement's SQL with each $n (read greedily: $10 is not $1 then 0) replaced by args[n-1],
 * one pgbench command per line. */
static void print_commands(const struct scenario *s, const struct step *st)
{
    const struct hdf_statement *stmt = &hdf_statements[st->stmt];
    int used[HDF_STMT_MAX_PARAMS] = {0};
    for (const char *p = stmt->sql; *p != '\0';) {
        size_t q = skip_quoted(p);
        if (q > 0) {
            fwrite(p, 1, q, stdout);
            p += q;
        } else if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            char *end;
            long n = strtol(p + 1, &end, 10);
            if (n < 1 || n > stmt->nparams)
                die("%s: statement %s refers to a parameter it does not declare", s->name, stmt->name);
            print_arg(st->args[n - 1]);
            used[n - 1] = 1;
            p = end;
        } else if (*p == ';') {
            p += 1 + strspn(p + 1, " \t\r\n");
            fputs(*p != '\0' ? ";\n" : "", stdout);
        } else {
            fputc(*p++, stdout);
        }
    }
    for (int i = 0; i < stmt->nparams; i++)
        if (!used[i])
            die("%s: statement %s never uses one of its declared parameters", s->name, stmt->name);
    if (st->gset != NULL)
        printf(" \\gset %s\n", st->gset);
    else
        fputs(";\n", stdout);
}

/* A statement of several commands is sent as a pipeline of them: the same one round trip. pgbench
 * allows no \gset inside a pipeline. */
static void print_statement(const struct scenario *s, const struct step *st, int in_pipeline)
{
    const struct hdf_statement *stmt = &hdf_statements[st->stmt];
    for (int i = 0; i < stmt->nparams; i++)
        if (st->args[i] == NULL)
            die("%s: statement %s needs more parameters than the table gives", s->name, stmt->name);
    if (stmt->nparams < HDF_STMT_MAX_PARAMS && st->args[stmt->nparams] != NULL)
        die("%s: the table gives statement %s more parameters than it has", s->name, stmt->name);
    check_no_pgbench_variables(s, stmt->name, stmt->sql);
    int several = count_separators(stmt->sql) > 0;
    if ((several || in_pipeline) && st->gset != NULL)
        die("%s: statement %s is sent in a pipeline, where pgbench cannot \\gset its output", s->name, stmt->name);
    if (several && !in_pipeline)
        puts("\\startpipeline");
    print_commands(s, st);
    if (several && !in_pipeline)
        puts("\\endpipeline");
}

static void print_script(const struct scenario *s)
{
    int n = nsteps(s), in_pipeline = 0;
    printf("-- pgbench script of scenario \"%s\" (%s): tests/bench/bench_sql.c, from the SQL in\n"
           "-- server/src/db/statements.c; run with -M prepared and the -D variables run.sh sets.\n",
           s->name, s->request);
    fputs(s->sets, stdout);
    for (int i = 0; i < n; i++) {
        const struct step *st = &s->steps[i];
        if (st->stmt == STEP_META) {
            printf("%s\n", st->args[0]);
            if (strcmp(st->args[0], "\\startpipeline") == 0)
                in_pipeline = 1;
            else if (strcmp(st->args[0], "\\endpipeline") == 0)
                in_pipeline = 0;
            continue;
        }
        printf("-- %d. %s\n", i + 1, hdf_statements[st->stmt].name);
        print_statement(s, st, in_pipeline);
    }
}

/* Round trips of one transaction: one per step, one per pipeline. */
static int round_trips(const struct scenario *s)
{
    int n = nsteps(s), trips = 0, in_pipeline = 0;
    for (int k = 0; k < n; k++) {
        const struct step *st = &s->steps[k];
        if (st->stmt != STEP_META) {
            trips += !in_pipeline;
        } else if (strcmp(st->args[0], "\\startpipeline") == 0) {
            in_pipeline = 1;
            trips++;
        } else if (strcmp(st->args[0], "\\endpipeline") == 0) {
            in_pipeline = 0;
        }
    }
    return trips;
}

static void print_list(void)
{
    for (size_t i = 0; i < NSCENARIOS; i++) {
        const struct scenario *s = &scenarios[i];
        int n = nsteps(s), stmts = 0;
        for (int k = 0; k < n; k++)
            stmts += s->steps[k].stmt != STEP_META;
        printf("%s\t%d\t%d\t", s->name, stmts, round_trips(s));
        for (int k = 0; k < n; k++)
            printf("%s%s", k > 0 ? ", " : "", step_name(&s->steps[k]));
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        print_list();
        return 0;
    }
    for (size_t i = 0; argc == 2 && i < NSCENARIOS; i++) {
        if (strcmp(argv[1], scenarios[i].name) == 0) {
            print_script(&scenarios[i]);
            return fflush(stdout) == 0 ? 0 : 1;
        }
    }
    fprintf(stderr, "usage: bench_sql --list | bench_sql SCENARIO (");
    for (size_t i = 0; i < NSCENARIOS; i++)
        fprintf(stderr, "%s%s", i > 0 ? ", " : "", scenarios[i].name);
    fprintf(stderr, ")\n");
    return 2;
}
