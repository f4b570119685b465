"""Monitoring adapters: PostgreSQL state, reports and batches in the object store."""
