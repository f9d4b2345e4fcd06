"""Tests of technical-transformation projects and the bureau ledger."""
