"""Rollout: approvals, canary steps judged and decided, promotion and rollback."""
