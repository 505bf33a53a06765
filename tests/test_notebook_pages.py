"""
A notebook is a page: its Markdown cells are the notes, its code cells the code, numbered as
one script, each followed by its outputs as the notebook holds them; the same bytes on every
build, and its mistakes reported at their line of the `.ipynb` file.
"""

import base64
import json
import re

import pytest

from tests.conftest import add_pages, build_site
from tests.test_build import failure, site_files
from tools.images import CODE_WIDTH
from tools.notebook import Output
from tools.page import output_html


@pytest.fixture
def notebook(project) -> str:
    add_pages(project)
    build_site(project)
    return (project / 'site/pages/notebook.html').read_text()


def code_column(html: str) -> str:
    return ''.join(re.findall(r'<div class="code">(.*?)</div>\n</section>', html, re.S))


def test_markdown_cells_are_the_notes_and_code_cells_the_code_beside_them(notebook):
    notes = re.findall(r'<div class="notes">(.*?)</div>', notebook, re.S)
    assert '<h1 id="a-notebook">A notebook</h1>' in notes[0] and 'class="katex"' in notes[0]
    assert '<a href="pictures.html">the pictures</a>' in notes[0]
    assert '<h2 id="a-picture">A picture</h2>' in notes[1]
    assert 'a raw cell' not in notebook
    numbers = [int(number) for number in re.findall(r'data-line="(\d+)"', notebook)]
    # Three cells of code, then two, then one: one script, numbered from 1.
    assert numbers == list(range(1, 8))


def test_each_cell_is_followed_by_its_outputs(notebook):
    code = code_column(notebook)
    order = [code.index(text) for text in ('data-line="3"', 'class="output stdout">done',
                                          'data-line="4"', 'data-line="5"', 'notebook-outputs',
                                          '>42</pre>', 'data-line="6"', 'a &lt; b',
                                          'data-line="7"', 'ZeroDivisionError')]
    assert order == sorted(order)


def test_printed_text_shows_what_a_terminal_would_leave(notebook):
    # Three steps each redrawn over the last, then `done` in green: one line, `done`.
    assert '<pre class="output stdout">done</pre>' in notebook
    assert '<pre class="output stderr">a warning on stderr</pre>' in notebook
    assert '\x1b' not in notebook and '\r' not in notebook


def test_html_output_is_shown_as_its_text_and_never_run(notebook):
    assert '<pre class="output text">a &lt; b</pre>' in notebook
    assert '<table' not in notebook and '<script' not in notebook
    assert 'document.title' not in notebook


def test_an_error_shows_its_traceback(notebook):
    assert '<pre class="output error">ZeroDivisionError: division by zero</pre>' in notebook


def test_a_picture_of_an_output_is_a_file_beside_the_page_with_its_size(project, notebook):
    assert ('<a class="image" href="notebook-outputs/cell-4-1.png"><img '
            'src="notebook-outputs/cell-4-1.png" alt="A picture drawn by the cell" width="320" '
            'height="120" loading="lazy"></a>') in notebook
    cells = json.loads((project / 'home/pages/notebook.ipynb').read_text())['cells']
    png = ''.join(cells[3]['outputs'][0]['data']['image/png'])
    written = project / 'site/pages/notebook-outputs/cell-4-1.png'
    assert written.read_bytes() == base64.b64decode(png)


def test_a_notebook_makes_the_same_bytes_on_every_build(project, tmp_path):
    add_pages(project)
    build_site(project)
    first = site_files(project / 'site')
    build_site(project, out=tmp_path / 'again', cache=tmp_path / 'cache')
    assert site_files(tmp_path / 'again') == first


def test_a_file_that_is_not_json_stops_the_build_at_its_line(project):
    message = failure(project, 'home/broken.ipynb', '{\n "cells": [\n  {,\n')
    assert message.startswith('home/broken.ipynb:3: is not a notebook: its JSON is invalid')


def test_a_notebook_of_another_format_stops_the_build(project):
    message = failure(project, 'home/old.ipynb', json.dumps({'nbformat': 3, 'worksheets': []}))
    assert message.startswith('home/old.ipynb:1: is not a notebook of format 4')


def test_a_mistake_in_a_markdown_cell_is_reported_at_its_line_of_the_notebook(project):
    add_pages(project)
    path = project / 'home/pages/notebook.ipynb'
    text = path.read_text().replace('"The cell below draws a plot, and returns a number."',
                                    '"It costs $5."')
    line = text.split('\n').index('    "It costs $5."') + 1
    problems = failure(project, 'home/pages/notebook.ipynb', text).splitlines()
    assert any(problem.startswith(f'home/pages/notebook.ipynb:{line}: ') and
               'a `$` here neither opens nor closes a formula' in problem
               for problem in problems), problems


def test_a_picture_of_an_output_that_is_no_picture_stops_the_build_at_its_cell(project):
    add_pages(project)
    path = project / 'home/pages/notebook.ipynb'
    cells = json.loads(path.read_text())
    cells['cells'][3]['outputs'][0]['data']['image/png'] = 'bm90IGEgcGljdHVyZQ==\n'
    text = json.dumps(cells, indent=1, sort_keys=True) + '\n'
    line = text.split('\n').index('    "plot()\\n",') + 1
    problems = failure(project, 'home/pages/notebook.ipynb', text).splitlines()
    assert (f'home/pages/notebook.ipynb:{line}: picture 1 of the outputs of cell 4 is not a PNG, '
            "GIF, JPEG or SVG image (it starts with b'not a pi'); run the cell again") in problems


def test_a_picture_wider_than_the_code_column_is_wide_as_a_figure_of_the_notes_is():
    wide = Output('picture', file='x-outputs/cell-1-1.png', size=(CODE_WIDTH + 1, 300))
    narrow = Output('picture', file='x-outputs/cell-1-2.png', size=(CODE_WIDTH, 300))
    assert 'class="wide"' in output_html(wide) and 'class="wide"' not in output_html(narrow)
