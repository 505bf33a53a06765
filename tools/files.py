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
"""

import os
import tempfile
from pathlib import Path


def write_if_changed(path: Path, data: bytes) -> bool:
    """
    Write `data` to `path` through a temporary file, unless the file holds it already.
    Returns whether it wrote.
    """
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.',
                                             suffix='.tmp')
    try:
        with os.fdopen(descriptor, 'wb') as file:
            file.write(data)
        # `mkstemp` makes files only their owner can read; a page is for everyone.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return True
