"""
---
title: Notebooks
summary: A Jupyter notebook is a page like the others, its Markdown cells the notes and its code
  cells the code, each shown with its outputs.
---

# Notebooks

A notebook `x.ipynb` becomes the page `x.html`, laid out as a Python file is:

* a Markdown cell is notes, and the code cells that follow it are the code beside them, as
  the code that follows a comment is in a Python file;
* the code cells are numbered as one script, the way `jupyter nbconvert --to script` would
  write them, and each is followed by its outputs, in the code column;
* raw cells, which a notebook passes on to other tools, are not shown.

The notebook is not run: it is committed with its outputs, which the page shows as they are,
so the page is the same, byte for byte, on every build, and a build needs no kernel. The
outputs are shown as a reader of the notebook sees them:

* text, printed (`stream`) or returned (`text/plain`), as text; the colours of a terminal
  (ANSI escapes) are taken out, and a line redrawn with `\\r`, as a progress bar does,
  shows its last state;
* pictures (PNG, JPEG, SVG) as image files beside the page, `x-outputs/cell-3-1.png` for the
  first picture of the third cell, with their size; a notebook draws them for light screens,
  most often dark on white, and has no dark variant to offer, so on a dark screen each sits on
  a light card, padded and rounded, a figure on the page rather than a white hole in it;
* HTML as its text: a page runs nothing a notebook holds, nor takes its styles;
* an error as its traceback; any other type is named, and not shown.

A file that is not a notebook stops the build at its line, as a syntax error does; so does a
mistake in the Markdown of a cell, at the cell's line in the `.ipynb` file.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Dict, List, Optional, Tuple

from tools.document import Notes, Section
from tools.errors import SourceError
from tools.image_files import image_size

# Pictures of a notebook's outputs, by type, and the suffix of their files.
PICTURE_TYPES = {'image/png': '.png', 'image/jpeg': '.jpg', 'image/svg+xml': '.svg'}

# A terminal's colour or cursor escape, `\x1b[31m` say.
ANSI_ESCAPE = re.compile(r'\x1b\[[0-?]*[ -/]*[@-~]')

# What `text/plain` says of an object that shows itself as HTML only.
OBJECT_REPR = re.compile(r'<[\w.]+ object( at 0x[0-9a-f]+)?>')


@dataclass
class Output:
    """
    One output of a code cell: text (`kind` is `stdout` or `stderr` for printed text, `text`
    for a result, `error`), or a `picture`, with its file's name beside the page, its bytes and
    its size.
    """
    kind: str
    text: str = ''
    file: Optional[str] = None
    data: bytes = b''
    size: Tuple[int, int] = (0, 0)


@dataclass
class Notebook:
    """
    What a page needs of a notebook: its sections, its code cells as one script, `code`, and
    the outputs of each code cell (maybe none) by the line of the script that ends the cell.
    """
    sections: List[Section]
    code: str
    outputs: Dict[int, List[Output]] = field(default_factory=dict)


def read_notebook(path: PurePosixPath, text: str) -> Notebook:
    """
    ## Reading a notebook

    `path` is the notebook's path in the project, for errors and for the names of its pictures.
    """
    cells = _cells(path, text)
    lines = _source_lines(text, len(cells))
    # Code before the first Markdown cell has a section without notes.
    sections = [Section()]
    script: List[str] = []
    outputs: Dict[int, List[Output]] = {}
    for number, (cell, line) in enumerate(zip(cells, lines), start=1):
        source = _text(cell.get('source', ''))
        # A Markdown cell opens a section; the first cell is the notebook's docstring, where
        # front matter may be, as in a Python file.
        if cell['cell_type'] == 'markdown':
            kind = 'module' if number == 1 else 'comment'
            sections.append(Section([Notes(source, line, kind)]))
        # A code cell's lines go on the script, and into the current section.
        elif cell['cell_type'] == 'code' and source.strip():
            start = len(script) + 1
            script.extend(source.rstrip().split('\n'))
            sections[-1].code.extend(range(start, len(script) + 1))
            outputs[len(script)] = _outputs(path, number, line, cell.get('outputs', []))
    sections = [section for section in sections if section.notes or section.code]
    return Notebook(sections, '\n'.join(script) + '\n' if script else '', outputs)


def split_notebook(path: PurePosixPath, text: str) -> List[Section]:
    """
    The sections of a notebook, for the build's reading of every source.
    """
    return read_notebook(path, text).sections


def _cells(path: PurePosixPath, text: str) -> List[dict]:
    """
    The cells of a notebook, checked to be those of a notebook of format 4.
    """
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(path, error.lineno, f'is not a notebook: its JSON is invalid '
                                              f'({error.msg})') from None
    except RecursionError:
        raise SourceError(path, 1, 'is not a notebook: its JSON is nested deeper than Python '
                                   'reads') from None
    if not isinstance(notebook, dict) or notebook.get('nbformat') != 4 or \
            not isinstance(notebook.get('cells'), list):
        raise SourceError(path, 1, 'is not a notebook of format 4 (nbformat 4, with a list of '
                                   'cells); save it again with a current Jupyter')
    for number, cell in enumerate(notebook['cells'], start=1):
        problem = _cell_problem(cell)
        if problem:
            raise SourceError(path, 1, f'cell {number} of the notebook {problem}; save it again '
                                       'with a current Jupyter')
    return notebook['cells']


def _cell_problem(cell) -> str:
    """
    What is wrong with a cell, as the format of notebooks has it; nothing for a sound one. Its
    text is a string or a list of strings; a code cell's outputs are a list of objects, each
    of whose texts is one too.
    """
    if not isinstance(cell, dict) or cell.get('cell_type') not in ('markdown', 'code', 'raw'):
        return 'is not a markdown, code or raw cell'
    if not _is_text(cell.get('source', '')):
        return 'has a source that is not text'
    outputs = cell.get('outputs', []) if cell['cell_type'] == 'code' else []
    if not isinstance(outputs, list) or not all(isinstance(output, dict) for output in outputs):
        return 'has outputs that are not a list of outputs'
    for output in outputs:
        data = output.get('data', {})
        texts = [output.get('text', ''), output.get('traceback', [])]
        if isinstance(data, dict):
            texts += [data[mime] for mime in data if mime.startswith(('text/', 'image/'))]
        if not isinstance(data, dict) or not all(map(_is_text, texts)):
            return 'has an output whose text or picture is not text'
    return ''


def _is_text(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and
                                      all(isinstance(line, str) for line in value))


def _source_lines(text: str, count: int) -> List[int]:
    """
    ## Lines for errors

    The line of the `.ipynb` file that holds the first line of each cell, so that a mistake in
    a cell is reported where it is. Jupyter writes a cell's keys indented by three spaces and
    each line of its source on a line of its own, so the `n`-th line of a cell is `n` lines
    after its `"source": [`. A file laid out otherwise has its mistakes reported at line 1.
    """
    found = [number + (1 if line.rstrip().endswith('[') else 0)
             for number, line in enumerate(text.split('\n'), start=1)
             if line.startswith('   "source": ')]
    return found if len(found) == count else [1] * count


def _text(value) -> str:
    """
    A notebook's text is a string, or a list of lines that each end with their `\\n`.
    """
    return ''.join(value) if isinstance(value, list) else str(value)


def _outputs(path: PurePosixPath, cell: int, line: int, outputs: List[dict]) -> List[Output]:
    """
    ## Outputs

    The outputs of cell number `cell`, at `line`, as they are shown.
    """
    shown: List[Output] = []
    pictures = 0
    for output in outputs:
        kind = output.get('output_type')
        # Consecutive text of one stream is one output, as Jupyter shows it: a progress bar
        # may redraw its line across them.
        if kind == 'stream':
            stream = 'stderr' if output.get('name') == 'stderr' else 'stdout'
            text = _text(output.get('text', ''))
            if shown and shown[-1].kind == stream:
                shown[-1].text += text
            else:
                shown.append(Output(stream, text))
        elif kind == 'error':
            shown.append(Output('error', '\n'.join(output.get('traceback', []))
                                or f'{output.get("ename")}: {output.get("evalue")}'))
        # A result or a display: its picture if it has one, else its text.
        elif kind in ('execute_result', 'display_data'):
            data = output.get('data', {})
            picture = next((mime for mime in PICTURE_TYPES if mime in data), None)
            if picture is None:
                shown.append(Output('text', _plain(data)))
                continue
            pictures += 1
            try:
                shown.append(_picture(path, cell, pictures, picture, _text(data[picture])))
            except ValueError as problem:
                raise SourceError(path, line, f'picture {pictures} of the outputs of cell {cell} '
                                              f'{problem}; run the cell again') from None
    for output in shown:
        output.text = _terminal(output.text)
    return [output for output in shown if output.file or output.text.strip()]


def _picture(path: PurePosixPath, cell: int, number: int, mime: str, data: str) -> Output:
    """
    A picture of an output, as the file `x-outputs/cell-3-1.png` beside the page, with its
    size; a `ValueError` when it is no picture. PNG and JPEG are stored in base64, SVG as text.
    """
    try:
        content = data.encode() if mime == 'image/svg+xml' else base64.b64decode(data)
    except binascii.Error:
        raise ValueError('is not valid base64') from None
    name = f'{path.stem}-outputs/cell-{cell}-{number}{PICTURE_TYPES[mime]}'
    return Output('picture', file=name, data=content, size=image_size(content))


def _plain(data: Dict[str, object]) -> str:
    """
    The text of a result or display without a picture: its `text/plain`, unless that only
    names an object that shows itself as HTML, whose text is then shown; other types are
    named.
    """
    plain = _text(data.get('text/plain', ''))
    if 'text/html' in data and (not plain or OBJECT_REPR.fullmatch(plain.strip())):
        return _html_text(_text(data['text/html']))
    if plain:
        return plain
    return f'(an output of type {", ".join(sorted(data)) or "none"}, not shown here)'


class _TextOfHtml(HTMLParser):
    """
    The text of some HTML, without its tags, scripts and styles.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attributes):
        self.hidden += tag in ('script', 'style')
        if tag in ('br', 'p', 'div', 'tr', 'li'):
            self.parts.append('\n')

    def handle_endtag(self, tag):
        self.hidden -= tag in ('script', 'style') and self.hidden > 0

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return ''.join(parser.parts).strip('\n')


def _terminal(text: str) -> str:
    """
    Text as a terminal would leave it: without colour escapes, and each line redrawn with `\\r`
    at its last state.
    """
    lines = []
    for line in ANSI_ESCAPE.sub('', text).split('\n'):
        drawn = [part for part in line.split('\r') if part]
        lines.append(drawn[-1] if drawn else '')
    return '\n'.join(lines).rstrip('\n')


def notebook_files(page_output: PurePosixPath, notebook: Notebook) -> Dict[PurePosixPath, bytes]:
    """
    The pictures of a notebook's outputs, by their path in the site.
    """
    return {page_output.parent / output.file: output.data
            for outputs in notebook.outputs.values() for output in outputs if output.file}
