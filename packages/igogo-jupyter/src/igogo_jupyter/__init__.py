"""Jupyter integration for igogo (output routing, widgets, kernel hooks)."""

__all__: list[str] = []
