-- 0003_idempotency: Idempotency-Key records (CONTRACT.md, Idempotency). A key is claimed as the
-- first write of the request's transaction (state in_flight, visible to no one else: concurrent
-- claims wait on it) and completed with the stored response before COMMIT, so a response is
-- stored exactly when its effects are committed and a failed request leaves no trace. Keys live
-- 24 hours; the server purges expired rows.

CREATE TABLE idempotency_keys (
    workspace_id     bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    idem_key         text NOT NULL CHECK (octet_length(idem_key) BETWEEN 1 AND 255),
    request_hash     bytea NOT NULL CHECK (length(request_hash) = 32),
    claim_token      text NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status  integer,
    response_headers jsonb,
    response_body    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, idem_key),
    CHECK (state = 'in_flight' OR response_status IS NOT NULL)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO hdf_server;
