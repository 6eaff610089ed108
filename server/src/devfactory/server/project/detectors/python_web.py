"""Django, FastAPI and Flask."""

from __future__ import annotations

import re

from devfactory.protocol.project import FrameworkInfo, RouteInfo

from .base import WorkspaceView, capped, routes_from

_DJANGO_ROUTE = re.compile(
    r"\b(re_path|path|url)\(\s*[rRbBuUfF]?([\"'])(?P<path>.*?)\2\s*,\s*(?P<handler>[\w.]+(?:\(\))?)"
)
_PY_DECORATOR = re.compile(
    r"^[ \t]*@(?P<app>\w+)\.(?P<verb>route|get|post|put|patch|delete|head|options|websocket)"
    r"\(\s*[rf]?([\"'])(?P<path>.*?)\3(?P<rest>[^\n]*)\n"
    r"(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async\s+)?def\s+(?P<func>\w+)",
    re.MULTILINE,
)
_METHODS = re.compile(r"methods\s*=\s*[\[(]([^\])]*)")


class DjangoDetector:
    name = "django"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        markers = []
        manage = view.named("manage.py")
        if manage and "django" in view.read(manage[0]).lower():
            markers.append(manage[0])
        if "django" in view.python_requirements():
            markers.append("django in the Python dependencies")
        settings = [f for f in view.named("settings.py") if "INSTALLED_APPS" in view.read(f)]
        markers += settings[:3]
        if not markers:
            return None
        urls = view.named("urls.py")
        routes = routes_from(view, urls, _DJANGO_ROUTE, _django_route)
        migrations = [f for f in view.glob("*/migrations/*.py") if not f.endswith("__init__.py")]
        return FrameworkInfo(
            name=self.name,
            confidence=min(1.0, 0.4 * len(markers) + (0.2 if urls else 0)),
            markers=markers,
            entry_points=capped(manage + view.named("wsgi.py", "asgi.py")),
            routes=routes,
            controllers=capped(view.named("views.py") + view.glob("*/views/*.py")),
            models=capped(view.named("models.py") + view.glob("*/models/*.py")),
            migrations=capped(migrations),
            services=capped(view.named("services.py", "tasks.py", "signals.py")),
            config_files=capped(settings + urls[:20] + view.glob("*/settings/*.py")),
            package_files=capped(
                f for f in ("pyproject.toml", "requirements.txt", "setup.py") if view.exists(f)
            ),
        )


def _django_route(match: re.Match[str], file: str, line: int) -> RouteInfo:
    path = match.group("path").lstrip("^").rstrip("$")
    return RouteInfo(
        method="ANY", path="/" + path, handler=match.group("handler"), file=file, line=line
    )


class PythonWebDetector:
    """FastAPI or Flask: the dependency, then the decorated route functions."""

    def __init__(self, name: str, constructor: str) -> None:
        self.name = name
        self._constructor = constructor

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        in_deps = self.name in view.python_requirements()
        python = [f for f in view.files if f.endswith(".py")]
        apps = [f for f in python[:5_000] if f"{self._constructor}(" in view.read(f)]
        if not in_deps and not apps:
            return None
        routes = routes_from(view, python[:5_000], _PY_DECORATOR, self._route)
        markers = ([f"{self.name} in the Python dependencies"] if in_deps else []) + apps[:3]
        return FrameworkInfo(
            name=self.name,
            confidence=min(
                1.0, (0.5 if in_deps else 0.2) + (0.3 if apps else 0) + (0.2 if routes else 0)
            ),
            markers=markers,
            entry_points=capped(apps),
            routes=routes,
            controllers=capped({r.file for r in routes}),
            models=capped(view.named("models.py", "schemas.py") + view.glob("*/models/*.py")),
            migrations=capped(view.glob("*/versions/*.py", "migrations/versions/*.py")),
            services=capped(view.named("services.py", "dependencies.py", "deps.py")),
            config_files=capped(view.named("config.py", "settings.py", ".env.example")),
            package_files=capped(
                f for f in ("pyproject.toml", "requirements.txt", "setup.py") if view.exists(f)
            ),
        )

    def _route(self, match: re.Match[str], file: str, line: int) -> RouteInfo | None:
        verb = match.group("verb")
        if verb == "route":
            methods = _METHODS.search(match.group("rest"))
            method = (
                ",".join(m.strip(" '\"").upper() for m in methods.group(1).split(",") if m.strip())
                if methods
                else "GET"
            )
        else:
            method = verb.upper()
        return RouteInfo(
            method=method,
            path=match.group("path"),
            handler=match.group("func"),
            file=file,
            line=line,
        )
