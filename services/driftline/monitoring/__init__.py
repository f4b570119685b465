"""Monitoring service: drift and performance windows, DriftDetected/DriftResolved."""
