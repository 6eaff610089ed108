"""Framework detectors behind one registry: each looks for its framework's real markers and
reports the routes, controllers, models, migrations, services and config it found.

Add a detector by writing a class with ``name`` and ``detect(view)`` and listing it here.
"""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.project import FrameworkInfo

from .base import Detector, WorkspaceView
from .javascript import ExpressDetector, NextDetector
from .laravel import LaravelDetector
from .packages import NodePackageDetector, PythonPackageDetector, SwiftDetector
from .python_web import DjangoDetector, PythonWebDetector

DETECTORS: list[Detector] = [
    LaravelDetector(),
    DjangoDetector(),
    PythonWebDetector("fastapi", "FastAPI"),
    PythonWebDetector("flask", "Flask"),
    NextDetector(),
    ExpressDetector(),
    SwiftDetector(),
    PythonPackageDetector(),
    NodePackageDetector(),
]


def detect_frameworks(root: Path, files: list[str]) -> list[FrameworkInfo]:
    """Every framework found, most certain first (ties by name): deterministic."""
    view = WorkspaceView(root, files)
    found = [info for detector in DETECTORS if (info := detector.detect(view)) is not None]
    found.sort(key=lambda info: (-info.confidence, info.name))
    return found


__all__ = ["DETECTORS", "Detector", "WorkspaceView", "detect_frameworks"]
