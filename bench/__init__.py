"""Benchmarks, run by hand (``make bench`` or ``uv run python -m bench [NAME...]``).

Each module ``bench/<name>.py`` with a ``main()`` is one benchmark; figures go to
``docs/benchmarks.md``. Never timed assertions in tests: numbers live here.
"""
