"""Next.js (app and pages routers) and Express."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from devfactory.protocol.project import FrameworkInfo, RouteInfo

from .base import MAX_ITEMS, WorkspaceView, capped, routes_from

_JS_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")
_EXPRESS_ROUTE = re.compile(
    r"\b(?P<obj>app|router|api|server|\w+Router)\.(?P<verb>get|post|put|patch|delete|all|options)"
    r"\(\s*(['\"`])(?P<path>[^'\"`]*)\3"
)
_HANDLER_EXPORT = re.compile(
    r"export\s+(?:async\s+)?(?:function\s+|const\s+)(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b"
)


def _source_dirs(view: WorkspaceView, name: str) -> list[str]:
    """``app``/``pages`` at the root or under ``src/``, whichever exist."""
    return [prefix for prefix in (f"{name}/", f"src/{name}/") if view.glob(prefix + "*")]


class NextDetector:
    name = "nextjs"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        if "next" not in view.package_json_deps():
            return None
        markers = ["package.json depends on next"]
        configs = view.glob("next.config.*")
        markers += configs
        routes: list[RouteInfo] = []
        pages: list[str] = []
        for base in _source_dirs(view, "app"):
            for file in view.glob(base + "*"):
                pure = PurePosixPath(file[len(base) :])
                if pure.suffix not in _JS_SUFFIXES:
                    continue
                url = _url(pure.parent.parts)
                if pure.stem == "page":
                    pages.append(file)
                    routes.append(RouteInfo(method="GET", path=url, handler="page", file=file))
                elif pure.stem == "route":
                    verbs = _HANDLER_EXPORT.findall(view.read(file)) or ["ANY"]
                    routes += [
                        RouteInfo(method=verb, path=url, handler="route", file=file)
                        for verb in sorted(set(verbs))
                    ]
        for base in _source_dirs(view, "pages"):
            for file in view.glob(base + "*"):
                pure = PurePosixPath(file[len(base) :])
                if pure.suffix not in _JS_SUFFIXES or pure.stem.startswith("_"):
                    continue
                parts = [*pure.parent.parts] + ([] if pure.stem == "index" else [pure.stem])
                api = parts[:1] == ["api"]
                pages.append(file)
                routes.append(
                    RouteInfo(
                        method="ANY" if api else "GET",
                        path=_url(tuple(parts)),
                        handler="api" if api else "page",
                        file=file,
                    )
                )
        routes.sort(key=lambda r: (r.path, r.method))
        return FrameworkInfo(
            name=self.name,
            confidence=0.6 + (0.2 if configs else 0) + (0.2 if routes else 0),
            markers=markers,
            entry_points=capped(
                view.glob("app/layout.*", "src/app/layout.*", "pages/_app.*", "src/pages/_app.*")
            ),
            routes=routes[:MAX_ITEMS],
            controllers=capped(pages),
            models=capped(view.glob("prisma/schema.prisma", "*/models/*")),
            migrations=capped(view.glob("prisma/migrations/*", "migrations/*")),
            services=capped(view.glob("lib/*", "src/lib/*", "services/*", "src/services/*")),
            config_files=capped(configs + view.glob("tsconfig.json", ".env.example")),
            package_files=capped(f for f in ("package.json",) if view.exists(f)),
        )


def _url(parts: tuple[str, ...]) -> str:
    """Folder names to a URL: route groups ``(x)`` and slots ``@x`` vanish."""
    kept = [
        p for p in parts if not (p.startswith("(") and p.endswith(")")) and not p.startswith("@")
    ]
    return "/" + "/".join(kept)


class ExpressDetector:
    name = "express"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        if "express" not in view.package_json_deps():
            return None
        sources = [f for f in view.files if f.endswith(_JS_SUFFIXES) and "node_modules/" not in f][
            :5_000
        ]
        entry = [f for f in sources if "express()" in view.read(f)]
        routes = routes_from(view, sources, _EXPRESS_ROUTE, _express_route)
        main = view.json("package.json").get("main")
        return FrameworkInfo(
            name=self.name,
            confidence=0.5 + (0.25 if entry else 0) + (0.25 if routes else 0),
            markers=["package.json depends on express", *entry[:3]],
            entry_points=capped(entry + ([main] if isinstance(main, str) else [])),
            routes=routes,
            controllers=capped(
                view.glob("routes/*", "src/routes/*", "controllers/*", "src/controllers/*")
            ),
            models=capped(view.glob("models/*", "src/models/*")),
            migrations=capped(view.glob("migrations/*", "src/migrations/*")),
            services=capped(view.glob("services/*", "src/services/*")),
            config_files=capped(view.glob("config/*", ".env.example", "tsconfig.json")),
            package_files=capped(f for f in ("package.json",) if view.exists(f)),
        )


def _express_route(match: re.Match[str], file: str, line: int) -> RouteInfo:
    return RouteInfo(
        method=match.group("verb").upper(),
        path=match.group("path"),
        handler=match.group("obj"),
        file=file,
        line=line,
    )
