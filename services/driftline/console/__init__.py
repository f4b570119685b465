"""The Driftline console: web pages over a read model built from the audit stream."""
