"""Model registry: specs, versions, quality gates, approval and lineage."""
