"""
---
title: Writing files
summary: Every file of the site is written to a temporary file and renamed, and only when its
  content changed.
---

# Writing files

A build that is interrupted (by an error, Ctrl-C, a full disk) must never leave a page half
written, which a reader or a later build would take for a whole one. So each file is written
next to its final place under a temporary name, and renamed over the old file once complete:
on one file system a rename replaces the old file at once, never partly.

A file whose content has not changed is not written at all, which keeps its modification time,
and makes "nothing changed" cheap to see.

The files of a site are written in two steps: every changed file to its temporary file first,
then each renamed over its old file. Writing is what fails, for want of room, of a permission,
or of a path short enough; renaming next to the file does not. So a build that cannot write
one of its files changes none, and the site stays the one that was there, whole.

## The cache

The build keeps what it worked out in JSON files in its cache folder (`.build/`), each with
the version of its layout and a digest of what it holds. A file of another version, or
damaged (cut short, edited by hand, not JSON), is not read: the build works everything out
again, which is slower, and the same.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List


def write_if_changed(path: Path, data: bytes) -> bool:
    """
    Write `data` to `path` through a temporary file, unless the file holds it already.
    Returns whether it wrote.
    """
    return bool(write_files({Path(path): data}))


def write_files(files: Dict[Path, bytes]) -> List[Path]:
    """
    Writes each of `files` whose content changed, all or none; returns those written.
    """
    changed = [(path, data) for path, data in files.items()
               if not (path.is_file() and path.read_bytes() == data)]
    # The folders to make, deepest first.
    folders = sorted({folder for path, _ in changed for folder in [path.parent, *path.parents]
                      if not folder.exists()}, key=lambda folder: len(folder.parts), reverse=True)
    temporaries: List[str] = []
    try:
        for path, data in changed:
            temporaries.append(_temporary(path, data))
        for (path, _), temporary in zip(changed, temporaries):
            os.replace(temporary, path)
    except BaseException:
        # The temporary files not renamed yet, and the folders made for them, go.
        for temporary in temporaries:
            if os.path.exists(temporary):
                os.unlink(temporary)
        for folder in folders:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return [path for path, _ in changed]


def _temporary(path: Path, data: bytes) -> str:
    """
    A temporary file beside `path`, holding `data`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.',
                                             suffix='.tmp')
    try:
        with os.fdopen(descriptor, 'wb') as file:
            file.write(data)
        # `mkstemp` makes files only their owner can read; a page is for everyone.
        os.chmod(temporary, 0o644)
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def read_cache(path: Path, version) -> dict:
    """
    What the cache file `path` holds, if it is of `version` and whole; `{}` otherwise.
    """
    try:
        stored = json.loads(Path(path).read_bytes())
        entries = stored['entries']
        whole = stored['version'] == version and stored['digest'] == _digest(entries)
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    return entries if whole and isinstance(entries, dict) else {}


def write_cache(path: Path, version, entries: dict):
    stored = {'version': version, 'digest': _digest(entries), 'entries': entries}
    write_if_changed(path, json.dumps(stored, sort_keys=True).encode())


def _digest(entries) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
