"""Audit sink: the append-only, hash-chained record of every event."""
