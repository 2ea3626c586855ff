"""Delivery plumbing shared by the services: outbox, relay, idempotent consumers, DLQ, migrations, metrics, auth."""
