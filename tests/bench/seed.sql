-- seed.sql: the benchmark's data set, loaded by tests/bench/run.sh with set-based SQL (no HTTP):
-- 5 teams, 20 agents, 6 custom field definitions, 10,000 customers, 100,000 tickets with 1 to 3
-- messages each (about 200,000), and the creation audit entry of every ticket and customer, as the
-- API itself would have written them. Sizes, mixes and times aim at a plausible helpdesk: most
-- tickets closed or solved, a year of history in id order, HTML bodies of a few hundred bytes to
-- about 2 KB. Deterministic (setseed) so runs compare.
--
-- psql variables: ws (workspace id), key (the API key id that "created" everything), part:
--   base      teams, agents, custom field definitions, customers (and their audit entries);
--   tickets   tickets lo..hi (ids given, in creation order), their messages and audit entries;
--             run.sh runs two ranges side by side, one per core;
--   finish    moves the tickets' id sequence past the ids given, checks the audit entries.
-- Every row goes through the schema's constraints and triggers. Customers are
-- customer1@example.com .. customer10000@example.com (the create scenario reuses them). Per-row
-- work is kept to picking from small precomputed sets (bodies, tag sets), since 300,000 rows of
-- per-row subqueries cost more than the inserts.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SELECT :'part' = 'base' AS part_base, :'part' = 'tickets' AS part_tickets, :'part' = 'finish' AS part_finish \gset
\if :part_base
SELECT setseed(0.42);

INSERT INTO teams (workspace_id, name, description)
SELECT :ws, n, n || ' questions' FROM unnest(ARRAY['Billing', 'Shipping', 'Technical', 'Accounts', 'Returns']) n;

INSERT INTO agents (workspace_id, name, email)
SELECT :ws, 'Agent ' || i, 'agent' || i || '@support.example.com' FROM generate_series(1, 20) i;

INSERT INTO agent_teams (agent_id, team_id)
SELECT a.id, t.id
FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM agents WHERE workspace_id = :ws) a
JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM teams WHERE workspace_id = :ws) t ON t.k = (a.k - 1) % 5 + 1;

INSERT INTO custom_fields (workspace_id, object, key, type, options) VALUES
    (:ws, 'ticket', 'order_id', 'text', NULL),
    (:ws, 'ticket', 'refund_amount', 'number', NULL),
    (:ws, 'ticket', 'plan', 'enum', '{free,pro,enterprise}'),
    (:ws, 'ticket', 'vip', 'boolean', NULL),
    (:ws, 'ticket', 'due_date', 'date', NULL),
    (:ws, 'customer', 'account_tier', 'enum', '{bronze,silver,gold}');

-- customers: created over the last two years, in id order
INSERT INTO customers (workspace_id, email, name, phone, tags, custom_fields, created_at, updated_at)
SELECT :ws, 'customer' || i || '@example.com', f.first || ' ' || f.last,
       CASE WHEN random() < 0.4 THEN '+1 555 ' || lpad((i % 10000)::text, 4, '0') END,
       CASE WHEN random() < 0.2 THEN ARRAY['vip'] WHEN random() < 0.3 THEN ARRAY['newsletter', 'eu'] ELSE '{}' END,
       jsonb_build_object('account_tier', (ARRAY['bronze', 'silver', 'gold'])[1 + (random() * 2.99)::int % 3]),
       c.at, c.at
FROM generate_series(1, 10000) i,
     LATERAL (SELECT (ARRAY['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger',
                            'Radia', 'Niklaus', 'Sophie', 'Tim', 'Hedy', 'Guido'])[1 + (i * 7 + (random() * 3)::int) % 16] AS first,
                     (ARRAY['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen',
                            'Dijkstra', 'Perlman', 'Wirth', 'Wilson', 'Berners-Lee', 'Lamarr', 'van Rossum'])[1 + (i * 13) % 16]
                         AS last) f,
     LATERAL (SELECT now() - interval '730 days' + i * interval '105 minutes' + random() * interval '1 hour' AS at) c;

-- their creation audit entries, as HDF_STMT_TICKET_CREATE writes them
INSERT INTO audit_log (workspace_id, object_type, object_id, version, occurred_at, actor_type, actor_id, source, changes)
SELECT :ws, 'customer', c.id, 1, c.created_at, 'api_key', :key, 'api',
       jsonb_build_object('email', jsonb_build_object('from', NULL, 'to', c.email), 'name', jsonb_build_object('from', NULL, 'to', c.name),
                          'tags', jsonb_build_object('from', NULL, 'to', to_jsonb(c.tags)),
                          'custom_fields', jsonb_build_object('from', NULL, 'to', c.custom_fields))
