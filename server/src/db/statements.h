/*
 * statements.h: every SQL statement the server sends, by name. The text lives in statements.c
 * (and nowhere else); each is prepared on every connection when it is established.
 */
#ifndef HDF_STATEMENTS_H
#define HDF_STATEMENTS_H

enum hdf_stmt {
    HDF_STMT_AUTH_LOOKUP,
    HDF_STMT_READY,
    HDF_STMT_API_KEYS_LIST,
    HDF_STMT_API_KEY_GET,
    HDF_STMT_API_KEY_UPDATE_LABEL,
    /* directory: teams, agents, custom fields (handlers/admin_*.c) */
    HDF_STMT_TEAMS_LIST,
    HDF_STMT_TEAM_GET,
    HDF_STMT_TEAM_CREATE,
    HDF_STMT_TEAM_UPDATE,
    HDF_STMT_TEAM_DELETE,
    HDF_STMT_AGENTS_LIST,
    HDF_STMT_AGENT_GET,
    HDF_STMT_AGENT_CREATE,
    HDF_STMT_AGENT_UPDATE,
    HDF_STMT_AGENT_DELETE,
    HDF_STMT_CUSTOM_FIELDS_LIST,
    HDF_STMT_CUSTOM_FIELD_GET,
    HDF_STMT_CUSTOM_FIELD_CREATE,
    HDF_STMT_CUSTOM_FIELD_UPDATE,
    HDF_STMT_CUSTOM_FIELD_DELETE,
    /* end of directory */
    /* SLA policies and automation rules (handlers/admin_sla_policies.c, admin_automations.c) */
    HDF_STMT_SLA_POLICIES_LIST,
    HDF_STMT_SLA_POLICY_GET,
    HDF_STMT_SLA_POLICY_CREATE,
    HDF_STMT_SLA_POLICY_UPDATE,
    HDF_STMT_SLA_POLICY_DELETE,
    HDF_STMT_AUTOMATIONS_LIST,
    HDF_STMT_AUTOMATION_GET,
    HDF_STMT_AUTOMATION_DEF,
    HDF_STMT_AUTOMATION_CREATE,
    HDF_STMT_AUTOMATION_UPDATE,
    HDF_STMT_AUTOMATION_DELETE,
    HDF_STMT_AUTOMATION_RULES_LOAD,
    HDF_STMT_AUTOMATION_DRY_RUN_STATE,
    /* end of automation */
    /* customers (handlers/customers.c); CUSTOM_FIELD_DEFS is the tickets' too */
    HDF_STMT_CUSTOM_FIELD_DEFS,
    HDF_STMT_CUSTOMER_RULE_BY_EMAIL,
    HDF_STMT_CUSTOMER_GET,
    HDF_STMT_CUSTOMERS_LIST,
    HDF_STMT_CUSTOMER_UPSERT,
    HDF_STMT_CUSTOMER_UPDATE,
    HDF_STMT_CUSTOMER_MERGE_LOCK,
    HDF_STMT_CUSTOMER_MERGE,
    /* end of customers */
    /* transactions (requests holding an Idempotency-Key) and the key records */
    HDF_STMT_BEGIN,
    HDF_STMT_COMMIT,
    HDF_STMT_ROLLBACK,
    HDF_STMT_IDEM_CLAIM,
    HDF_STMT_IDEM_COMPLETE,
    HDF_STMT_IDEM_PURGE,
    /* tickets, messages, audit (handlers/tickets.c, messages.c, audit.c) */
    HDF_STMT_AGENT_IS_ACTIVE,
    HDF_STMT_LOCK_TIMEOUT,
    HDF_STMT_TICKET_CREATE,
    HDF_STMT_TICKET_GET,
    HDF_STMT_TICKET_LOCK,
    HDF_STMT_TICKET_UPDATE,
    HDF_STMT_MESSAGE_CREATE,
    HDF_STMT_MESSAGE_CREATE_RULES,
    HDF_STMT_TICKET_AUDIT,
    HDF_STMT_TICKETS_CREATED_ASC,
    HDF_STMT_TICKETS_CREATED_DESC,
    HDF_STMT_TICKETS_UPDATED_ASC,
    HDF_STMT_TICKETS_UPDATED_DESC,
    HDF_STMT_TICKETS_ALL_CREATED_ASC, /* the same lists without filters (their generic plan is good) */
    HDF_STMT_TICKETS_ALL_CREATED_DESC,
    HDF_STMT_TICKETS_ALL_UPDATED_ASC,
    HDF_STMT_TICKETS_ALL_UPDATED_DESC,
    /* rate limits (ratelimit/limiter.c) */
    HDF_STMT_RATE_LEASE,
    HDF_STMT_RATE_PURGE,
    /* webhooks and events (handlers/webhooks.c; the delivery worker, outbox/delivery.c) */
    HDF_STMT_WEBHOOK_NEXT_ID,
    HDF_STMT_WEBHOOK_CREATE,
    HDF_STMT_WEBHOOKS_LIST,
    HDF_STMT_WEBHOOK_GET,
    HDF_STMT_WEBHOOK_UPDATE,
    HDF_STMT_WEBHOOK_DELETE,
    HDF_STMT_WEBHOOK_ROTATE,
    HDF_STMT_WEBHOOK_ATTEMPTS,
    HDF_STMT_EVENTS_LIST,
    HDF_STMT_EVENT_REDELIVER,
    HDF_STMT_DELIVERY_CLAIM,
    HDF_STMT_DELIVERY_COMPLETE,
    HDF_STMT_DELIVERY_NEXT_DUE,
    HDF_STMT_DELIVERY_SLEEP,
    HDF_STMT_DELIVERY_XID_BOUND,
    HDF_STMT_DELIVERY_SETTLED,
    HDF_STMT_DELIVERY_WAKE,
    HDF_STMT_OUTBOX_STATS,
    HDF_STMT_SLA_TICK,
    HDF_STMT_OUTBOX_PURGE,
    HDF_STMT__COUNT
};

#define HDF_STMT_MAX_PARAMS 32

struct hdf_statement {
    const char *name; /* prepared statement name */
    const char *sql;
    int nparams;
};

extern const struct hdf_statement hdf_statements[HDF_STMT__COUNT];
/* Run once on each new connection, before statements are prepared. */
extern const char hdf_session_setup_sql[];

#endif
