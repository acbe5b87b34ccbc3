/*
 * ticket.h: validation and normalisation of ticket and message requests (CONTRACT.md, Tickets):
 * what POST /v1/tickets and POST /v1/tickets/{id}/messages accept. Pure (jansson only),
 * unit-tested; every failing field is reported at once into hdf_field_errors_t. Checks that need
 * the database (custom field definitions, that a team or agent exists) are the handler's.
 */
#ifndef HDF_MODEL_TICKET_H
#define HDF_MODEL_TICKET_H

#include <jansson.h>
#include <stdint.h>
#include "common/errors.h"
#include "model/email.h"

#define HDF_SUBJECT_MAX_CHARS 250
#define HDF_NAME_MAX_CHARS 200

extern const char *const hdf_ticket_statuses[];   /* new open pending on_hold solved closed */
extern const char *const hdf_ticket_priorities[]; /* low normal high urgent */
extern const char *const hdf_ticket_channels[];   /* api email web chat */

struct hdf_ticket_create {
    const char *subject;
    char customer_email[HDF_EMAIL_MAX + 1];
    const char *customer_name;      /* NULL when not given */
    json_t *customer_tags;          /* normalised, owned; NULL when not given */
    json_t *customer_custom_fields; /* borrowed from the body; NULL when not given */
    const char *body;               /* the first message, raw HTML; NULL when not given */
    size_t body_len;
    const char *status, *priority, *channel;
    json_t *tags;                 /* normalised, owned; an empty array when not given */
    json_t *custom_fields;        /* borrowed; NULL when not given */
    int64_t team_id, assignee_id; /* 0: none */
};

/* Fills t from a POST /v1/tickets body. Returns 0 when valid; otherwise the errors are in fe.
 * Call ticket_create_free in both cases. */
int ticket_validate_create(json_t *body, struct hdf_ticket_create *t, hdf_field_errors_t *fe);
void ticket_create_free(struct hdf_ticket_create *t);

/* Applies a PATCH /v1/tickets/{id} body to a ticket's fields (the hdf_ticket_fields() object:
 * subject, status, priority, channel, customer_id, team_id, assignee_id, tags, custom_fields) and
 * returns the new fields (caller decrefs), or NULL with every failing field in fe. tags replaces,
 * add_tags / remove_tags edit (after tags), custom_fields merges key by key (null deletes). */
json_t *ticket_apply_patch(const json_t *fields, json_t *patch, hdf_field_errors_t *fe);

struct hdf_message_create {
    const char *body;
    size_t body_len;
    const char *author_type; /* "agent" (default) or "customer" */
    int internal;
};

int message_validate_create(json_t *body, struct hdf_message_create *m, hdf_field_errors_t *fe);

/* A body (ticket or message): a string of at most HDF_BODY_MAX_CHARS code points. Returns 1 when
 * present and valid, 0 when absent and optional, -1 after reporting an error. */
int ticket_get_body(json_t *obj, const char *field, int required, const char **out, size_t *len, hdf_field_errors_t *fe);

#endif
