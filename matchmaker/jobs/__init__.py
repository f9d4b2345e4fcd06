"""Periodic background jobs: a registry, claims in the database, an embedded loop and an RQ queue."""
