/*
 * rules_cache.c: the per-thread rules cache (rules_cache.h). A small array searched linearly:
 * a thread serves few workspaces at a time, and a miss costs a query anyway.
 */
#include <string.h>
#include "automation/rules_cache.h"

struct entry {
    int64_t workspace_id;
    uint64_t used; /* tick of the last lookup, for eviction */
    struct hdf_auto_ruleset *rs;
};

static _Thread_local struct entry entries[HDF_RULES_CACHE_WORKSPACES];
static _Thread_local size_t nentries;
static _Thread_local uint64_t tick;

static struct entry *find(int64_t workspace_id)
{
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].workspace_id == workspace_id)
            return &entries[i];
    return NULL;
}

struct hdf_auto_ruleset *rules_cache_get(int64_t workspace_id)
{
    struct entry *e = find(workspace_id);
    if (e == NULL)
        return NULL;
    e->used = ++tick;
    return automation_ruleset_retain(e->rs);
}

static struct entry *victim(void)
{
    if (nentries < HDF_RULES_CACHE_WORKSPACES)
        return &entries[nentries++];
    struct entry *v = &entries[0];
    for (size_t i = 1; i < nentries; i++)
        if (entries[i].used < v->used)
            v = &entries[i];
    automation_ruleset_release(v->rs);
    v->rs = NULL;
    return v;
}

void rules_cache_put(int64_t workspace_id, struct hdf_auto_ruleset *rs)
{
    struct entry *e = find(workspace_id);
    if (e != NULL)
        automation_ruleset_release(e->rs);
    else
        e = victim();
    e->workspace_id = workspace_id;
    e->used = ++tick;
    e->rs = automation_ruleset_retain(rs);
}

void rules_cache_clear(void)
{
    for (size_t i = 0; i < nentries; i++)
        automation_ruleset_release(entries[i].rs);
    memset(entries, 0, sizeof(entries));
    nentries = 0;
}
