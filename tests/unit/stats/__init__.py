"""Unit tests of the pure statistics package."""
