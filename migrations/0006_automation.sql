-- 0006_automation: SLA policies and automation rules (CONTRACT.md, Admin resources;
-- docs/automation.md). Tickets get their SLA due times from the policy of their priority, set by a
-- trigger on insert and whenever the priority changes, so every statement that writes tickets
-- (create, PATCH, merges) keeps them right without knowing about SLAs. Rules are stored per
-- workspace with the ids and keys they refer to; any change to a workspace's rules bumps its rules
-- version, which the servers' per-thread caches are checked against.

-- One policy per priority per workspace.
CREATE TABLE sla_policies (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id           bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                   text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    priority               text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    first_response_minutes integer NOT NULL CHECK (first_response_minutes BETWEEN 1 AND 525600),
    resolution_minutes     integer NOT NULL CHECK (resolution_minutes BETWEEN 1 AND 525600),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sla_policies_workspace_id_key UNIQUE (workspace_id, id),
    CONSTRAINT sla_policies_workspace_priority_key UNIQUE (workspace_id, priority)
);

-- A ticket's SLA: the policy it was measured against and its due times (kept when the policy is
-- edited or deleted: a promise made to the customer does not move), and when the targets were met:
-- first_response_at by the first public agent message, resolved_at while solved or closed.
ALTER TABLE tickets
    ADD COLUMN sla_policy_id bigint,
    ADD COLUMN first_response_due_at timestamptz,
    ADD COLUMN resolution_due_at timestamptz,
    ADD COLUMN first_response_at timestamptz,
    ADD COLUMN resolved_at timestamptz,
    ADD CONSTRAINT tickets_sla_policy_fkey FOREIGN KEY (workspace_id, sla_policy_id)
        REFERENCES sla_policies (workspace_id, id) ON DELETE SET NULL (sla_policy_id);

CREATE FUNCTION hdf_ticket_sla() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    p sla_policies;
BEGIN
    IF TG_OP = 'INSERT' OR NEW.priority IS DISTINCT FROM OLD.priority THEN
        SELECT * INTO p FROM sla_policies WHERE workspace_id = NEW.workspace_id AND priority = NEW.priority;
        NEW.sla_policy_id := p.id;
        NEW.first_response_due_at := NEW.created_at + make_interval(mins => p.first_response_minutes);
        NEW.resolution_due_at := NEW.created_at + make_interval(mins => p.resolution_minutes);
    END IF;
    IF NEW.status IN ('solved', 'closed') THEN
        NEW.resolved_at := CASE WHEN TG_OP = 'UPDATE' THEN coalesce(OLD.resolved_at, now()) ELSE now() END;
    ELSE
        NEW.resolved_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tickets_sla BEFORE INSERT OR UPDATE OF priority, status ON tickets
    FOR EACH ROW EXECUTE FUNCTION hdf_ticket_sla();

CREATE FUNCTION hdf_ticket_first_response() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets SET first_response_at = NEW.created_at WHERE id = NEW.ticket_id AND first_response_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_first_response AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.author_type = 'agent' AND NOT NEW.internal) EXECUTE FUNCTION hdf_ticket_first_response();

-- The composite view's sla member, now real (same signature and columns as 0004's placeholder).
-- breached: a target missed, whether still open or met late.
CREATE OR REPLACE FUNCTION hdf_ticket_row(t tickets, c customers)
RETURNS TABLE (id bigint, subject text, status text, priority text, channel text, customer json, tags text[],
               custom_fields jsonb, assignment json, sla json, version integer, created_at text, updated_at text)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.subject, t.status, t.priority, t.channel,
           (SELECT row_to_json(x) FROM (SELECT c.id, c.email, c.name, c.phone, c.tags, c.custom_fields) x),
           t.tags, t.custom_fields,
           (SELECT row_to_json(x) FROM (SELECT t.team_id, t.assignee_id) x),
           (SELECT row_to_json(x) FROM (SELECT t.sla_policy_id AS policy_id,
                                               hdf_ts(t.first_response_due_at) AS first_response_due_at,
                                               hdf_ts(t.resolution_due_at) AS resolution_due_at,
                                               coalesce(coalesce(t.first_response_at, now()) > t.first_response_due_at
                                                        OR coalesce(t.resolved_at, now()) > t.resolution_due_at, false)
                                               AS breached) x),
           t.version, hdf_ts(t.created_at), hdf_ts(t.updated_at)
$$;

-- Automation rules. The definition members are stored as given (validated in C on write:
-- automation/rule_parse.c); team_ids, agent_ids and the custom field keys are what the rule refers
-- to, so deleting one of those is refused naming the rules (statements.c, *_DELETE).
CREATE TABLE automation_rules (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    position            integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 1000000),
    enabled             boolean NOT NULL DEFAULT true,
    events              text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 3),
    conditions          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(conditions) = 'object'),
    actions             jsonb NOT NULL CHECK (jsonb_typeof(actions) = 'array'),
    team_ids            bigint[] NOT NULL DEFAULT '{}',
    agent_ids           bigint[] NOT NULL DEFAULT '{}',
    ticket_field_keys   text[] NOT NULL DEFAULT '{}',
    customer_field_keys text[] NOT NULL DEFAULT '{}',
    revision            integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX automation_rules_workspace_idx ON automation_rules (workspace_id, id);

-- The rules version per workspace (0 when it never had rules): bumped in the transaction of
-- every change to its rules, so a statement can compare it with the version a cache holds.
CREATE TABLE automation_versions (
    workspace_id bigint PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    version      bigint NOT NULL
);

CREATE FUNCTION hdf_automation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO automation_versions AS v (workspace_id, version)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.workspace_id ELSE NEW.workspace_id END, 1)
    ON CONFLICT (workspace_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER automation_rules_bump AFTER INSERT OR UPDATE OR DELETE ON automation_rules
    FOR EACH ROW EXECUTE FUNCTION hdf_automation_bump();

-- The current rules version of a workspace.
CREATE FUNCTION hdf_rules_version(ws bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT v.version FROM automation_versions v WHERE v.workspace_id = ws), 0)
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON sla_policies, automation_rules TO hdf_server;
GRANT SELECT, INSERT, UPDATE ON automation_versions TO hdf_server;
