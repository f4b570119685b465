"""Registry adapters: PostgreSQL tables and stores."""
