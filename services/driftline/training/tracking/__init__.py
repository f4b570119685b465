"""Experiment tracking: runs logged from notebooks and MLflow clients, beside training's own."""