FROM customers c WHERE c.workspace_id = :ws ORDER BY c.id;

\endif

\if :part_tickets
SELECT setseed(:lo / 1000000.0);
SELECT min(id) AS team0, count(*) AS nteams FROM teams WHERE workspace_id = :ws \gset
SELECT min(id) AS agent0, count(*) AS nagents FROM agents WHERE workspace_id = :ws \gset
SELECT min(id) AS cust0, count(*) AS ncust FROM customers WHERE workspace_id = :ws \gset

CREATE TEMP TABLE tag_sets AS
SELECT k, ARRAY(SELECT DISTINCT (ARRAY['billing', 'shipping', 'refund', 'login', 'bug', 'feature-request', 'vip', 'eu', 'us',
                                       'mobile', 'web', 'invoice', 'returns', 'urgent-review', 'churn-risk', 'onboarding'])
                                      [1 + (k * 7 + j * 5) % 16]
                FROM generate_series(1, k % 4) j) AS tags
FROM generate_series(0, 63) k;

-- tickets: a year of history, ids in creation order; one version each (the creation)
INSERT INTO tickets (id, workspace_id, customer_id, subject, status, priority, channel, team_id, assignee_id, tags,
                     custom_fields, created_at, updated_at) OVERRIDING SYSTEM VALUE
SELECT i, :ws, :cust0 + (r.c * :ncust)::int % :ncust,
       (ARRAY['Order #' || (200000 + i) || ' has not arrived',
              'Refund request for invoice INV-' || (50000 + i % 40000),
              'Cannot log in to my account',
              'Question about my subscription renewal',
              'Damaged item received in order #' || (200000 + i),
              'Please change the delivery address',
              'Payment failed with card ending ' || lpad((i % 10000)::text, 4, '0'),
              'Feature request: export my invoices as CSV',
              'Wrong size shipped, need an exchange',
              'Two-factor code never arrives'])[1 + (r.s * 10)::int % 10],
       CASE WHEN r.st < 0.40 THEN 'closed' WHEN r.st < 0.60 THEN 'solved' WHEN r.st < 0.75 THEN 'open'
            WHEN r.st < 0.85 THEN 'pending' WHEN r.st < 0.95 THEN 'new' ELSE 'on_hold' END,
       CASE WHEN r.pr < 0.20 THEN 'low' WHEN r.pr < 0.75 THEN 'normal' WHEN r.pr < 0.95 THEN 'high' ELSE 'urgent' END,
       CASE WHEN r.ch < 0.50 THEN 'email' WHEN r.ch < 0.75 THEN 'web' WHEN r.ch < 0.90 THEN 'api' ELSE 'chat' END,
       CASE WHEN r.tm < 0.7 THEN :team0 + (r.tm * 1000)::int % :nteams END,
       CASE WHEN r.tm < 0.6 THEN :agent0 + (r.tm * 1000)::int % :nagents END,
       ts.tags,
       jsonb_strip_nulls(jsonb_build_object(
           'order_id', CASE WHEN r.cf < 0.6 THEN 'ORD-' || (200000 + i) END,
           'plan', CASE WHEN r.cf < 0.8 THEN (ARRAY['free', 'pro', 'enterprise'])[1 + (r.cf * 100)::int % 3] END,
           'refund_amount', CASE WHEN r.cf < 0.1 THEN round((r.cf * 2000)::numeric, 2) END,
           'vip', CASE WHEN r.cf > 0.95 THEN true END,
           'due_date', CASE WHEN r.cf BETWEEN 0.3 AND 0.5 THEN to_char(now() + (i % 60) * interval '1 day', 'YYYY-MM-DD') END)),
       r.at, least(now(), r.at + r.up * interval '7 days')
FROM generate_series(:lo, :hi) i,
     LATERAL (SELECT random() AS c, random() AS s, random() AS st, random() AS pr, random() AS ch, random() AS tm,
                     random() AS tg, random() AS cf, random() AS up,
                     now() - interval '365 days' + i * interval '315 seconds' + random() * interval '60 seconds' AS at
              WHERE i > 0) r,
     -- 0 to 3 tags from 64 precomputed sets
     LATERAL (SELECT tags FROM tag_sets WHERE k = (r.tg * 64)::int % 64) ts;

