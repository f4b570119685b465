"""Unit tests of the validation service."""
