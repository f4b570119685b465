"""Batch and stream scoring through the serving path."""
