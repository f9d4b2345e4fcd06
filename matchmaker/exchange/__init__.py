"""Bulk exchange: outcomes reported upward (JSON Lines, the provincial workbook) and banks' reports imported."""
