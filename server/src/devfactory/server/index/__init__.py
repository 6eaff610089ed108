"""The workspace index: discovery, chunking, lexical and semantic search, freshness.

:class:`devfactory.server.index.service.IndexService` is the entry point; the index feature
(``features/index.py``) owns it. (Nothing is imported here, so the parts stay importable on
their own, e.g. by worker processes and the project map.)
"""