-- messages: 1 to 3 per ticket, the first from the customer, replies from the assignee (some
-- replies are internal notes); sanitized-looking HTML of about 150 bytes to 2 KB, from 64 bodies
CREATE TEMP TABLE bodies AS
SELECT k, '<p>Hello,</p><p>' ||
          (SELECT string_agg((ARRAY['I placed an order last week and the tracking page has not changed since Tuesday.',
                                    'Could you please check what is going on and let me know when I can expect it?',
                                    'I have attached a screenshot of the error message that appears after I press <b>Pay</b>.',
                                    'We have checked with the carrier and the parcel is on its way to the depot.',
                                    'Thanks for your patience; I have escalated this to our billing team.',
                                    'See <a href="https://help.example.com/articles/42" rel="noopener noreferrer nofollow">this article</a> for the steps.'])
                             [1 + (j * 7 + k) % 6], ' ')
           FROM generate_series(1, 1 + k % 24) j) ||
          '</p><p>Best regards,<br>' || CASE WHEN k % 2 = 1 THEN 'Support' ELSE 'Customer' END || '</p>' AS body
FROM generate_series(0, 63) k;

INSERT INTO messages (workspace_id, ticket_id, author_type, author_id, internal, body, created_at)
SELECT t.workspace_id, t.id,
       CASE WHEN m.k = 2 THEN 'agent' ELSE 'customer' END,
       CASE WHEN m.k = 2 THEN coalesce(t.assignee_id, (SELECT min(id) FROM agents WHERE workspace_id = :ws)) ELSE t.customer_id END,
       m.k = 2 AND t.id % 20 = 0,
       b.body,
       least(now(), t.created_at + (m.k - 1) * interval '3 hours')
FROM tickets t
CROSS JOIN LATERAL generate_series(1, 1 + (t.id::int * 7919) % 3) m(k)
JOIN bodies b ON b.k = ((t.id::int * 31 + m.k * 17) % 32) * 2 + (m.k = 2)::int
WHERE t.workspace_id = :ws AND t.id BETWEEN :lo AND :hi
ORDER BY t.id, m.k;

-- their creation audit entries, changes spelled out: what hdf_changes(NULL, hdf_ticket_fields(t))
-- returns (checked below, in finish), at a quarter of the cost
INSERT INTO audit_log (workspace_id, object_type, object_id, version, occurred_at, actor_type, actor_id, source, changes)
SELECT :ws, 'ticket', t.id, 1, t.created_at, 'api_key', :key, 'api',
       jsonb_build_object('subject', jsonb_build_object('from', NULL, 'to', t.subject),
                          'status', jsonb_build_object('from', NULL, 'to', t.status),
                          'priority', jsonb_build_object('from', NULL, 'to', t.priority),
                          'channel', jsonb_build_object('from', NULL, 'to', t.channel),
                          'customer_id', jsonb_build_object('from', NULL, 'to', t.customer_id),
                          'team_id', jsonb_build_object('from', NULL, 'to', t.team_id),
                          'assignee_id', jsonb_build_object('from', NULL, 'to', t.assignee_id),
                          'tags', jsonb_build_object('from', NULL, 'to', to_jsonb(t.tags)),
                          'custom_fields', jsonb_build_object('from', NULL, 'to', t.custom_fields))
FROM tickets t WHERE t.workspace_id = :ws AND t.id BETWEEN :lo AND :hi ORDER BY t.id;
\endif

\if :part_finish
SELECT setval(pg_get_serial_sequence('tickets', 'id'), max(id)) FROM tickets;
-- the spelled-out form must stay what the function computes: checked on a sample
SELECT count(*) = 0 AS audit_ok FROM (SELECT * FROM tickets WHERE workspace_id = :ws ORDER BY id LIMIT 1000) t
JOIN audit_log a ON a.workspace_id = t.workspace_id AND a.object_type = 'ticket' AND a.object_id = t.id
WHERE a.changes IS DISTINCT FROM hdf_changes(NULL, hdf_ticket_fields(t)) \gset
\if :audit_ok
\else
\warn 'seed.sql: the seeded ticket audit entries differ from hdf_changes(NULL, hdf_ticket_fields(t)): update seed.sql'
SELECT 1 / 0;
\endif
\endif
