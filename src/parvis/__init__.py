"""Parvis: a public square on the fediverse."""

__version__ = "0.1.0"
