"""Shared service runtime: settings, broker, outbox/inbox, storage, HTTP health and metrics."""
