"""Checked reading of the pipeline's files, provenance stamps, and files written together.

Every bad input raises :class:`~dirs.system.params.ParameterError`; an error about a file is an
:class:`InputFileError` (a ``ParameterError``) whose message starts with the file's path, names the
field (array, key) and what is allowed, and whose ``.path`` is that file.  A missing file raises
:class:`FileNotFoundError` naming it.

Loaders (each returns validated NumPy arrays / objects)::

    sc = load_scenario("data/scenarios/medium/seed0/scenario.json")             # Scenario
    H = load_channels("data/…/channels.npz", "test", sc)                        # (T, N, M) > 0
    opt = load_optimum("results/…/optimum.npz", T, N, M)  # {"decisions", "objective", ["lower_bound"], …}
    gains, decisions = load_demos("data/demos/…/demos.npz", N, M)               # (K, N, M), (K, N)
    arrays = read_npz(path, required=("a",), optional=("b",))                   # low level
    data = read_json(path, required=("key",))

Provenance (which inputs a derived file was computed from)::

    prov = provenance(scenario=sc_path, channels=ch_path)   # {"channels": {"path", "sha256"}, …}
    write_npz_with_provenance(out, prov, decisions=a, objective=obj)    # npz entry "provenance"
    check_provenance(read_npz_provenance(out), out, channels=ch_path)  # raises on a mismatch
    write_json_with_provenance(path, data, prov)                         # key "provenance"
    write_csv_with_provenance(path, frame, prov)     # CSV + sidecar "<file>.provenance.json"
    check_provenance(read_csv_provenance(path), path, scenario=sc_path)

:func:`digest` is the SHA-256 of a file's bytes, cached in-process per (path, mtime, size).
:func:`check_provenance` compares digests only (a moved input with the same bytes is the same
input), and names both the derived file and the input file when they disagree.

Files that belong together (``scenario.json`` + ``channels.npz``; a model directory)::

    write_together({sc_path: sc.save, ch_path: lambda tmp: save_npz(tmp, ...)})

writes every file (or directory) to a temporary name beside its target, and only when every writer
has succeeded renames them all onto their targets; if a writer fails, no target is touched.  The
renames themselves run one after the other: a rename that fails restores the targets already
replaced, but a process killed between two renames can leave a mixed pair — which is why a CSV's
sidecar records the CSV's own digest (:func:`read_csv_provenance` detects a torn pair).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np

from dirs.system.params import ParameterError

PROVENANCE_KEY = "provenance"
SIDECAR_SUFFIX = ".provenance.json"


class InputFileError(ParameterError):
    """A file exists but is unreadable, incomplete or inconsistent; ``.path`` is the file."""

    def __init__(self, path: str | os.PathLike, message: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {message}")


# ----------------------------------------------------------------------------------- low level
def _require_file(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what} file" + (" (it is a directory)" if path.is_dir() else ""))
    return path


def read_json(path: str | os.PathLike, required: Iterable[str] = (), what: str = "JSON") -> dict[str, Any]:
    """A JSON object from ``path`` with every key of ``required`` present."""
    path = _require_file(path, what)
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not a valid {what} file ({exc})") from None
    if not isinstance(data, dict):
        raise InputFileError(path, f"expected a JSON object at the top level, got {type(data).__name__}")
    missing = [k for k in required if k not in data]
    if missing:
        raise InputFileError(path, f"missing required key(s) {missing}; a {what} file needs {list(required)}")
    return data


def read_npz(
    path: str | os.PathLike,
    required: Iterable[str] = (),
    optional: Iterable[str] = (),
    what: str = "npz",
    check: Callable[[list[str]], None] | None = None,
) -> dict[str, np.ndarray]:
    """The arrays ``required`` (each must be present) and ``optional`` (if present) of an ``.npz``,
    read eagerly so that a truncated or corrupt archive fails here, as one :class:`InputFileError`.
    ``check(names)`` may refuse the archive's array names (raising InputFileError)."""
    path = _require_file(path, what)
    required, optional = list(required), list(optional)
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise InputFileError(path, f"not an .npz archive (a single array); expected arrays {required}")
            if check is not None:
                check(sorted(data.files))
            missing = [k for k in required if k not in data.files]
            if missing:
                raise InputFileError(path, f"has no array(s) {missing}; found {sorted(data.files)}")
            return {k: np.asarray(data[k]) for k in required + [k for k in optional if k in data.files]}
    except InputFileError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error, KeyError, RuntimeError) as exc:
        raise InputFileError(
            path, f"corrupt or truncated {what} archive ({type(exc).__name__}: {exc}); regenerate it"
        ) from None


