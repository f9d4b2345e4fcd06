"""Tests of the search layer: analysis, queries, documents, both backends, the outbox and the commands."""
