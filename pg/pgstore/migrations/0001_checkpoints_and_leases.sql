-- Checkpoints: data is the checkpoint's JSON without its key secret, which
-- is key_secret (64 hex characters; NULL before the activation has one), so
-- that access to it can be granted apart (column privileges); the other
-- columns are derived from the checkpoint on every save, for optimistic
-- concurrency (revision) and for the filters of List.
CREATE TABLE truewatch_checkpoints (
    activation_id     text        PRIMARY KEY,
    revision          bigint      NOT NULL CHECK (revision > 0),
    huawei_account_id text        NOT NULL,
    completed         boolean     NOT NULL,
    failed            boolean     NOT NULL,
    data              jsonb       NOT NULL,
    key_secret        text        CHECK (key_secret ~ '^[0-9a-f]{64}$'),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX truewatch_checkpoints_tenant ON truewatch_checkpoints (huawei_account_id, activation_id);
CREATE INDEX truewatch_checkpoints_incomplete ON truewatch_checkpoints (activation_id) WHERE NOT completed;

-- Leases: at most one row per activation; an expired row is taken over by
-- the next claim. Times are the database server's clock.
CREATE TABLE truewatch_leases (
    activation_id text        PRIMARY KEY,
    owner         text        NOT NULL,
    token         text        NOT NULL,
    expires_at    timestamptz NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now()
);
