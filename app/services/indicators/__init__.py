"""Indicators: the ready-made catalog (computed in SQL), custom SELECT indicators, freshness."""
