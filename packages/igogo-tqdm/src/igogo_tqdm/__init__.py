"""tqdm integration for igogo (progress bars that stay in the starting cell)."""

__all__: list[str] = []
