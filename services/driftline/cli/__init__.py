"""The ``driftline`` command line."""
