"""Ingestion: readers (csv, xlsx, sheets, sql) -> staging -> transform -> curated facts; one pipeline."""
