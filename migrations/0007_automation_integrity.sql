-- 0007: integrity of automation rules (found by review after 0006 landed).
--
-- 1. What a rule refers to is held by foreign keys, not only checked: a rule written while the
--    team, agent or custom field it names is being deleted can no longer slip between the
--    delete's check and its commit (each statement read its own snapshot). The link rows are
--    kept by a trigger from the rule's team_ids, agent_ids and custom field keys; the delete
--    statements still answer 409 naming the rules first, the keys are the backstop for races.
-- 2. Custom fields a rule only sets (set_custom_field) count as referred to (0006 listed only
--    those read in conditions): existing rules are backfilled.
-- 3. At most 200 rules per workspace: every create evaluates them all on the event loop.
-- 4. breached: a first response target is met by resolving the ticket in time too.

UPDATE automation_rules r SET ticket_field_keys = ARRAY(
    SELECT DISTINCT k FROM (SELECT unnest(r.ticket_field_keys) AS k
                            UNION SELECT a->>'field' FROM jsonb_array_elements(r.actions) a
                            WHERE a->>'type' = 'set_custom_field' AND a->>'field' IS NOT NULL) x ORDER BY k);

CREATE TABLE automation_rule_teams (
    rule_id      bigint NOT NULL REFERENCES automation_rules (id) ON DELETE CASCADE,
    workspace_id bigint NOT NULL,
    team_id      bigint NOT NULL,
    PRIMARY KEY (rule_id, team_id),
    CONSTRAINT automation_rule_teams_team_fkey FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id)
);
CREATE INDEX automation_rule_teams_team_idx ON automation_rule_teams (workspace_id, team_id);

CREATE TABLE automation_rule_agents (
    rule_id      bigint NOT NULL REFERENCES automation_rules (id) ON DELETE CASCADE,
    workspace_id bigint NOT NULL,
    agent_id     bigint NOT NULL,
    PRIMARY KEY (rule_id, agent_id),
    CONSTRAINT automation_rule_agents_agent_fkey FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id)
);
CREATE INDEX automation_rule_agents_agent_idx ON automation_rule_agents (workspace_id, agent_id);

CREATE TABLE automation_rule_fields (
    rule_id      bigint NOT NULL REFERENCES automation_rules (id) ON DELETE CASCADE,
    workspace_id bigint NOT NULL,
    object       text NOT NULL,
    key          text NOT NULL,
    PRIMARY KEY (rule_id, object, key),
    CONSTRAINT automation_rule_fields_field_fkey FOREIGN KEY (workspace_id, object, key)
        REFERENCES custom_fields (workspace_id, object, key)
);
CREATE INDEX automation_rule_fields_field_idx ON automation_rule_fields (workspace_id, object, key);

CREATE FUNCTION hdf_automation_links() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM automation_rule_teams WHERE rule_id = NEW.id;
    DELETE FROM automation_rule_agents WHERE rule_id = NEW.id;
    DELETE FROM automation_rule_fields WHERE rule_id = NEW.id;
    INSERT INTO automation_rule_teams (rule_id, workspace_id, team_id)
        SELECT DISTINCT NEW.id, NEW.workspace_id, t FROM unnest(NEW.team_ids) t;
    INSERT INTO automation_rule_agents (rule_id, workspace_id, agent_id)
        SELECT DISTINCT NEW.id, NEW.workspace_id, a FROM unnest(NEW.agent_ids) a;
    INSERT INTO automation_rule_fields (rule_id, workspace_id, object, key)
        SELECT DISTINCT NEW.id, NEW.workspace_id, 'ticket', k FROM unnest(NEW.ticket_field_keys) k
        UNION SELECT DISTINCT NEW.id, NEW.workspace_id, 'customer', k FROM unnest(NEW.customer_field_keys) k;
    RETURN NULL;
END
$$;
CREATE TRIGGER automation_rules_links AFTER INSERT OR UPDATE OF team_ids, agent_ids, ticket_field_keys, customer_field_keys
    ON automation_rules FOR EACH ROW EXECUTE FUNCTION hdf_automation_links();

INSERT INTO automation_rule_teams (rule_id, workspace_id, team_id)
    SELECT DISTINCT r.id, r.workspace_id, t FROM automation_rules r, unnest(r.team_ids) t
    WHERE EXISTS (SELECT 1 FROM teams WHERE workspace_id = r.workspace_id AND id = t);
INSERT INTO automation_rule_agents (rule_id, workspace_id, agent_id)
    SELECT DISTINCT r.id, r.workspace_id, a FROM automation_rules r, unnest(r.agent_ids) a
    WHERE EXISTS (SELECT 1 FROM agents WHERE workspace_id = r.workspace_id AND id = a);
INSERT INTO automation_rule_fields (rule_id, workspace_id, object, key)
    SELECT DISTINCT r.id, r.workspace_id, o.object, o.key
    FROM automation_rules r,
         LATERAL (SELECT 'ticket' AS object, k AS key FROM unnest(r.ticket_field_keys) k
                  UNION SELECT 'customer', k FROM unnest(r.customer_field_keys) k) o
    WHERE EXISTS (SELECT 1 FROM custom_fields f WHERE f.workspace_id = r.workspace_id AND f.object = o.object AND f.key = o.key);

-- The cap, under a transaction lock per workspace so two concurrent creates cannot both pass it.
-- SQLSTATE HD001 with the constraint's name: db/sqlstate.c answers 409 saying so.
CREATE FUNCTION hdf_automation_cap() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('hdf_automation_rules:' || NEW.workspace_id, 0));
    IF (SELECT count(*) FROM automation_rules WHERE workspace_id = NEW.workspace_id) >= 200 THEN
        RAISE EXCEPTION 'a workspace has at most 200 automation rules'
            USING ERRCODE = 'HD001', CONSTRAINT = 'automation_rules_per_workspace';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER automation_rules_cap BEFORE INSERT ON automation_rules FOR EACH ROW EXECUTE FUNCTION hdf_automation_cap();

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
                                               coalesce(coalesce(t.first_response_at, t.resolved_at, now()) > t.first_response_due_at
                                                        OR coalesce(t.resolved_at, now()) > t.resolution_due_at, false)
                                               AS breached) x),
           t.version, hdf_ts(t.created_at), hdf_ts(t.updated_at)
$$;

GRANT SELECT, INSERT, DELETE ON automation_rule_teams, automation_rule_agents, automation_rule_fields TO hdf_server;
