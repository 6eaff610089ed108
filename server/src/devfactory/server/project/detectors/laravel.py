"""Laravel: artisan, laravel/framework in composer.json, routes/*.php."""

from __future__ import annotations

import re

from devfactory.protocol.project import FrameworkInfo, RouteInfo

from .base import WorkspaceView, capped, routes_from

_ROUTE = re.compile(
    r"Route::(?P<verb>get|post|put|patch|delete|options|any|match|resource|apiResource)"
    r"\(\s*(?:\[[^\]]*\]\s*,\s*)?(['\"])(?P<path>[^'\"]*)\2\s*,\s*(?P<handler>[^;]*?)\)\s*"
    r"(?:->[^;]*)?;"
)
_CONTROLLER_ACTION = re.compile(r"\[\s*\\?([\w\\]+)::class\s*,\s*['\"](\w+)['\"]\s*\]")
_CONTROLLER_CLASS = re.compile(r"\\?([\w\\]+)::class")


class LaravelDetector:
    name = "laravel"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        markers = []
        if view.exists("artisan"):
            markers.append("artisan")
        composer = view.json("composer.json")
        requires = {**composer.get("require", {}), **composer.get("require-dev", {})}
        if "laravel/framework" in requires:
            markers.append("composer.json requires laravel/framework")
        if not markers:
            return None
        route_files = view.glob("routes/*.php")
        return FrameworkInfo(
            name=self.name,
            confidence=min(1.0, 0.5 * len(markers) + (0.1 if route_files else 0)),
            markers=markers,
            entry_points=capped(f for f in ("artisan", "public/index.php") if view.exists(f)),
            routes=routes_from(view, route_files, _ROUTE, _route),
            controllers=capped(view.glob("app/Http/Controllers/*.php")),
            models=capped(view.glob("app/Models/*.php")),
            migrations=capped(view.glob("database/migrations/*.php")),
            services=capped(view.glob("app/Services/*.php", "app/Jobs/*.php")),
            config_files=capped(
                view.glob("config/*.php") + [f for f in (".env.example",) if view.exists(f)]
            ),
            package_files=capped(f for f in ("composer.json", "package.json") if view.exists(f)),
        )


def _route(match: re.Match[str], file: str, line: int) -> RouteInfo:
    handler_text = match.group("handler").strip()
    action = _CONTROLLER_ACTION.search(handler_text)
    if action:
        handler = f"{action.group(1).split(chr(92))[-1]}@{action.group(2)}"
    elif (klass := _CONTROLLER_CLASS.search(handler_text)) is not None:
        handler = klass.group(1).split("\\")[-1]
    elif handler_text.startswith("function") or handler_text.startswith("fn"):
        handler = "closure"
    else:
        handler = handler_text.strip("'\"")[:80]
    path = match.group("path")
    return RouteInfo(
        method=match.group("verb").upper(),
        path=path if path.startswith("/") else "/" + path,
        handler=handler,
        file=file,
        line=line,
    )
