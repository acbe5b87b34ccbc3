-- 0004_customers_tickets: customers (with external profiles), tickets, messages and the
-- append-only audit log (CONTRACT.md, Tickets and Customers). Every row carries workspace_id and
-- every foreign key that crosses tables is scoped by workspace (composite keys), so no statement
-- can tie one workspace's ticket to another's customer, team or agent.

-- Workspace-scoped foreign keys point at (workspace_id, id) keys: teams_workspace_id_key and
-- agents_workspace_id_key (0002), customers_workspace_id_key (below).

CREATE TABLE customers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (octet_length(email) <= 254 AND email !~ '[A-Z\x01-\x20\x7f]'
                                       AND email ~ '^[^@]+@[^@.]+(\.[^@.]+)+$'),
    name          text CHECK (char_length(name) <= 200),
    phone         text CHECK (char_length(phone) <= 50),
    tags          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    custom_fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
    metadata      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object' AND octet_length(metadata::text) <= 16384),
    merged_into   bigint REFERENCES customers (id),
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_workspace_id_key UNIQUE (workspace_id, id)
);
-- One live customer per normalised email; a merged customer keeps its row (it answers 404 with
-- merged_into) and gives up its email.
CREATE UNIQUE INDEX customers_workspace_email_key ON customers (workspace_id, email) WHERE merged_into IS NULL;
CREATE INDEX customers_workspace_updated_idx ON customers (workspace_id, updated_at, id);
CREATE INDEX customers_tags_idx ON customers USING gin (tags);

CREATE TABLE customer_external_profiles (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL,
    customer_id  bigint NOT NULL,
    provider     text NOT NULL CHECK (char_length(provider) BETWEEN 1 AND 50),
    external_id  text NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 200),
    url          text CHECK (char_length(url) <= 2000),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_external_profiles_provider_key UNIQUE (workspace_id, provider, external_id)
);
CREATE INDEX customer_external_profiles_customer_idx ON customer_external_profiles (customer_id);

CREATE TABLE tickets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    customer_id   bigint NOT NULL,
    subject       text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 250),
    status        text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    priority      text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    channel       text NOT NULL DEFAULT 'api' CHECK (channel IN ('api', 'email', 'web', 'chat')),
    team_id       bigint,
    assignee_id   bigint,
    tags          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    custom_fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
    version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id),
    -- a team or agent that tickets refer to cannot be deleted (the API answers 409 with the count)
    CONSTRAINT tickets_team_fkey FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE RESTRICT,
    CONSTRAINT tickets_assignee_fkey FOREIGN KEY (workspace_id, assignee_id) REFERENCES agents (workspace_id, id) ON DELETE RESTRICT
);
-- Keyset pagination: every list order ends in id, and each filter has an index that leads with
-- it, so a page deep in the list costs what the first one does.
CREATE INDEX tickets_workspace_created_idx ON tickets (workspace_id, created_at, id);
CREATE INDEX tickets_workspace_updated_idx ON tickets (workspace_id, updated_at, id);
CREATE INDEX tickets_workspace_status_idx ON tickets (workspace_id, status, created_at, id);
CREATE INDEX tickets_workspace_customer_idx ON tickets (workspace_id, customer_id, created_at, id);
CREATE INDEX tickets_workspace_team_idx ON tickets (workspace_id, team_id, created_at, id) WHERE team_id IS NOT NULL;
CREATE INDEX tickets_workspace_assignee_idx ON tickets (workspace_id, assignee_id, created_at, id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_tags_idx ON tickets USING gin (tags);

CREATE TABLE messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL,
    ticket_id    bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_type  text NOT NULL CHECK (author_type IN ('customer', 'agent', 'system')),
    author_id    bigint,
    internal     boolean NOT NULL DEFAULT false,
    body         text NOT NULL CHECK (char_length(body) <= 1000000), -- sanitized: escaping can grow 50,000 characters ~6x
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT internal OR author_type IN ('agent', 'system'))
);
CREATE INDEX messages_ticket_idx ON messages (ticket_id, id);

