"""
---
title: Splitting a source file into sections
summary: How a Python file becomes the sections of its page, found with Python's own parser and
  tokenizer.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from tools.document import Notes, Section
from tools.errors import SourceError, SourceWarning, warn


# The largest source, in bytes: a hundred times the largest of labml-nn, room for a notebook
# with dozens of pictures, and a page that still renders in seconds.
MOST_BYTES = 5_000_000


def read_source(path: Path, name: Path = None) -> str:
    """
    ## Reading a source

    The text of a source file; errors call it `name` (its path in the project, say), or `path`.
    It must be UTF-8: anything else stops the build at the line of the first byte that is not.
    Windows (`\\r\\n`) and old Mac (`\\r`) line ends become `\\n`, and a byte order mark is
    dropped, so that the rest of the generator sees one kind of text. A file of more than
    `MOST_BYTES` is no source a person reads, and is refused before it is read.
    """
    size = Path(path).stat().st_size
    if size > MOST_BYTES:
        raise SourceError(name or path, None, f'is {size / 1e6:.1f} MB, more than the '
                                              f'{MOST_BYTES / 1e6:.0f} MB a source may be: leave '
                                              'it out of the source folders, or split it')
    data = Path(path).read_bytes()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b'\n') + 1
        raise SourceError(name or path, line, f'is not UTF-8 (byte 0x{data[error.start]:02x} '
                                              'cannot start a UTF-8 character); save the file as '
                                              'UTF-8') from None
    return text.removeprefix('\ufeff').replace('\r\n', '\n').replace('\r', '\n')


def split(path: Path, text: str, problems: List[SourceError] = None) -> List[Section]:
    """
    The sections of a Python or Markdown source; a notebook has [a reader of its
    own](notebook.html). Warnings go to `problems` (see [errors](errors.html)).
    """
    if Path(path).suffix == '.md':
        return [Section([Notes(text, 1, 'module')])] if text.strip() else []
    return split_python(path, text, problems)


def split_python(path: Path, text: str, problems: List[SourceError] = None) -> List[Section]:
    """
    ## Splitting Python

    A file that does not parse is an error at the line Python names, and has no page.
    """
    try:
        # Python's warnings about escape sequences are reported better, below, for docstrings.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        # Python names no line for a NUL byte.
        line = error.lineno or text[:text.find('\0')].count('\n') + 1
        raise SourceError(path, line, f'is not valid Python: {error.msg}') from None
    except (MemoryError, RecursionError):
        # What Python's parser raises for brackets or operators nested thousands deep.
        raise SourceError(path, None, 'is not valid Python: it nests brackets or operators '
                                      'deeper than Python can read') from None
    lines = lines_of(text)

    comments, strings = _tokens(text, lines)
    found = _docstrings(path, tree, lines, strings, problems)
    docstrings = {docstring.first: docstring for docstring in found}
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


# A place in a file: the line (from 1) and the character in it (from 0).
Place = Tuple[int, int]


def _tokens(text: str, lines: List[str]) -> Tuple[Dict[int, str], Dict[Place, tokenize.TokenInfo]]:
    """
    ## Comments on lines of their own, and strings

    The text of each comment that is alone on its line, by line number, without the `#` and the
    one space after it; and every string literal, by where it starts (line, character). The
    tokenizer tells a comment from a `#` inside a string. A `#!` on the first line is for the
    shell, not for the reader, and stays in the code.
    """
    comments, strings = {}, {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING:
            strings[token.start] = token
        if token.type != tokenize.COMMENT:
            continue
        number, column = token.start
        if lines[number - 1][:column].strip() or (number == 1 and token.string.startswith('#!')):
            continue
        body = token.string[1:]
        comments[number] = body[1:] if body.startswith(' ') else body
    return comments, strings


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


def _docstrings(path: Path, tree: ast.Module, lines: List[str],
                strings: Dict[Place, tokenize.TokenInfo],
                problems: List[SourceError]) -> List[_Docstring]:
    """
    ## Docstrings

    The docstrings of the module, classes and functions, at any depth. A docstring that shares a
    line with other code (`def f(): "..."`) is left in the code: taking it out would take code
    with it.
    """
    found = []
    for node in _statements(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not node.body or not _is_docstring(node.body[0]):
            continue
        string = node.body[0]
        if not _on_lines_of_its_own(string, lines):
            continue
        text = _docstring_text(path, string, lines, strings, problems)
        kind = 'module' if isinstance(node, ast.Module) else 'docstring'
        first = string.lineno
        if kind != 'module':
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        notes = Notes(_dedent(text), string.lineno, kind)
        found.append(_Docstring(first, string.lineno, string.end_lineno, notes))
    return found


def _statements(tree: ast.Module):
    """
    The module and every statement in it, at any depth. Classes and functions are statements,
    and only statements hold statements, so the expressions, most of the tree, are not visited.
    """
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        yield node
        for name in ('body', 'orelse', 'finalbody', 'handlers', 'cases'):
            nodes.extend(child for child in getattr(node, name, ()) if isinstance(child, ast.AST))


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


# A backslash and the character after it, in the text of a string literal; a doubled backslash
# is one match, so that the backslash after it starts a match of its own.
ESCAPE = re.compile(r'\\(.)', re.DOTALL)
# The characters after a backslash that Python keeps as TeX would: the escapes of a backslash,
# quotes, a line end, and numbered characters. Any other letter is TeX to its author.
PYTHON_ESCAPES = set('\\\'"\n01234567xNuU')
# Those Python turns into control characters: `\\frac` is a form feed and `rac`.
CONTROL_ESCAPES = set('abfnrtv')


def _docstring_text(path: Path, string: ast.Expr, lines: List[str],
                    strings: Dict[Place, tokenize.TokenInfo], problems: List[SourceError]) -> str:
    """
    ## TeX in docstrings

    A docstring is Markdown and TeX, and TeX is full of backslashes. In a docstring that is
    not raw, Python reads `\\frac`, `\\beta`, `\\nabla` and `\\theta` as a form feed, a
    backspace, a new line and a tab followed by letters, and warns about `\\sum` and
    `\\mathbf`, escapes it does not know.

    labml.ai's generator shows a docstring as written in the file, and its sources are written
    for it, so this one does the same wherever a docstring holds such an escape: the text
    between the quotes, as the author typed it, with a warning that Python reads it
    differently, and the fix: make the docstring raw, `r\"\"\"...\"\"\"`, and both agree. A
    docstring whose escapes are all Python's own (`\\\\mathbf` for `\\mathbf`) was written
    for Python, and is read as Python reads it. So is one made of several literals
    (`"a" "b"`), which has no single text as written.
    """
    value = string.value.value
    token = strings.get(_place(lines, string.lineno, string.col_offset))
    if token is None or token.end != _place(lines, string.end_lineno, string.end_col_offset):
        return value
    prefix = token.string[:len(token.string) - len(token.string.lstrip('rRbBuUfF'))]
    quotes = token.string[len(prefix):len(prefix) + 3]
    quotes = quotes if quotes in ('"""', "'''") else quotes[0]
    written = token.string[len(prefix) + len(quotes):len(token.string) - len(quotes)]
    if 'r' in prefix.lower():
        return written
    tex = next((escape for escape in ESCAPE.finditer(written)
                if escape.group(1) in CONTROL_ESCAPES or escape.group(1) not in PYTHON_ESCAPES),
               None)
    if tex is None:
        return value
    command = re.match(r'\\(?:[A-Za-z]+|.)', written[tex.start():], re.DOTALL).group()
    line = string.lineno + written[:tex.start()].count('\n')
    if tex.group(1) in CONTROL_ESCAPES:
        reading = f'as the escape sequence `{command[:2]}`' + ' followed by letters' * (
            len(command) > 2)
    else:
        reading = 'as an escape sequence it does not know, and warns'
    warn(problems, SourceWarning(path, line, f'Python reads `{command}` in this docstring '
                                             f'{reading}; the page shows the docstring as written '
                                             'in the file: make it raw, r"""...""", so that '
                                             'both agree'))
    return written


def _place(lines: List[str], line: int, offset: int) -> Place:
    """
    The place of the parser's (line, UTF-8 byte) in the tokenizer's (line, character).
    """
    return line, len(lines[line - 1].encode()[:offset].decode())


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
