"""
---
title: Splitting a source file into sections
summary: How a Python file becomes the sections of its page, found with Python's own parser and tokenizer.
---

# Splitting a source file into sections

A page is a list of sections, and a section is some notes (Markdown, shown on the left) and the
lines of code they describe (shown on the right). The rules:

* The module docstring, together with the code up to the first comment, is the first section.
* The docstring of a class or a function is a section whose code is the signature: the
  decorators and the `def` or `class` lines. The docstring itself leaves the code column.
* A run of consecutive lines that hold nothing but a `#` comment documents the code that follows
  it, up to the next such run or docstring.
* A comment after code on the same line stays in the code.

Where a `#` is a comment and where a docstring begins and ends is the business of Python's own
[`ast`](https://docs.python.org/3/library/ast.html) and
[`tokenize`](https://docs.python.org/3/library/tokenize.html): a `#` inside a string, a quote
inside an f-string or a docstring that contains `#` or `\"\"\"` would fool any pattern over lines.

Every section keeps the numbers of its code lines in the original file, so that the page shows
them and errors can point at them.

A Markdown file (`readme.md`) is one section of notes without code.
"""

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from tools.errors import SourceError


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


def read_source(path: Path, name: Path = None) -> str:
    """
    ## Reading a source

    The text of a source file; errors call it `name` (its path in the project, say), or `path`.
    It must be UTF-8: anything else stops the build at the line of the first byte that is not.
    Windows (`\\r\\n`) and old Mac (`\\r`) line ends become `\\n`, and a byte order mark is
    dropped, so that the rest of the generator sees one kind of text.
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b'\n') + 1
        raise SourceError(name or path, line, f'is not UTF-8 (byte 0x{data[error.start]:02x} cannot start a '
                                      f'UTF-8 character); save the file as UTF-8') from None
    return text.removeprefix('\ufeff').replace('\r\n', '\n').replace('\r', '\n')


def split(path: Path, text: str) -> List[Section]:
    """
    The sections of a source, by its kind: Python, Markdown, or a [notebook](notebook.html).
    """
    if Path(path).suffix == '.md':
        return [Section([Notes(text, 1, 'module')])] if text.strip() else []
    if Path(path).suffix == '.ipynb':
        # Imported here: the notebook's reader builds on this module's sections.
        from tools.notebook import split_notebook
        return split_notebook(path, text)
    return split_python(path, text)


def split_python(path: Path, text: str) -> List[Section]:
    """
    ## Splitting Python

    A file that does not parse stops the build at the line Python names.
    """
    try:
        # Python's warnings about escape sequences are reported better, below, for docstrings.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise SourceError(path, error.lineno, f'is not valid Python: {error.msg}') from None
    lines = lines_of(text)

    comments = _whole_line_comments(text, lines)
    docstrings = {docstring.first: docstring for docstring in _docstrings(path, tree, lines)}
    # The lines of the docstrings, which leave the code, and those of the signatures, which stay
    # in the code even where they are comments (between a decorator and its `def`, say).
    hidden = {number for d in docstrings.values() for number in range(d.start, d.end + 1)}
    signatures = {number for d in docstrings.values() for number in range(d.first, d.start)}

    # One pass over the lines. A section starts at a docstring's first line, and at the first
    # line of each run of comments; every other line is code of the current section.
    sections = [Section()]
    in_comment_run = False
    for number in range(1, len(lines) + 1):
        if number in docstrings:
            sections.append(Section([docstrings[number].notes]))
            in_comment_run = False
        if number in hidden:
            continue
        if number in comments and number not in signatures:
            if not in_comment_run:
                sections.append(Section([Notes('', number, 'comment')]))
            sections[-1].notes[-1].text += comments[number] + '\n'
            in_comment_run = True
        else:
            sections[-1].code.append(number)
            in_comment_run = False
    return _tidy(sections, lines)


def _whole_line_comments(text: str, lines: List[str]) -> Dict[int, str]:
    """
    ## Comments on lines of their own

    The text of each comment that is alone on its line, by line number, without the `#` and the
    one space after it. The tokenizer tells a comment from a `#` inside a string. A `#!` on the
    first line is for the shell, not for the reader, and stays in the code.
    """
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT:
            continue
        number, column = token.start
        if lines[number - 1][:column].strip() or (number == 1 and token.string.startswith('#!')):
            continue
        body = token.string[1:]
        comments[number] = body[1:] if body.startswith(' ') else body
    return comments


@dataclass
class _Docstring:
    """
    A docstring that becomes a section: `first` is the section's first line (the first decorator,
    the `def` or `class` line, or for a module the docstring itself); the string runs from line
    `start` to line `end`.
    """
    first: int
    start: int
    end: int
    notes: Notes


def _docstrings(path: Path, tree: ast.Module, lines: List[str]) -> List[_Docstring]:
    """
    ## Docstrings

    The docstrings of the module, classes and functions, at any depth. A docstring that shares a
    line with other code (`def f(): "..."`) is left in the code: taking it out would take code
    with it.
    """
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not node.body or not _is_docstring(node.body[0]) or not _on_lines_of_its_own(node.body[0], lines):
            continue
        string = node.body[0]
        _check_escapes(path, string, lines)
        kind = 'module' if isinstance(node, ast.Module) else 'docstring'
        first = string.lineno if kind == 'module' else min([node.lineno] + [d.lineno for d in node.decorator_list])
        notes = Notes(_dedent(string.value.value), string.lineno, kind)
        found.append(_Docstring(first, string.lineno, string.end_lineno, notes))
    return found


def _is_docstring(statement: ast.stmt) -> bool:
    """
    Whether a statement is a string on its own, as the first statement of a body must be to be
    its docstring.
    """
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _on_lines_of_its_own(statement: ast.stmt, lines: List[str]) -> bool:
    """
    Whether nothing but white space precedes the statement on its first line, and nothing but
    white space or a comment follows it on its last. The parser's columns count UTF-8 bytes.
    """
    before = lines[statement.lineno - 1].encode()[:statement.col_offset].decode()
    after = lines[statement.end_lineno - 1].encode()[statement.end_col_offset:].decode().strip()
    return not before.strip() and (not after or after.startswith('#'))


# A backslash escape that Python turns into a control character, with the letters after it:
# `\\frac` is a form feed and `rac`. An even number of backslashes before it escape each other.
CONTROL_ESCAPE = re.compile(r'(?<!\\)(?:\\\\)*(\\[abfnrtv][A-Za-z]*)')


def _check_escapes(path: Path, string: ast.Expr, lines: List[str]):
    """
    ## TeX in docstrings

    In a docstring that is not raw, Python reads `\\frac`, `\\beta`, `\\nabla` and `\\theta` as a
    form feed, a backspace, a new line and a tab followed by letters, and the formula that
    reaches the page is not the one written. Such a docstring stops the build with the advice to
    make it raw. (Other letters, as in `\\sum`, pass through unchanged, with a warning from
    newer Pythons; those that cannot, as in `\\xi`, are syntax errors.)
    """
    source = '\n'.join(lines[string.lineno - 1:string.end_lineno])
    source = source.encode()[string.col_offset:].decode()
    prefix = source[:len(source) - len(source.lstrip('rRbBuUfF'))]
    if 'r' in prefix.lower():
        return
    escape = CONTROL_ESCAPE.search(source)
    if escape:
        line = string.lineno + source[:escape.start(1)].count('\n')
        raise SourceError(path, line, f'`{escape.group(1)}` in this docstring is the escape sequence '
                                      f'`{escape.group(1)[:2]}` to Python, not TeX; make the docstring raw: '
                                      f'r"""..."""')


def _dedent(value: str) -> str:
    """
    A docstring's text without the indentation common to its lines after the first. Unlike
    `inspect.cleandoc`, leading blank lines are kept, so that line `k` of the text is line
    `k` after the opening quotes in the file.
    """
    lines = value.expandtabs().split('\n')
    indent = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()), default=0)
    return '\n'.join([lines[0].strip()] + [line[indent:] for line in lines[1:]])


def _tidy(sections: List[Section], lines: List[str]) -> List[Section]:
    """
    ## Tidying

    Blank lines at either end of a section's code go. A section left without code (notes
    followed by nothing but blank lines, or comments just above a decorated function) gives its
    notes to the next section, so that they sit beside the code they are about. Empty notes and
    empty sections go.
    """
    tidy = []
    carried: List[Notes] = []
    for index, section in enumerate(sections):
        code = section.code
        while code and not lines[code[0] - 1].strip():
            code = code[1:]
        while code and not lines[code[-1] - 1].strip():
            code = code[:-1]
        notes = carried + [n for n in section.notes if n.text.strip()]
        if not code and index + 1 < len(sections):
            carried = notes
            continue
        carried = []
        if notes or code:
            tidy.append(Section(notes, code))
    return tidy


def lines_of(text: str) -> List[str]:
    """
    The lines of a text, numbered from 1 by their index plus one; the `\\n` that ends the last
    line does not start another.
    """
    lines = text.split('\n')
    return lines[:-1] if lines[-1] == '' else lines
