"""Which library files a stage's result depends on: the import closure of its modules inside ``dirs/``.

Snakemake does not know what Python code a job imports, so every rule lists the files of ``dirs/``
its stage module imports — directly, lazily inside a function, or through another ``dirs`` module —
as inputs: an edit (or a ``touch``) reruns exactly the jobs whose code imports the edited file, and
no other.  The list is computed here by walking the modules' syntax trees (:mod:`ast`), never typed
by hand, so it cannot fall behind the code (docs/design.md §7).

Rules of the walk:

* every ``import dirs.x.y`` / ``from dirs.x import y`` / relative import anywhere in a module (at the
  top or inside a function: a lazy import is still a dependency) adds the imported module, and
  importing ``dirs.x.y`` also executes the packages ``dirs/__init__.py`` and ``dirs/x/__init__.py``;
* ``from dirs.x import y`` where ``y`` is a submodule adds ``dirs/x/y.py`` too;
* modules outside ``dirs`` (NumPy, torch, a user's plug-in package) are not followed.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = "dirs"
ROOT = Path(__file__).resolve().parent


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """``dirs/a/b.py`` or ``dirs/a/b/__init__.py`` of module ``dirs.a.b`` (None if it does not exist)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _packages(module: str) -> list[str]:
    """``dirs.a.b`` → ``["dirs", "dirs.a"]``: the packages Python executes before the module."""
    parts = module.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _imports(path: Path, module: str) -> set[str]:
    """Modules of ``dirs`` that ``path`` (module ``module``) imports anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return {m for m in found if m.split(".")[0] == PACKAGE}


@functools.cache
def closure(*modules: str, root: Path = ROOT) -> tuple[Path, ...]:
    """Sorted files of ``dirs`` that importing ``modules`` executes (the modules' own files included).

    Raises ``ValueError`` for a module of ``dirs`` that has no file (a typo in a registry entry).
    """
    seen: set[str] = set()
    files: set[Path] = set()
    todo = list(modules)
    for m in modules:
        if m.split(".")[0] == PACKAGE and module_file(m, root) is None:
            raise ValueError(f"module {m!r}: no such file under {root}")
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        path = module_file(mod, root)
        if path is None:  # "from dirs.x import name" where name is not a module
            continue
        files.add(path)
        todo.extend(_packages(mod))
        todo.extend(_imports(path, mod))
    return tuple(sorted(files))


def code_inputs(*modules: str, root: Path = ROOT, relative_to: Path | None = None) -> list[str]:
    """:func:`closure` as paths relative to ``relative_to`` (default: the directory above ``dirs``),
    the form a Snakemake rule lists as ``input.code``."""
    base = relative_to or root.parent
    return [str(p.relative_to(base)) for p in closure(*modules, root=root)]


def plugin_files(modules, workdir: Path | None = None) -> list[str]:
    """Source files of plug-in modules (outside ``dirs``) that live under ``workdir`` (default: the
    current directory), relative to it — a user's own method module is an input of its jobs too."""
    import importlib.util

    base = (workdir or Path.cwd()).resolve()
    out = []
    for mod in modules:
        if str(mod).split(".")[0] == PACKAGE:
            continue
        spec = importlib.util.find_spec(str(mod))
        origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
        if origin is not None and origin.is_file() and base in origin.parents:
            out.append(str(origin.relative_to(base)))
    return out
