"""Tests of the whole-site backup and restore."""
