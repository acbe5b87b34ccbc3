-- 0002_directory: the admin resources tickets refer to: teams, agents (and their team
-- memberships) and custom field definitions. The CHECK constraints mirror the API's validation
-- (server/src/handlers/admin_*.c, server/src/model/), so nothing the API refuses can be stored by
-- another path either. Unique constraint names are mapped to 409 details in
-- server/src/db/sqlstate.c: rename one there too.

CREATE TABLE teams (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description  text CHECK (char_length(description) <= 1000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Names are unique per workspace regardless of case ("Billing" and "billing" are one team).
CREATE UNIQUE INDEX teams_workspace_name_key ON teams (workspace_id, lower(name));
-- Keyset pagination by (workspace_id, id), and the target of tickets' (workspace_id, team_id)
-- foreign key, which keeps a ticket's team inside its workspace.
ALTER TABLE teams ADD CONSTRAINT teams_workspace_id_key UNIQUE (workspace_id, id);

-- Emails are stored normalised (trimmed, ASCII letters lower-cased: server/src/model/email.c);
-- the check repeats the shape the server enforces, in bytes as RFC 5321 counts them.
CREATE TABLE agents (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    email        text NOT NULL CHECK (octet_length(email) <= 254 AND email !~ '[A-Z\x01-\x20\x7f]'
                                      AND email ~ '^[^@]+@[^@.]+(\.[^@.]+)+$'),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agents_workspace_email_key UNIQUE (workspace_id, email)
);
-- Keyset pagination, and the target of tickets' (workspace_id, assignee_id) foreign key.
ALTER TABLE agents ADD CONSTRAINT agents_workspace_id_key UNIQUE (workspace_id, id);

-- Membership. Deleting an agent or a team removes its memberships; whether a team or agent may
-- be deleted at all (tickets referring to it) is decided by the tickets table's own foreign keys.
-- The API checks that both sides belong to the same workspace.
CREATE TABLE agent_teams (
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    team_id  bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, team_id)
);
CREATE INDEX agent_teams_team_idx ON agent_teams (team_id, agent_id);

-- Enum options: 1 to 100 distinct strings of 1 to 100 characters, in the order given.
CREATE FUNCTION hdf_custom_field_options_ok(options text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_ndims(options) = 1 AND cardinality(options) BETWEEN 1 AND 100
       AND array_position(options, NULL) IS NULL
       AND (SELECT bool_and(char_length(o) BETWEEN 1 AND 100) AND count(DISTINCT o) = count(*) FROM unnest(options) o)
$$;

CREATE TABLE custom_fields (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    object       text NOT NULL CHECK (object IN ('ticket', 'customer')),
    key          text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
    type         text NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'date', 'enum')),
    options      text[] CHECK (CASE WHEN type = 'enum' THEN options IS NOT NULL AND hdf_custom_field_options_ok(options)
                                    ELSE options IS NULL END),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT custom_fields_workspace_object_key_key UNIQUE (workspace_id, object, key)
);
CREATE INDEX custom_fields_workspace_idx ON custom_fields (workspace_id, id);

-- What the server may do: manage these rows, but never change a custom field's object, key or
-- type (the API refuses it as `immutable`; the column privileges make sure of it).
GRANT SELECT, INSERT, DELETE ON teams, agents, agent_teams, custom_fields TO hdf_server;
GRANT UPDATE (name, description, updated_at) ON teams TO hdf_server;
GRANT UPDATE (name, email, active, updated_at) ON agents TO hdf_server;
GRANT UPDATE (options, updated_at) ON custom_fields TO hdf_server;
