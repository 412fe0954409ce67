-- A counter bumped by every registry save, in the save's transaction: workers reload
-- the registry (100,000 usages take seconds and hundreds of MB) only when it changed.
CREATE TABLE registry_revision (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    revision   bigint NOT NULL,
    saved_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO registry_revision (revision) VALUES (0);
