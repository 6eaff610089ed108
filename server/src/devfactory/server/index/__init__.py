"""The workspace index: discovery, chunking, lexical and semantic search, freshness.

:class:`IndexService` is the entry point; the index feature (``features/index.py``) owns it.
"""

from .service import IndexService

__all__ = ["IndexService"]
