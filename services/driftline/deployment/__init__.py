"""Deployment service: serving, canaries judged statistically, rollback."""
