"""Driftline: an event-driven MLOps platform (services, shared runtime, CLI)."""

__version__ = "0.1.0"
