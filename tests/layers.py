"""The declared layers of Šalter and the checker that holds the code to them.

Imports run one way, from the bottom of :data:`LAYERS` up: an app's module may import the apps
of the layers below its own, and the apps of its own layer that are declared siblings. The
modules that compose pages and APIs (:func:`is_page`) sit on top of every layer: they may import
any app, and no app's domain module may import them. Imports inside functions are refused,
except those on :data:`ALLOWED_INSIDE` with the reason written beside each. Imports under
``if TYPE_CHECKING:`` are for types only: they create no dependency at run time and are not
checked. ``docs/architecture.md`` draws the same layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"

# Bottom first. Apps in one set are siblings that may import each other.
LAYERS: list[frozenset[str]] = [
    frozenset({"core"}),
    frozenset({"audit"}),
    frozenset({"identity", "authorities"}),
    frozenset({"catalog"}),
    frozenset({"cases"}),
    frozenset({"documents"}),
    frozenset({"mailbox"}),
    frozenset({"payments"}),
    frozenset({"exchange"}),
    frozenset({"registers"}),
]

# Modules that compose pages and APIs: on top of every layer.
PAGE_PARTS = frozenset({"views", "api", "urls", "templatetags", "management", "editor_forms"})
PAGE_SUFFIXES = ("_views", "_urls")
COMPOSITION = frozenset(
    {"salter.urls", "salter.wsgi", "salter.core.api", "salter.core.demo", "salter.core.urls"}
)

# Imports allowed inside a function: (module, imported module) → why.
ALLOWED_INSIDE: dict[tuple[str, str], str] = {
    ("salter.core.api", "*"): "the API object mounts every app's router once it is built",
}
READY = "ready"  # AppConfig.ready() imports the app's listeners and jobs: Django's own pattern


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "salter" else None


def is_page(module: str) -> bool:
    if module in COMPOSITION or module.startswith("salter.settings"):
        return True
    parts = module.split(".")[2:]
    return any(p in PAGE_PARTS or p.endswith(PAGE_SUFFIXES) for p in parts)


def layer_of(app: str) -> int | None:
    for index, apps in enumerate(LAYERS):
        if app in apps:
            return index
    return None


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.why}"


def _imports(tree: ast.Module) -> Iterator[tuple[ast.AST, str, bool, str]]:
    """(node, imported module, inside a function, the function's name) for each import of
    ``salter``, skipping ``if TYPE_CHECKING:`` blocks."""

    def walk(node: ast.AST, function: str) -> Iterator[tuple[ast.AST, str, bool, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from (item for orelse in child.orelse for item in walk(orelse, function))
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(child, child.name)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
                for name in names:
                    if name.startswith("salter."):
                        yield child, name, bool(function), function
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("salter."):
                        yield child, alias.name, bool(function), function
            yield from walk(child, function)

    yield from walk(tree, "")


def imports_of(path: Path) -> Iterator[tuple[ast.AST, str, bool, str]]:
    return _imports(ast.parse(path.read_text(encoding="utf-8")))


def check_source(module: str, source: str) -> list[Violation]:
    found: list[Violation] = []
    app = app_of(module)
    page = is_page(module)
    own_layer = layer_of(app) if app else None
    seen: set[tuple[int, str]] = set()
    for node, imported, inside, function in _imports(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        target_app = app_of(imported)
        if target_app is None:
            continue
        if inside and (line, "inside") not in seen:
            allowed = (
                (module, imported) in ALLOWED_INSIDE
                or (module, imported.rsplit(".", 1)[0]) in ALLOWED_INSIDE  # from X import name
                or (module, "*") in ALLOWED_INSIDE
                or (module.endswith(".apps") and function == READY)
            )
            if not allowed:
                seen.add((line, "inside"))
                found.append(
                    Violation(
                        module,
                        line,
                        imported,
                        "an import inside a function hides a "
                        "dependency; import at the top, or add it to ALLOWED_INSIDE "
                        "with the reason",
                    )
                )
        if page or app is None:
            continue
        if target_app == app and (not is_page(imported) or module.endswith(".apps")):
            continue  # an app's own modules; its AppConfig may load its pages' routes
        if (line, "layer") in seen:
            continue
        if is_page(imported):
            seen.add((line, "layer"))
            found.append(Violation(module, line, imported, "a domain module imports a page"))
            continue
        target_layer = layer_of(target_app)
        if own_layer is None or target_layer is None:
            seen.add((line, "layer"))
            found.append(Violation(module, line, imported, "an app missing from LAYERS"))
        elif target_layer > own_layer:
            seen.add((line, "layer"))
            found.append(
                Violation(
                    module,
                    line,
                    imported,
                    f"{app} (layer {own_layer}) may not import {target_app} "
                    f"(layer {target_layer}, above it)",
                )
            )
    return found


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "salter").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if "tests" in rel.parts or "migrations" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def check_tree() -> list[Violation]:
    found: list[Violation] = []
    for module, path in modules():
        found += check_source(module, path.read_text(encoding="utf-8"))
    return found
