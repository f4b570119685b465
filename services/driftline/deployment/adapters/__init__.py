"""Adapters of the deployment service: PostgreSQL tables, the model cache, the batch writer."""
