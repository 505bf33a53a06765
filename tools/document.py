"""
---
title: The document
summary: Notes, sections and pages, and the formulas and links found in the notes; the plain data
  that every other file of the generator reads or writes.
---

# The document

What a source is made into, before any of it is HTML. The [readers](split.html) fill it in,
the renderers read it; it knows nothing of either, so every other file can import it.

* A **page** is a source and the place of its page in the site, with its **sections**.
* A section is some **notes** (Markdown, shown on the left) and the numbers of the lines of
  code they describe (shown on the right).
* Once [parsed](markdown.html), notes are Markdown's tokens, with the **formulas** and the
  **references** (links and images) found in them, each at its line, so that a problem with
  one is reported where it is written.
"""

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import List, Tuple

from markdown_it.token import Token


@dataclass
class Notes:
    """
    ## Notes

    A piece of Markdown and the line of the source its first line came from, so that a mistake
    found while rendering it can be reported at its line. `kind` is `module` for the docstring of
    the module (where the front matter lives), `docstring` for that of a class or function, and
    `comment` for a run of `#` comments.
    """
    text: str
    line: int
    kind: str


@dataclass
class Section:
    """
    ## Section

    Notes and the numbers (from 1) of the lines of code they describe.
    """
    notes: List[Notes] = field(default_factory=list)
    code: List[int] = field(default_factory=list)


@dataclass
class Page:
    """
    ## A page

    `source` is the file's path in the project, `output` the page's path in the site and `root`
    the source folder it was found in, all with `/` whatever the system. The other fields are
    filled by the build.
    """
    source: PurePosixPath
    output: PurePosixPath
    root: PurePosixPath
    text: str = ''
    sections: List[Section] = field(default_factory=list)
    title: str = ''
    summary: str = ''

    @property
    def folder(self) -> PurePosixPath:
        return self.output.parent

    @property
    def is_index(self) -> bool:
        return self.output.name == 'index.html'


@dataclass
class Formula:
    """
    ## What the notes hold

    A formula as written, whether it is displayed, and where it is.
    """
    tex: str
    display: bool
    path: Path
    line: int

    @property
    def key(self) -> Tuple[bool, str]:
        return self.display, self.tex


@dataclass
class Reference:
    """
    A link or an image: its target as written, and its line. The build may point its `token`
    elsewhere (`ppo/` to `ppo/index.html`), or make it plain text where it leads nowhere.
    """
    target: str
    image: bool
    line: int
    token: Token = field(default=None, compare=False, repr=False)


@dataclass
class ParsedNotes:
    """
    The tokens of some notes, with the formulas and references found in them.
    """
    tokens: List[Token]
    env: dict
    formulas: List[Formula]
    references: List[Reference]
