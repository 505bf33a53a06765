"""
---
title: Errors that point at a line
summary: The exceptions of the generator; SourceError names the file and line to fix.
---

# Errors that point at a line

Every problem the generator can find in a source (a syntax error, a file that is not UTF-8, an
invalid formula, a `$` without its partner, a link to an image that is not there) is reported as
a `SourceError`, printed as `path:line: what is wrong`, the form editors and terminals turn into
a link to the line.

Some problems are *errors*: the page cannot be rendered as written (a syntax error, a formula
KaTeX cannot read, a `<script>` that is [left out](sanitise.html)) or would mislead its reader
(a link to nothing). Others are *warnings*,
`path:line: warning: what is odd`: the page renders as its author most likely meant, and
saying so is enough (a docstring that Python reads differently from the page, an unknown
key of the front matter). The command exits with 1 after an error and 0 after warnings alone;
a `--strict` build fails on both ([the build](build.html#problems-strict-or-not)).
"""

from pathlib import Path
from typing import List, Optional


class SourceError(Exception):
    """
    A problem with a source file, at a line (1-based) when one is known.
    """
    # What comes between the place and the message: nothing for an error.
    label = ''

    def __init__(self, path: Path, line: Optional[int], message: str):
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self):
        where = f'{self.path}:{self.line}' if self.line else f'{self.path}'
        return f'{where}: {self.label}{self.message}'


class SourceWarning(SourceError):
    """
    A problem that leaves the page readable as its author meant it.
    """
    label = 'warning: '


def warn(problems: Optional[List[SourceError]], warning: SourceError):
    """
    Records a warning, or an error that leaves the page renderable, in `problems`; a caller
    that passes no list to collect them in gets each one raised, as an error.
    """
    if problems is None:
        raise warning
    problems.append(warning)


class BuildError(Exception):
    """
    A problem with the set-up rather than with a source (no Node.js, no KaTeX, an output folder
    that is not a site); the message says how to fix it.
    """


class BuildFailed(Exception):
    """
    All the problems a build found, so that one run reports them all; printed one a line.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__('\n'.join(str(error) for error in self.errors))
