"""Adapters of the ingest service."""
