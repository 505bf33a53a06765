"""
---
title: Errors that point at a line
summary: The one exception of the generator, SourceError, which names the file and line to fix.
---

# Errors that point at a line

Every mistake the generator can find in a source (a syntax error, a file that is not UTF-8, an
invalid formula, a `$` without its partner, a link to an image that is not there) is reported as
a `SourceError`, printed as `path:line: what is wrong`, the form editors and terminals turn into
a link to the line.
"""

from pathlib import Path
from typing import Optional


class SourceError(Exception):
    """
    A problem with a source file, at a line (1-based) when one is known.
    """

    def __init__(self, path: Path, line: Optional[int], message: str):
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self):
        where = f'{self.path}:{self.line}' if self.line else f'{self.path}'
        return f'{where}: {self.message}'


class BuildError(Exception):
    """
    A problem with the set-up rather than with a source (no Node.js, no KaTeX, an output folder
    that is not a site); the message says how to fix it.
    """


class BuildFailed(Exception):
    """
    All the source errors a build found, so that one run reports them all; printed one a line.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__('\n'.join(str(error) for error in self.errors))
