"""The two-level bureau console: figures, drill-downs and the monthly report."""
