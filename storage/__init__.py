"""Storage of the pipeline in PostgreSQL (TimescaleDB when available), with explicit SQL.

- `storage.migrate`: the numbered schema migrations and the runner that applies them.
- `storage.registry_store`: the asset registry, saved from a registry file and loaded
  back by the stream for its device -> usage mapping.
- `storage.writer`: batched, idempotent writers of readings and detection events, which
  tell a replay after a restart (silent) from a reading really sent twice (dead-lettered).
- `storage.queries`: small read queries for the CLI.

This package depends on `models` only.
"""
