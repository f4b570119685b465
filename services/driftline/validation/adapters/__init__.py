"""Adapters of the validation service: object loading, PostgreSQL tables, reports."""