def _numeric(path: Path, name: str, arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind not in "iuf":
        raise InputFileError(path, f"{name}: expected a numeric array, got dtype {arr.dtype}")
    return arr


def check_decision_array(
    path: str | os.PathLike, name: str, a: np.ndarray, shape: tuple, num_servers: int
) -> np.ndarray:
    """Decisions: integer dtype, ``shape``, every value in 0..M."""
    path = Path(path)
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise InputFileError(path, f"{name}: decisions must be integers in 0..{num_servers}, got dtype {a.dtype}")
    if a.shape != tuple(shape):
        raise InputFileError(path, f"{name}: expected shape {tuple(shape)}, got {a.shape}")
    if a.size and (a.min() < 0 or a.max() > num_servers):
        bad = tuple(int(i) for i in np.argwhere((a < 0) | (a > num_servers))[0])
        raise InputFileError(
            path,
            f"{name}: decisions must lie in 0..{num_servers} (0 = local, j = server j); entry {bad} = {int(a[bad])}",
        )
    return a.astype(np.int64, copy=False)


def check_gain_array(path: str | os.PathLike, name: str, g: np.ndarray, num_iotds: int, num_servers: int) -> np.ndarray:
    """Gains ``(T >= 1, N, M)``, finite and > 0."""
    from dirs.system.cost import check_gains

    path = Path(path)
    g = _numeric(path, name, np.asarray(g))
    if g.ndim != 3 or g.shape[1:] != (num_iotds, num_servers):
        raise InputFileError(
            path, f"{name}: shape {g.shape} disagrees with the scenario (expected (T, {num_iotds}, {num_servers}))"
        )
    if g.shape[0] < 1:
        raise InputFileError(path, f"{name}: has no samples (shape {g.shape}); needs T >= 1")
    try:
        return check_gains(g, name)
    except ParameterError as exc:
        raise InputFileError(path, str(exc)) from None


# -------------------------------------------------------------------------------------- loaders
def load_scenario(path: str | os.PathLike):
    """:class:`~dirs.system.Scenario` from ``scenario.json``: required keys (incl. ``params``),
    format version, shapes and finite positions checked (see :meth:`Scenario.load`)."""
    from dirs.system.scenario import Scenario

    return Scenario.load(path)


def load_channels(path: str | os.PathLike, split: str, scenario) -> np.ndarray:
    """Gains ``(T, N, M)`` of ``split`` in ``channels.npz``, checked against ``scenario``'s N, M and the
    per-slot task arrays its ``scenario.json`` declares (:func:`read_channels`)."""
    return scenario.load_channels(path, split)


SPLITS = ("train", "test")


def check_channel_names(path: str | os.PathLike, names: Iterable[str], scenario) -> None:
    """The arrays of ``channels.npz`` are exactly what ``scenario.json`` declares: the splits
    ``train`` / ``test`` and, for every declared per-slot field, ``<split>_<field>`` (docs/design.md §9).
    A missing, renamed or added array is refused, naming it and the declaration."""
    names = set(names)
    fields = list(getattr(scenario, "task_fields", ()))
    declared = {f"{s}_{f}" for s in SPLITS for f in fields}
    missing = sorted(k for k in declared if k not in names and k.split("_", 1)[0] in names)
    extra = sorted(names - declared - set(SPLITS))
    if not (missing or extra):
        return
    what = []
    if missing:
        what.append(f"lacks the per-slot task array(s) {missing}")
    if extra:
        what.append(f"has array(s) {extra} that scenario.json does not declare")
    raise InputFileError(
        path,
        f"{' and '.join(what)}; scenario.json (family {scenario.family!r}, task_mode {scenario.task_mode!r}) "
        f"declares per-slot task fields {fields}, so the allowed arrays are "
        f"{sorted(set(SPLITS) | declared)}; regenerate the instance",
    )


def read_channels(path: str | os.PathLike, split: str, scenario) -> dict[str, np.ndarray]:
    """``{split: gains (T, N, M), field: (T, N) per-slot task array, …}`` of ``channels.npz``: the
    archive's arrays are checked against the scenario's declaration (:func:`check_channel_names`), the
    gains against its N, M (finite, > 0), every task array for shape (T, N), finite, physical range."""
    from dirs.system.params import ParameterError as _PE
    from dirs.system.params import check_physical

    fields = list(scenario.task_fields)
    keys = [f"{split}_{f}" for f in fields]
    data = read_npz(
        path, (split, *keys), what="channels", check=lambda names: check_channel_names(path, names, scenario)
    )
    gains = check_gain_array(path, split, data[split], scenario.num_iotds, scenario.num_servers)
    out = {split: gains}
    for field, key in zip(fields, keys):
        arr = _numeric(Path(path), key, np.asarray(data[key]))
        if arr.shape != gains.shape[:2]:
            raise InputFileError(
                path,
                f"{key}: per-slot task array has shape {arr.shape}, expected "
                f"(T, N) = {gains.shape[:2]} (one row per channel sample)",
            )
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise InputFileError(path, f"{key}: per-slot task sizes must be finite and > 0")
        try:
            check_physical(field, arr, key)
        except _PE as exc:
            raise InputFileError(path, str(exc)) from None
        out[field] = arr
    return out


def load_split(path: str | os.PathLike, split: str, scenario):
    """``(scenario of the split, gains)``: the gains ``(T, N, M)`` of ``split`` and, where
    ``scenario.json`` declares per-slot task fields (docs/design.md §9), the scenario with the
    ``channels.npz`` arrays ``<split>_<field>`` (shape ``(T, N)``) applied to its params (they broadcast
    like ``(N,)`` ones).  A channels file that lacks, renames or adds a declared array is refused
    (:func:`check_channel_names`); every task array is checked: shape, finite, > 0, physical range."""
    import dataclasses

    data = read_channels(path, split, scenario)
    gains = data.pop(split)
    if not data:
        return scenario, gains
    try:
        params = scenario.params.replace(**data)
    except ParameterError as exc:
        raise InputFileError(path, f"{split} task arrays: {exc}") from None
    return dataclasses.replace(scenario, params=params), gains


def load_optimum(path: str | os.PathLike, num_samples: int, num_iotds: int, num_servers: int) -> dict[str, np.ndarray]:
    """``optimum.npz``: ``decisions`` (T, N) in 0..M, ``objective`` (T,) finite > 0, ``lower_bound``
    (T,) finite and <= objective if present; other numeric (T,) arrays (``time``, ``energy``,
    ``solve_ms``) are passed through when present."""
    path = Path(path)
    z = read_npz(path, ("decisions", "objective"), ("lower_bound", "time", "energy", "solve_ms"), what="optimum")
    t = int(num_samples)
    out = {"decisions": check_decision_array(path, "decisions", z["decisions"], (t, int(num_iotds)), int(num_servers))}
    obj = _numeric(path, "objective", z["objective"]).astype(np.float64)
    if obj.shape != (t,):
        raise InputFileError(path, f"objective: expected shape ({t},) (one per test sample), got {obj.shape}")
    if not (np.all(np.isfinite(obj)) and np.all(obj > 0)):
        k = int(np.argmax(~(np.isfinite(obj) & (obj > 0))))
        raise InputFileError(path, f"objective: must be finite and > 0; entry {k} = {obj[k]}")
    out["objective"] = obj
    if "lower_bound" in z:
        lb = _numeric(path, "lower_bound", z["lower_bound"]).astype(np.float64)
        if lb.shape != (t,):
            raise InputFileError(path, f"lower_bound: expected shape ({t},), got {lb.shape}")
        bad = ~np.isfinite(lb) | (lb > obj * (1 + 1e-9))
        if bad.any():
            k = int(np.argmax(bad))
            raise InputFileError(
                path, f"lower_bound: must be finite and <= objective; entry {k} = {lb[k]} (objective {obj[k]})"
            )
        out["lower_bound"] = lb
    for key in ("time", "energy", "solve_ms"):
        if key in z:
            arr = _numeric(path, key, z[key])
            if arr.shape != (t,):
                raise InputFileError(path, f"{key}: expected shape ({t},), got {arr.shape}")
            out[key] = arr
    return out


def load_demos(path: str | os.PathLike, num_iotds: int, num_servers: int) -> tuple[np.ndarray, np.ndarray]:
    """``demos.npz``: ``gains`` (K >= 1, N, M) finite > 0 and ``decisions`` (K, N) in 0..M."""
    path = Path(path)
    z = read_npz(path, ("gains", "decisions"), what="demonstrations")
    gains = check_gain_array(path, "gains", z["gains"], int(num_iotds), int(num_servers))
    decisions = check_decision_array(path, "decisions", z["decisions"], (len(gains), int(num_iotds)), int(num_servers))
    return gains, decisions


# ----------------------------------------------------------------------------------- provenance
_DIGESTS: dict[tuple[str, int, int], str] = {}


def digest(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the file's bytes; cached in-process per (absolute path, mtime_ns, size)."""
    path = _require_file(path, "input")
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _DIGESTS:
        h = sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def provenance(**inputs: str | os.PathLike) -> dict[str, dict[str, str]]:
    """``{name: {"path": str, "sha256": digest}}`` of the named input files."""
    return {name: {"path": str(p), "sha256": digest(p)} for name, p in inputs.items()}


def check_provenance(
    recorded: Mapping[str, Any] | None, derived: str | os.PathLike | None = None, /, **inputs: str | os.PathLike
) -> None:
    """Raise :class:`InputFileError` unless every named input file has the digest ``recorded`` for
    it (``recorded`` as written by :func:`provenance`; ``derived`` = the file that recorded it)."""
    where = Path(derived) if derived is not None else Path("<derived>")
    if not isinstance(recorded, Mapping):
        raise InputFileError(where, f"has no provenance record (expected one for {sorted(inputs)}); regenerate it")
    for name, path in inputs.items():
        entry = recorded.get(name)
        if not isinstance(entry, Mapping) or "sha256" not in entry:
            raise InputFileError(
                where,
                f"provenance has no entry {name!r} (recorded: {sorted(recorded)}); "
                f"it was not made from {path}; regenerate it",
            )
        now = digest(path)
        if entry["sha256"] != now:
            raise InputFileError(
                where,
                f"provenance.{name}: was computed from {entry.get('path', '?')} with sha256 "
                f"{str(entry['sha256'])[:12]}…, but input file {path} now has sha256 {now[:12]}… "
                f"(the input changed after this file was made); regenerate {where.name}",
            )


def _stamp(prov: Mapping[str, Any]) -> str:
    return json.dumps(dict(prov), sort_keys=True)


def _parse_stamp(path: Path, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"provenance: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputFileError(path, f"provenance: expected a JSON object, got {type(data).__name__}")
    return data


def write_npz_with_provenance(path: str | os.PathLike, prov: Mapping[str, Any], **arrays: np.ndarray) -> None:
    """Compressed ``.npz`` of ``arrays`` plus the entry ``provenance`` (a JSON string array), atomically."""
    if PROVENANCE_KEY in arrays:
        raise ParameterError(f"arrays: the name {PROVENANCE_KEY!r} is reserved for the provenance stamp")
    from dirs.common import save_npz_atomic

    save_npz_atomic(path, **arrays, **{PROVENANCE_KEY: np.array(_stamp(prov))})


def read_npz_provenance(path: str | os.PathLike) -> dict[str, Any] | None:
    """The provenance stamp of an ``.npz`` (None if it has none)."""
    path = Path(path)
    z = read_npz(path, optional=(PROVENANCE_KEY,))
    if PROVENANCE_KEY not in z:
        return None
    return _parse_stamp(path, str(z[PROVENANCE_KEY]))


def write_json_with_provenance(path: str | os.PathLike, data: Mapping[str, Any], prov: Mapping[str, Any]) -> None:
    """``data`` plus the key ``provenance``, as JSON, atomically."""
    from dirs.common import write_json_atomic

    write_json_atomic(path, {**dict(data), PROVENANCE_KEY: dict(prov)})


def read_json_provenance(path: str | os.PathLike) -> dict[str, Any] | None:
    """The ``provenance`` key of a JSON file (None if it has none)."""
    data = read_json(path)
    prov = data.get(PROVENANCE_KEY)
    if prov is not None and not isinstance(prov, dict):
        raise InputFileError(path, f"provenance: expected a JSON object, got {type(prov).__name__}")
    return prov


def sidecar(path: str | os.PathLike) -> Path:
    """The provenance sidecar of a CSV: ``<file>.provenance.json``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_csv_with_provenance(path: str | os.PathLike, frame, prov: Mapping[str, Any]) -> None:
    """The CSV ``path`` and its sidecar ``<file>.provenance.json`` (the inputs and the CSV's own
    sha256), both written to temporary files first and then renamed with ``os.replace`` — sidecar
    first, CSV second — so the pair appears together (a kill between the two renames leaves a
    sidecar whose recorded CSV digest disagrees, which :func:`read_csv_provenance` reports)."""

    def write_csv(tmp: Path) -> None:
        frame.to_csv(tmp, index=False, float_format="%.10g")

    from dirs.common import remove_leftovers

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp_csv = _temp_name(path)
    try:
        write_csv(tmp_csv)
        stamp = {"inputs": dict(prov), "file": path.name, "file_sha256": digest(tmp_csv)}
        write_together(
            {
                sidecar(path): lambda tmp: tmp.write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n"),
                path: lambda tmp: os.replace(tmp_csv, tmp),
            }
        )
    finally:
        if tmp_csv.exists():
            tmp_csv.unlink()


def read_csv_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The inputs recorded in a CSV's sidecar; raises if the sidecar is missing, unreadable, or
    describes other bytes than the CSV's (a torn or hand-edited pair)."""
    path = _require_file(path, "CSV")
    side = sidecar(path)
    if not side.is_file():
        raise InputFileError(path, f"has no provenance sidecar {side.name}; regenerate it")
    data = read_json(side, ("inputs", "file_sha256"), what="provenance sidecar")
    if data["file_sha256"] != digest(path):
        raise InputFileError(
            side,
            f"file_sha256: describes other contents than {path} (the CSV changed or the "
            f"pair was written incompletely); regenerate {path.name}",
        )
    if not isinstance(data["inputs"], dict):
        raise InputFileError(side, f"inputs: expected a JSON object, got {type(data['inputs']).__name__}")
    return data["inputs"]


# ---------------------------------------------------------------------------- written together
def _temp_name(path: Path, tag: str = "tmp") -> Path:
    from dirs.common import temp_prefix

    fd, name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=f".{tag}", dir=path.parent)
    os.close(fd)
    os.unlink(name)  # the writer creates a file or a directory here
    return Path(name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_together(writers: Mapping[str | os.PathLike, Callable[[Path], Any]]) -> None:
    """Write several files (or directories) so that they appear together or not at all.

    ``writers`` maps each target path to a function that writes the target's new content at the
    temporary path it is given (a file, or a directory it creates there).  All writers run first;
    if one fails, every temporary is removed and no target is touched.  Then each existing target
    is moved aside and the new one renamed into place; if a rename fails, the targets replaced so
    far are restored.  The old versions are deleted at the end.
    """
    from dirs.common import remove_leftovers

    items = [(Path(p), fn) for p, fn in writers.items()]
    temps: list[tuple[Path, Path]] = []
    try:
        for target, fn in items:
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(target)  # what a killed writer of this target left behind
            tmp = _temp_name(target)
            temps.append((target, tmp))
            fn(tmp)
            if not (tmp.exists() or tmp.is_symlink()):
                raise ParameterError(f"{target}: its writer created nothing at the temporary path {tmp}")
    except BaseException:
        for _, tmp in temps:
            _remove(tmp)
        raise
    done: list[tuple[Path, Path | None]] = []
    try:
        for target, tmp in temps:
            backup = None
            if target.exists() or target.is_symlink():
                backup = _temp_name(target, "old")
                os.replace(target, backup)
            done.append((target, backup))
            os.replace(tmp, target)
    except BaseException:
        for target, backup in reversed(done):
            if backup is not None:
                if target.exists() or target.is_symlink():
                    _remove(target)
                os.replace(backup, target)
            elif target.exists():
                _remove(target)
        for _, tmp in temps:
            if tmp.exists():
                _remove(tmp)
        raise
    for _, backup in done:
        if backup is not None:
            _remove(backup)


__all__ = [
    "InputFileError",
    "read_json",
    "read_npz",
    "load_scenario",
    "load_channels",
    "load_split",
    "read_channels",
    "check_channel_names",
    "load_optimum",
    "load_demos",
    "check_decision_array",
    "check_gain_array",
    "digest",
    "provenance",
    "check_provenance",
    "write_npz_with_provenance",
    "read_npz_provenance",
    "write_json_with_provenance",
    "read_json_provenance",
    "write_csv_with_provenance",
    "read_csv_provenance",
    "sidecar",
    "write_together",
]
