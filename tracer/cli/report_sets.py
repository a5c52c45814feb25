"""A dataset's report set under the output root of `tracer refresh`, replaced whole or not at all.

The set is written into a fresh folder that this process creates beside the dataset's folder,
inside the output root, and then switched in by renaming. A full disk or a signal while it is
written leaves the previous set as it was; nothing is ever written through a symbolic link, so
a link planted inside the output root cannot carry a report (or its overwrite) outside it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from tracer.catalog import Dataset
from tracer.errors import DataError
from tracer.store import Store

Writer = Callable[[Store, Dataset, Path, Sequence[str]], list[str]]

_NEW, _OLD = ".new", ".old"


def prepare_root(out: Path) -> Path:
    """The output root, made if missing; an existing file there is an error."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DataError(f"The output folder {out} is a file.") from None
    except OSError as exc:
        raise DataError(f"Cannot make the output folder {out}: {exc.strerror or exc}.") from None
    return out.resolve()


def dataset_folder(root: Path, key: str) -> Path:
    """ROOT/KEY, refused when it is anything but a real folder (or absent)."""
    if key in {"", ".", ".."} or "/" in key or os.sep in key or key.startswith("."):
        raise DataError(f"The dataset key {key!r} cannot name a folder of reports.")
    folder = root / key
    if folder.is_symlink():
        raise DataError(
            f"{folder} is a symbolic link; reports are written only into real folders inside "
            f"the output folder {root}.",
        )
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is not a folder; its reports cannot be written there.")
    return folder


def _sweep(root: Path, key: str) -> None:
    """Folders that a killed run left half-written or half-switched."""
    for leftover in root.glob(f".{key}.*"):
        if leftover.name.endswith((_NEW, _OLD)) and leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


def replace_set(
    write: Writer, store: Store, dataset: Dataset, root: Path, formats: Sequence[str]
) -> list[str]:
    """Write the dataset's reports into a fresh folder, then switch it in for ROOT/KEY.
    Returns the paths of the reports as they are once switched in."""
    folder = dataset_folder(root, dataset.key)
    _sweep(root, dataset.key)
    try:
        fresh = Path(tempfile.mkdtemp(prefix=f".{dataset.key}.", suffix=_NEW, dir=root))
    except OSError as exc:
        raise DataError(f"Cannot write into {root}: {exc.strerror or exc}.") from None
    try:
        written = write(store, dataset, fresh, formats)
        os.chmod(fresh, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the reports from a server
        _switch(fresh, folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return [str(folder / Path(p).relative_to(fresh)) for p in written]


def _switch(fresh: Path, folder: Path) -> None:
    """Rename `fresh` to `folder`; an existing `folder` is moved aside first and removed
    after. Between the two renames the folder is absent for an instant, never mixed."""
    if not folder.exists():
        os.rename(fresh, folder)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=_OLD, dir=folder.parent))
    os.rmdir(aside)  # a unique name, free for the rename
    os.rename(folder, aside)
    try:
        os.rename(fresh, folder)
    except BaseException:
        os.rename(aside, folder)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
