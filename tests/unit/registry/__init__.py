"""Registry unit tests."""
