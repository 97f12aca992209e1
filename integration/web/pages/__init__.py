"""The pages: a room of its own (blueprint, templates, static files), reading through `query` and `detail`."""

from .views import pages

__all__ = ["pages"]
