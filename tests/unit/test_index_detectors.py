"""Framework detectors on small real-looking trees, and the project map built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.project import FrameworkInfo, LanguageStat, RouteInfo
from devfactory.server.project.detectors import detect_frameworks
from devfactory.server.project.project_map import render_project_map, write_atomically
from devfactory.server.project.symbol_rank import rank_symbols
from devfactory.storage.ports import ChunkRow
from support import write_files

LARAVEL = {
    "artisan": "#!/usr/bin/env php\n",
    "composer.json": '{"require": {"php": "^8.2", "laravel/framework": "^11.0"}}',
    "routes/web.php": (
        "<?php\nuse App\\Http\\Controllers\\UserController;\n"
        "Route::get('/users', [UserController::class, 'index'])->name('users');\n"
        "Route::post('users/{user}', [UserController::class, 'update']);\n"
        "Route::get('/', function () { return view('welcome'); });\n"
    ),
    "app/Models/User.php": "<?php class User {}\n",
    "app/Http/Controllers/UserController.php": "<?php class UserController {}\n",
    "database/migrations/2024_01_01_000000_create_users_table.php": "<?php\n",
    "config/app.php": "<?php return [];\n",
}

DJANGO = {
    "manage.py": "import django\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n",
    "site/settings.py": "INSTALLED_APPS = ['shop']\n",
    "site/urls.py": (
        "from django.urls import path, include\nfrom shop import views\n"
        "urlpatterns = [\n    path('products/<int:pk>/', views.product_detail),\n"
        "    path('cart/', views.CartView.as_view()),\n]\n"
    ),
    "shop/models.py": "class Product(models.Model):\n    pass\n",
    "shop/views.py": "def product_detail(request, pk):\n    pass\n",
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": "class Migration:\n    pass\n",
    "requirements.txt": "Django>=5.0\n",
}

FASTAPI = {
    "pyproject.toml": '[project]\nname = "api"\ndependencies = ["fastapi"]\n',
    "app/main.py": (
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/items/{item_id}')\nasync def read_item(item_id: int):\n    return {}\n\n"
        '@router.post("/orders")\n@requires_auth\ndef create_order():\n    pass\n'
    ),
}

FLASK = {
    "requirements.txt": "flask==3.0\n",
    "app.py": (
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/login', methods=['GET', 'POST'])\ndef login():\n    pass\n"
    ),
}

NEXT = {
    "package.json": '{"dependencies": {"next": "15.0.0", "react": "19.0.0"}}',
    "next.config.mjs": "export default {}\n",
    "app/layout.tsx": "export default function Layout() {}\n",
    "app/page.tsx": "export default function Home() {}\n",
    "app/(shop)/products/[id]/page.tsx": "export default function Product() {}\n",
    "app/api/orders/route.ts": "export async function GET() {}\nexport async function POST() {}\n",
    "pages/about.tsx": "export default function About() {}\n",
}

EXPRESS = {
    "package.json": '{"main": "server.js", "dependencies": {"express": "^4.19.0"}}',
    "server.js": (
        "const express = require('express')\nconst app = express()\n"
        "app.get('/health', (req, res) => res.send('ok'))\n"
        "router.delete(`/users/:id`, remove)\n"
    ),
}

SWIFT = {
    "Demo.xcodeproj/project.pbxproj": "// !$*UTF8*$!\n",
    "Demo/DemoApp.swift": "import SwiftUI\n@main\nstruct DemoApp: App {}\n",
    "Demo/ContentView.swift": "struct ContentView: View {}\n",
    "Demo/Models/Item.swift": "struct Item {}\n",
}


def detect(tmp_path: Path, files: dict[str, str]) -> list[FrameworkInfo]:
    write_files(tmp_path, files)
    return detect_frameworks(tmp_path, sorted(files))


def test_laravel(tmp_path: Path):
    [laravel] = detect(tmp_path, LARAVEL)
    assert laravel == FrameworkInfo(
        name="laravel",
        confidence=1.0,
        markers=["artisan", "composer.json requires laravel/framework"],
        entry_points=["artisan"],
        routes=[
            RouteInfo(
                method="GET",
                path="/users",
                handler="UserController@index",
                file="routes/web.php",
                line=3,
            ),
            RouteInfo(
                method="POST",
                path="/users/{user}",
                handler="UserController@update",
                file="routes/web.php",
                line=4,
            ),
            RouteInfo(method="GET", path="/", handler="closure", file="routes/web.php", line=5),
        ],
        controllers=["app/Http/Controllers/UserController.php"],
        models=["app/Models/User.php"],
        migrations=["database/migrations/2024_01_01_000000_create_users_table.php"],
        config_files=["config/app.php"],
        package_files=["composer.json"],
    )


def test_django(tmp_path: Path):
    [django] = detect(tmp_path, DJANGO)
    assert django.name == "django"
    assert django.routes == [
        RouteInfo(
            method="ANY",
            path="/products/<int:pk>/",
            handler="views.product_detail",
            file="site/urls.py",
            line=4,
        ),
        RouteInfo(
            method="ANY",
            path="/cart/",
            handler="views.CartView.as_view()",
            file="site/urls.py",
            line=5,
        ),
    ]
    assert (django.models, django.controllers, django.migrations) == (
        ["shop/models.py"],
        ["shop/views.py"],
        ["shop/migrations/0001_initial.py"],
    )
    assert django.entry_points == ["manage.py"]


@pytest.mark.parametrize(
    ("files", "name", "routes"),
    [
        (
            FASTAPI,
            "fastapi",
            [("GET", "/items/{item_id}", "read_item", 4), ("POST", "/orders", "create_order", 8)],
        ),
        (FLASK, "flask", [("GET,POST", "/login", "login", 4)]),
    ],
)
def test_python_web_frameworks(tmp_path: Path, files, name, routes):
    found = detect(tmp_path, files)
    info = next(f for f in found if f.name == name)
    assert [(r.method, r.path, r.handler, r.line) for r in info.routes] == routes


def test_nextjs_routes_from_the_file_system(tmp_path: Path):
    found = detect(tmp_path, NEXT)
    assert [f.name for f in found] == ["nextjs", "node-package"]
    assert [(r.method, r.path, r.handler) for r in found[0].routes] == [
        ("GET", "/", "page"),
        ("GET", "/about", "page"),
        ("GET", "/api/orders", "route"),
        ("POST", "/api/orders", "route"),
        ("GET", "/products/[id]", "page"),
    ]


def test_express(tmp_path: Path):
    express = detect(tmp_path, EXPRESS)[0]
    assert express.name == "express"
    assert [(r.method, r.path, r.line) for r in express.routes] == [
        ("GET", "/health", 3),
        ("DELETE", "/users/:id", 4),
    ]
    assert express.entry_points == ["server.js"]


def test_swift_ios(tmp_path: Path):
    [ios] = detect(tmp_path, SWIFT)
    assert (ios.name, ios.markers, ios.entry_points) == (
        "ios",
        ["Demo.xcodeproj"],
        ["Demo/DemoApp.swift"],
    )
    assert ios.models == ["Demo/Models/Item.swift"]
    assert ios.controllers == ["Demo/ContentView.swift"]


def test_plain_packages_and_nothing(tmp_path: Path):
    found = detect(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "tool"\n[project.scripts]\ntool = "tool.cli:main"\n',
            "tsconfig.json": "{}",
            "package.json": '{"bin": {"tool": "dist/cli.js"}, "scripts": {"build": "tsc"}}',
        },
    )
    assert [(f.name, f.entry_points) for f in found] == [
        ("python-package", ["tool = tool.cli:main"]),
        ("typescript-package", ["tool = dist/cli.js"]),
    ]
    assert detect_frameworks(tmp_path / "empty", []) == []


def chunk(path: str, name: str, content: str, kind: str = "function") -> ChunkRow:
    module = path.removesuffix(".py").replace("/", ".")
    return ChunkRow(0, path, "python", f"{module}.{name}", name, kind, 1, 2, content, "code", 0.0)


CHUNKS = [
    chunk("core/db.py", "Database", "class Database: ...", "class"),
    chunk("core/util.py", "slugify_title", "def slugify_title(): ..."),
    chunk("app/views.py", "index", "Database()\nDatabase()\nslugify_title()"),
    chunk("app/api.py", "handler", "Database()\nDatabase.connect()"),
    chunk("core/util.py", "helper", "Database()"),
]


def test_symbols_rank_by_references_deterministically():
    ranked = rank_symbols(CHUNKS)
    assert [(s.symbol, s.references) for s in ranked] == [
        ("core.db.Database", 5),
        ("core.util.slugify_title", 1),
    ]
    assert rank_symbols(list(reversed(CHUNKS))) == ranked


def test_project_map_is_deterministic_and_written_atomically(tmp_path: Path):
    frameworks = detect(tmp_path / "laravel", LARAVEL)
    languages = [LanguageStat(language="php", files=5, bytes=2_048)]
    text = render_project_map("shop", languages, frameworks, rank_symbols(CHUNKS))
    assert text == render_project_map("shop", languages, frameworks, rank_symbols(CHUNKS))
    assert "| GET | `/users` | UserController@index | `routes/web.php:3` |" in text
    assert "- Languages: php (5 files, 2.0 kB)" in text
    assert "  - `core.db.Database` (class, line 1): 5 references" in text
    target = tmp_path / "PROJECT_MAP.md"
    assert write_atomically(target, text) is True
    assert write_atomically(target, text) is False  # unchanged: not rewritten
    assert target.read_text() == text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".PROJECT_MAP")] == []
