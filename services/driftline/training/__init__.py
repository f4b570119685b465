"""Training service: reproducible training runs as durable jobs."""
