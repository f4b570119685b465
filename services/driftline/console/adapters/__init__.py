"""The console's adapters: its PostgreSQL read model and the other services' HTTP APIs."""
