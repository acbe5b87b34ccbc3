/*
 * rule_internal.h: what the automation module's files share and nothing else uses: the action
 * parser (action_parse.c) called by rule_parse.c, and the action names.
 */
#ifndef HDF_AUTOMATION_RULE_INTERNAL_H
#define HDF_AUTOMATION_RULE_INTERNAL_H

#include "automation/automation.h"

/* Parses the actions array into r->actions (1..HDF_AUTO_ACTIONS_MAX), reporting `actions[i]...`. */
int actions_parse(const json_t *j, struct hdf_auto_rule *r, struct hdf_auto_refs *refs, hdf_field_errors_t *fe);
/* Notes that the rule refers to custom field key (at path) in list (NULL: nothing to note). */
void refs_add_key(json_t *list, const char *key, const char *path);
const char *automation_action_name(enum hdf_auto_action_type t);
int automation_action_index(const char *name);
/* The ticket field an action sets ("priority", "custom_fields.<key>", "tags" ...) into out. */
void automation_action_target(const struct hdf_auto_action *a, char *out, size_t outsz);

#endif
