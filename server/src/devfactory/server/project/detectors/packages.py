"""Swift/iOS projects and plain Python or JavaScript/TypeScript packages."""

from __future__ import annotations

import re
import tomllib

from devfactory.protocol.project import FrameworkInfo, RouteInfo

from .base import WorkspaceView, capped, routes_from

_VAPOR_ROUTE = re.compile(
    r"\b(?:app|routes|router|\w+)\.(?P<verb>get|post|put|patch|delete)\((?P<args>[^)\n{]*)"
)
_SWIFT_MAIN = re.compile(r"^@main\b|^@UIApplicationMain\b|^@NSApplicationMain\b", re.MULTILINE)


class SwiftDetector:
    name = "swift"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        projects = sorted(
            {f.split(".xcodeproj/")[0] + ".xcodeproj" for f in view.files if ".xcodeproj/" in f}
        )
        package = [f for f in ("Package.swift",) if view.exists(f)]
        swift = [f for f in view.files if f.endswith(".swift")]
        if not (projects or package):
            return None
        entry = [f for f in swift[:5_000] if _SWIFT_MAIN.search(view.read(f))]
        vapor = "vapor" in view.read("Package.swift").lower() if package else False
        routes = routes_from(view, swift[:5_000], _VAPOR_ROUTE, _vapor_route) if vapor else []
        return FrameworkInfo(
            name="vapor" if vapor else ("ios" if projects else "swift"),
            confidence=0.9 if projects or package else 0.5,
            markers=projects[:3] + package,
            entry_points=capped(entry + view.named("AppDelegate.swift", "SceneDelegate.swift")),
            routes=routes,
            controllers=capped(f for f in swift if f.endswith(("View.swift", "Controller.swift"))),
            models=capped(f for f in swift if "/Models/" in f or f.endswith("Model.swift")),
            migrations=capped(f for f in swift if "/Migrations/" in f),
            services=capped(f for f in swift if "/Services/" in f or f.endswith("Service.swift")),
            config_files=capped(view.named("Info.plist") + view.glob("*.xcconfig")),
            package_files=capped(package + view.named("Podfile", "Cartfile")),
        )


def _vapor_route(match: re.Match[str], file: str, line: int) -> RouteInfo | None:
    segments = re.findall(r"\"([^\"]*)\"", match.group("args"))
    if not segments and match.group("args").strip():
        return None
    return RouteInfo(
        method=match.group("verb").upper(), path="/" + "/".join(segments), file=file, line=line
    )


class PythonPackageDetector:
    name = "python-package"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        markers = [f for f in ("pyproject.toml", "setup.py", "setup.cfg") if view.exists(f)]
        if not markers:
            return None
        entry: list[str] = []
        try:
            project = tomllib.loads(view.read("pyproject.toml") or "").get("project", {})
        except tomllib.TOMLDecodeError:
            project = {}
        for name, target in sorted(project.get("scripts", {}).items()):
            entry.append(f"{name} = {target}")
        entry += view.named("__main__.py")
        return FrameworkInfo(
            name=self.name,
            confidence=0.5,
            markers=markers,
            entry_points=capped(entry),
            services=[],
            config_files=capped(
                view.glob(
                    "tox.ini",
                    "noxfile.py",
                    "pytest.ini",
                    ".flake8",
                    "mypy.ini",
                    "ruff.toml",
                    "Makefile",
                )
            ),
            package_files=capped(
                markers + view.glob("requirements*.txt", "uv.lock", "poetry.lock")
            ),
        )


class NodePackageDetector:
    name = "node-package"

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None:
        if not view.exists("package.json"):
            return None
        data = view.json("package.json")
        typescript = view.exists("tsconfig.json")
        entry = [
            v
            for k, v in sorted(data.items())
            if k in ("main", "module", "types") and isinstance(v, str)
        ]
        bins = data.get("bin")
        if isinstance(bins, dict):
            entry += [f"{k} = {v}" for k, v in sorted(bins.items())]
        scripts = data.get("scripts")
        return FrameworkInfo(
            name="typescript-package" if typescript else "node-package",
            confidence=0.5,
            markers=["package.json"] + (["tsconfig.json"] if typescript else []),
            entry_points=capped(entry),
            services=capped(f"npm run {name}" for name in scripts)
            if isinstance(scripts, dict)
            else [],
            config_files=capped(
                view.glob(
                    "tsconfig*.json",
                    ".eslintrc*",
                    "eslint.config.*",
                    "vite.config.*",
                    "webpack.config.*",
                    "jest.config.*",
                )
            ),
            package_files=capped(
                f
                for f in ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml")
                if view.exists(f)
            ),
        )
