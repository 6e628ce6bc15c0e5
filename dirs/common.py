"""Small shared pieces: Lévy (Mantegna) steps, seeding, atomic file output."""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


def mantegna_sigma(beta: float) -> float:
    """σ_u of Mantegna's algorithm for a Lévy-stable step with exponent β ∈ (0, 2]."""
    if not 0 < beta <= 2:
        raise ValueError(f"beta: Lévy exponent must lie in (0, 2], got {beta}")
    num = math.gamma(1 + beta) * math.sin(math.pi * beta / 2)
    den = math.gamma((1 + beta) / 2) * beta * 2 ** ((beta - 1) / 2)
    return (num / den) ** (1 / beta)


def mantegna_steps(beta: float, size, rng: np.random.Generator) -> np.ndarray:
    """Lévy-flight steps d = u / |v|^(1/β), u ~ N(0, σ_u²), v ~ N(0, 1) (Mantegna, 1994)."""
    sigma = mantegna_sigma(beta)
    u = rng.normal(0.0, sigma, size=size)
    v = rng.normal(0.0, 1.0, size=size)
    return u / np.abs(v) ** (1.0 / beta)


#: Writer tag in every temporary file name: ``<host>-<pid>`` (host sanitised to [A-Za-z0-9_]).
_OWNER = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname() or "host")
#: A leftover written on another host (a shared file system) is removed once it is this old.
FOREIGN_LEFTOVER_S = 3600.0


def temp_prefix(path: Path) -> str:
    """Prefix of the temporary files written beside ``path``: ``.<name>.<host>-<pid>.``."""
    return f".{path.name}.{_OWNER}-{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


#: A temporary name after ``.<target>.``: the writer tag (older versions wrote none), mkstemp's
#: 8 random characters, ``.tmp`` / ``.old``, anything after (the suffix, or a temporary's own temporary).
_LEFTOVER = re.compile(r"^(?:(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)\.)?[a-z0-9_]{8}\.(?:tmp|old)(?:\..*)?$")


def _is_stale(entry: os.DirEntry, host: str | None, pid: str | None) -> bool:
    """True when the temporary file ``entry`` of writer ``host``-``pid`` belongs to no live writer."""
    if host is None:
        return True  # no writer tag (an older version's temporary): nobody can be writing it
    if host != _OWNER:
        try:
            return time.time() - entry.stat(follow_symlinks=False).st_mtime > FOREIGN_LEFTOVER_S
        except OSError:
            return False
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def remove_leftovers(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files (and directories) an interrupted writer of ``path`` left beside it
    (``.<name>.<host>-<pid>.<random>.tmp…``, write_together's ``….old`` backups and temporaries of
    temporaries ``..<name>.…``) whose writer is gone: a dead process of this host, or older than
    :data:`FOREIGN_LEFTOVER_S` on another host.  Returns what was removed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    prefixes = (f".{path.name}.", f"..{path.name}.")
    removed = []
    with os.scandir(path.parent) as entries:
        for entry in entries:
            prefix = next((p for p in prefixes if entry.name.startswith(p)), None)
            match = _LEFTOVER.match(entry.name[len(prefix) :]) if prefix else None
            if match is None or not _is_stale(entry, match["host"], match["pid"]):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A killed or failing writer therefore never leaves a file that looks complete; the temporary
    files a killed writer left are removed the next time ``path`` is written (:func:`remove_leftovers`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def import_modules(modules: Iterable[str], key: str = "plugins") -> None:
    """Import the user's modules named by the config key ``key``; any exception raised while
    importing one (not only ImportError) becomes one ParameterError naming the module."""
    from dirs.system.params import ParameterError

    for mod in modules:
        try:
            importlib.import_module(str(mod))
        except Exception as exc:  # noqa: BLE001 — a plug-in may raise anything on import
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ParameterError(
                f"{key}: cannot import module {str(mod)!r}: {type(exc).__name__}: {first}".rstrip(": ")
            ) from None


def write_text_atomic(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_npz_atomic(path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def write_csv_atomic(path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")
