"""The version, in one place (pyproject.toml reads it; generated code and caches record it)."""
__version__ = "0.2.0.dev0"