-- The audit log: one row per effective change (and per creation), never changed afterwards.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    object_type  text NOT NULL CHECK (object_type IN ('ticket', 'customer')),
    object_id    bigint NOT NULL,
    version      integer,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_type   text NOT NULL CHECK (actor_type IN ('api_key', 'automation', 'agent', 'system')),
    actor_id     bigint,
    source       text NOT NULL CHECK (source IN ('api', 'automation', 'agent', 'system')),
    request_id   text CHECK (char_length(request_id) <= 128),
    changes      jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'object'),
    rule_id      bigint
);
CREATE INDEX audit_log_object_idx ON audit_log (workspace_id, object_type, object_id, id);

-- Append-only for every role, the table's owner included: privileges alone would not stop the
-- owner, a trigger does (only dropping or disabling it, a visible schema change, could).
CREATE FUNCTION hdf_audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION hdf_audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION hdf_audit_log_is_append_only();

GRANT SELECT, INSERT, UPDATE ON customers, tickets TO hdf_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_external_profiles TO hdf_server;
GRANT SELECT, INSERT ON messages, audit_log TO hdf_server;

-- JSON the API returns, built where the rows are: one definition each, used by every statement
-- that answers with these objects (a ticket's composite view after create, read and update).
CREATE FUNCTION hdf_message_json(m messages) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT row_to_json(x) FROM (SELECT m.id, m.ticket_id, m.author_type, m.author_id, m.internal, m.body,
                                       hdf_ts(m.created_at) AS created_at) x
$$;

-- A ticket as the API shows it: hdf_ticket_row has its members once; hdf_ticket_json is the
-- composite view of CONTRACT.md (GET /v1/tickets/{id}) with msgs as its messages (internal notes
-- left out by the caller unless asked for), hdf_ticket_summary_json the list item (no messages).
-- SLA policies arrive with the automation issue: until then no ticket has a policy, hence nulls
-- and breached false.
CREATE FUNCTION hdf_ticket_row(t tickets, c customers)
RETURNS TABLE (id bigint, subject text, status text, priority text, channel text, customer json, tags text[],
               custom_fields jsonb, assignment json, sla json, version integer, created_at text, updated_at text)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.subject, t.status, t.priority, t.channel,
           (SELECT row_to_json(x) FROM (SELECT c.id, c.email, c.name, c.phone, c.tags, c.custom_fields) x),
           t.tags, t.custom_fields,
           (SELECT row_to_json(x) FROM (SELECT t.team_id, t.assignee_id) x),
           (SELECT row_to_json(x) FROM (SELECT NULL::bigint AS policy_id, NULL::text AS first_response_due_at,
                                               NULL::text AS resolution_due_at, false AS breached) x),
           t.version, hdf_ts(t.created_at), hdf_ts(t.updated_at)
$$;

CREATE FUNCTION hdf_ticket_json(t tickets, c customers, msgs json) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT row_to_json(v) FROM (SELECT r.*, coalesce(msgs, '[]'::json) AS messages FROM hdf_ticket_row(t, c) r) v
$$;

CREATE FUNCTION hdf_ticket_summary_json(t tickets, c customers) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT row_to_json(r) FROM hdf_ticket_row(t, c) r
$$;

-- A ticket's audited fields as JSON, and the {field: {from, to}} of what differs between two such
-- objects (before NULL: a creation, every field from null). The audit entries of creates and
-- updates are both computed by these two functions.
CREATE FUNCTION hdf_ticket_fields(t tickets) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('subject', t.subject, 'status', t.status, 'priority', t.priority, 'channel', t.channel,
                              'customer_id', t.customer_id, 'team_id', t.team_id, 'assignee_id', t.assignee_id,
                              'tags', to_jsonb(t.tags), 'custom_fields', t.custom_fields)
$$;

CREATE FUNCTION hdf_changes(before jsonb, after jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, jsonb_build_object('from', before -> k, 'to', after -> k)), '{}'::jsonb)
    FROM jsonb_object_keys(after) AS k
    WHERE before IS NULL OR before -> k IS DISTINCT FROM after -> k
$$;
