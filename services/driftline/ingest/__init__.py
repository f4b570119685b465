"""Ingest service: the dataset catalog behind DataArrived."""
