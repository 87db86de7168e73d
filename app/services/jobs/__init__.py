"""Jobs: runs of data sources, which recurring sources are due, and the per-source run lock."""
