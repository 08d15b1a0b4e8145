"""Matplotlib integration for igogo (live figures drawn from background jobs)."""

__all__: list[str] = []
