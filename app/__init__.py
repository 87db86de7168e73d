"""Painel: multi-tenant dashboards backend."""
