"""The audit log for the bureau: a filtered, scoped, paginated list and its Excel export (read only)."""
