/*
 * ticket_rules.h: automation rules on the request path (docs/automation.md, Caching): the
 * thread's cached ruleset of the caller's workspace, its reload when a statement reports that the
 * workspace's rules version moved on, a pass over a ticket, and the 409 automation_conflict.
 */
#ifndef HDF_TICKET_RULES_H
#define HDF_TICKET_RULES_H

#include "automation/automation.h"
#include "http/request.h"

/* The caller's workspace's rules as this thread knows them, retained (release them): the cached
 * ones, or, before any statement said otherwise, none at version 0 (a workspace that never had
 * rules then costs no query at all; one that has rules is found out by the first statement). */
struct hdf_auto_ruleset *ticket_rules_get(struct hdf_req *r);
/* Loads the workspace's rules and version (one query); done calls ticket_rules_store. */
void ticket_rules_query(struct hdf_req *r, hdf_query_done_fn done);
void ticket_rules_store(struct hdf_req *r, PGresult *res);
/* The rules answered by a reload (res, as for ticket_rules_store), in place of old (released):
 * stores them and returns this thread's current ruleset, one reference for the caller. */
struct hdf_auto_ruleset *ticket_rules_reload(struct hdf_req *r, PGresult *res, struct hdf_auto_ruleset *old);

/* The output of a pass the write statements take: effects and notes as JSON text (NULL when
 * none). */
struct hdf_rules_out {
    const char *effects, *notes;
};

/* Runs event's rules over s (s->ticket becomes the final state). On a conflict: when the rules
 * are known to be current (fresh), answers 409 automation_conflict (rule_ids, field; nothing is
 * written) and returns -1; otherwise returns 1 without answering, so that the caller reloads the
 * rules and tries again (a cached rule deleted meanwhile must not keep answering 409). */
int ticket_rules_run(struct hdf_req *r, const struct hdf_auto_ruleset *rs, unsigned event, struct hdf_auto_subject *s, int fresh,
                     struct hdf_rules_out *out);

#endif
