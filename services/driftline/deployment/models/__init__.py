"""Loaded models: safe loading, the in-process cache, running a model on rows."""
