/*
 * rules_cache.h: each server thread's parsed automation rules, per workspace (DESIGN.md,
 * Architecture: Automation). Thread-local, so lookups take no lock; an entry is trusted until a
 * statement reports that the workspace's rules version moved on (docs/automation.md, Caching),
 * then replaced. Pure C: no h2o, no libpq.
 */
#ifndef HDF_RULES_CACHE_H
#define HDF_RULES_CACHE_H

#include <stdint.h>
#include "automation/automation.h"

#define HDF_RULES_CACHE_WORKSPACES 256

/* The workspace's cached rules, retained for the caller (automation_ruleset_release), or NULL. */
struct hdf_auto_ruleset *rules_cache_get(int64_t workspace_id);
/* Caches rs for the workspace (the cache takes its own reference), replacing any older entry;
 * past HDF_RULES_CACHE_WORKSPACES the least recently used workspace is dropped. */
void rules_cache_put(int64_t workspace_id, struct hdf_auto_ruleset *rs);
/* Drops every entry of this thread (thread exit, tests). */
void rules_cache_clear(void);

#endif
