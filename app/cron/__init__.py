"""Scheduled work: the APScheduler setup and thin job functions that call services."""
