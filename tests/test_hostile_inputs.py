"""
The generator against hostile and broken inputs, run as `make docs` runs it, `python -m
tools.build --strict`, on the fixture site: each input is a clear error in one line (or a problem
at its `file:line`), never a traceback, with the exit status of its kind (1 for a problem in the
sources, 2 for a wrong setting or a file the system refuses); nothing is written, no source is
changed, and nothing a page could run, nor any file from outside the sources, reaches the site.

`CASES` is the table of inputs. `run` runs one and describes what happened, as `clear`,
`traceback`, `silent` (nothing said, something harmful published, or a file added to the
sources) or `lost` (a source changed or deleted); it takes the repository whose generator runs,
so that the same table can be run against another version of it:
`python -m tests.test_hostile_inputs OTHER_CHECKOUT`.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Dict, Tuple

import pytest

from tests.conftest import FIXTURE_SITE

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parent.parent

# What a file outside the sources holds, so that it shows wherever it leaks.
SECRET = 'SECRET-7d1e9'


class Harm(HTMLParser):
    """
    What in published HTML or SVG runs something: a script, frame or plug-in, an event handler,
    an address that runs or embeds.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attributes):
        if tag in ('script', 'iframe', 'object', 'embed', 'foreignobject'):
            self.found.append(f'<{tag}>')
        for name, value in attributes:
            address = re.sub(r'[\s\x00-\x1f]', '', value or '').lower()
            if name.startswith('on') or (name in ('href', 'src', 'xlink:href', 'action') and
                                         address.startswith(('javascript:', 'vbscript:', 'data:'))):
                self.found.append(f'{name}="{value}" in <{tag}>')


def harm(data: bytes) -> list:
    """
    What a published file holds that runs something, or that came from outside the sources.
    """
    text = data.decode('utf-8', 'replace')
    found = [SECRET] if SECRET in text else []
    if text.lstrip().startswith('<'):
        reader = Harm()
        reader.feed(text)
        found += reader.found
    return found

PNG = (FIXTURE_SITE / 'home/tutorial/images/diagram.png').read_bytes()
SCRIPT_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
              '<script>alert(1)</script></svg>')


@dataclass
class Case:
    """
    A hostile input: `make` writes it into the project (the fixture site, with `outside/` beside
    its source folder `home/`); `message` is what the build must say, a pattern; `options`
    follow the roots on the command line; `builds` is true where the right answer is a site,
    and `status` is the exit status of one that is not.
    """
    name: str
    make: Callable[[Path], None]
    message: str
    options: Tuple[str, ...] = ()
    builds: bool = False
    status: int = 1
    out: str = 'site'
    roots: Tuple[str, ...] = ('home',)
    timeout: int = 120
    extra: Dict[str, str] = field(default_factory=dict)


def write(path: Path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def page(text: str) -> Callable[[Path], None]:
    """
    A Markdown page `home/hostile.md` holding `text`.
    """
    return lambda project: write(project / 'home/hostile.md', f'# Hostile\n\n{text}\n')


def notebook(cells) -> str:
    return json.dumps({'nbformat': 4, 'nbformat_minor': 5, 'metadata': {}, 'cells': cells},
                      indent=1)


def link(project: Path, name: str, target: Path):
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, project / name)


def nested_json(project: Path):
    depth = 100_000
    write(project / 'home/deep.ipynb', '{"nbformat": 4, "cells": ' + '[' * depth + ']' * depth
          + '}')


def deep_folders(project: Path):
    write(project / ('home/' + 'd/' * 300 + 'deep.md'), '# Deep\n\nA page 300 folders down.\n')


def long_path(project: Path):
    """
    `x.md` 21 folders of 200 letters down, deeper than any path can name. The folders are made
    one in another, as no path to the deepest is short enough.
    """
    folder = os.open(project / 'home', os.O_RDONLY)
    for _ in range(21):
        os.mkdir('f' * 200, dir_fd=folder)
        inner = os.open('f' * 200, os.O_RDONLY, dir_fd=folder)
        os.close(folder)
        folder = inner
    file = os.open('x.md', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder)
    os.write(file, b'# Far\n')
    os.close(file)
    os.close(folder)


def alias_bomb(project: Path):
    lines = ['---', 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip('abcdefgh', 'bcdefghi'):
        lines.append(f'{name}: &{name} [' + ', '.join([f'*{previous}'] * 9) + ']')
    lines += ['title: *i', '---']
    write(project / 'home/bomb.py', '"""\n' + '\n'.join(lines) + '\n\n# Bomb\n"""\nx = 1\n')


def big_file(project: Path):
    with open(project / 'home/big.md', 'wb') as file:
        file.truncate(50_000_000)


def many_cells(project: Path):
    cells = ','.join(['{"cell_type":"markdown","source":"x"}'] * 1_000_000)
    write(project / 'home/many.ipynb', '{"nbformat":4,"nbformat_minor":5,"metadata":{},'
                                       f'"cells":[{cells}]}}')


def out_holding_a_site(project: Path):
    write(project / 'home/static/site.css', 'body {}\n')


def damaged_cache(project: Path):
    write(project / 'cache/manifest.json', '{"version": 3, "entries": {"index.html": ')


CASES = [
    # Scripts and other HTML that runs, in each kind of source.
    Case('a <script> in a docstring',
         lambda project: write(project / 'home/hostile.py',
                               '"""\n# Hostile\n\n<script>alert(1)</script>\n"""\nx = 1\n'),
         r'^home/hostile\.py:4: the HTML tag <script> is left out of the page'),
    Case('an onerror= attribute in a Markdown file',
         page('Text <img src="x.png" onerror="alert(1)">'),
         r'^home/hostile\.md:3: the attribute `onerror` of <img> is left out of the page'),
    Case('an <iframe> in a markdown cell of a notebook',
         lambda project: write(project / 'home/hostile.ipynb', notebook([
             {'cell_type': 'markdown', 'metadata': {},
              'source': ['# Hostile\n', '<iframe src="https://example.org/"></iframe>\n']}])),
         r'^home/hostile\.ipynb:11: the HTML tag <iframe> is left out of the page'),
    Case('a javascript: address in an <a> of HTML',
         page('<a href="javascript:alert(1)">click</a>'),
         r'^home/hostile\.md:3: the address `javascript:alert\(1\)` of <a href> is left out'),
    Case('a javascript: address hidden by an entity',
         page('<a href="java&#x09;script:alert(1)">click</a>'),
         r'^home/hostile\.md:3: the address `java\tscript:alert\(1\)` of <a href> is left out'),
    Case('a Markdown link to javascript:',
         page('[click](JaVaScRiPt:alert(1))'),
         r'^home/hostile\.md:3: the link JaVaScRiPt:alert\(1\) is left out of the page'),
    Case('a Markdown image from a data: address',
         page('![x](data:image/png;base64,' + base64.b64encode(PNG).decode() + ')'),
         r'^home/hostile\.md:3: the image data:image/png;base64,\S+ is left out of the page'),
    Case('a Markdown link to file:',
         page('[passwords](file:///etc/passwd)'),
         r'^home/hostile\.md:3: the link file:///etc/passwd is left out of the page'),
    Case('a formula that links to javascript:',
         page('$\\href{javascript:alert(1)}{x}$'),
         r'^home/hostile\.md:3: KaTeX cannot typeset the formula .*\\href would link'),
    Case('an SVG picture with a script, shown in the notes',
         lambda project: (write(project / 'home/evil.svg', SCRIPT_SVG),
                          page('![evil](evil.svg)')(project)),
         r'^home/hostile\.md:3: the image evil\.svg: home/evil\.svg holds a <script>'),
    Case('an SVG with a script, linked to',
         lambda project: (write(project / 'home/evil.svg', SCRIPT_SVG),
                          page('[evil](evil.svg)')(project)),
         r'^home/hostile\.md:3: the link evil\.svg: home/evil\.svg holds a <script>'),
    Case('an SVG with a script, among the outputs of a notebook',
         lambda project: write(project / 'home/hostile.ipynb', notebook([
             {'cell_type': 'code', 'metadata': {}, 'execution_count': 1, 'source': ['x = 1'],
              'outputs': [{'output_type': 'display_data', 'metadata': {},
                           'data': {'image/svg+xml': [SCRIPT_SVG]}}]}])),
         r'^home/hostile\.ipynb:\d+: picture 1 of the outputs of cell 1 holds a <script>'),
    Case('a script named in the front matter, without --allow-scripts',
         lambda project: (write(project / 'home/evil.js', 'alert(1);\n'),
                          write(project / 'home/hostile.md',
                                '---\nscripts: [evil.js]\n---\n# Hostile\n')),
         r'^home/hostile\.md:2: the script evil\.js is left out of the page: scripts run in '
         r"readers' browsers, so the build includes them only when given --allow-scripts"),
    # Symbolic links out of the sources.
    Case('a source that is a symbolic link out of the sources',
         lambda project: link(project, 'home/leak.md', project / 'outside/secret.md'),
         r'^home/leak\.md: is a symbolic link to \S+/outside/secret\.md, outside its source '
         r'folder'),
    Case('an image that is a symbolic link out of the sources',
         lambda project: (link(project, 'home/leak.png', project / 'outside/secret.png'),
                          page('![leak](leak.png)')(project)),
         r'^home/hostile\.md:3: the image leak\.png leads to home/leak\.png, a symbolic link to '
         r'\S+/outside/secret\.png, outside its source folder'),
    Case('a dark variant that is a symbolic link out of the sources',
         lambda project: (write(project / 'home/pic.png', PNG),
                          link(project, 'home/pic.dark.png', project / 'outside/secret.png'),
                          page('![pic](pic.png)')(project)),
         r'^home/hostile\.md:3: the image pic\.png: its dark variant home/pic\.dark\.png is a '
         r'symbolic link to \S+/outside/secret\.png, outside its source folder'),
    Case('a folder that is a symbolic link out of the sources',
         lambda project: (link(project, 'home/elsewhere', project / 'outside'),
                          page('[the file](elsewhere/secret.pdf)')(project)),
         r'^home/hostile\.md:3: the link elsewhere/secret\.pdf leads to home/elsewhere/secret\.'
         r'pdf, a symbolic link to \S+/outside/secret\.pdf, outside its source folder'),
    Case('a script that is a symbolic link out of the sources, with --allow-scripts',
         lambda project: (link(project, 'home/leak.js', project / 'outside/secret.md'),
                          write(project / 'home/hostile.md',
                                '---\nscripts: [leak.js]\n---\n# Hostile\n')),
         r'^home/hostile\.md:2: the script leak\.js is left out of the page: home/leak\.js is a '
         r'symbolic link to \S+/outside/secret\.md, outside its source folder',
         options=('--allow-scripts',)),
    Case('a source that is a symbolic link to nothing',
         lambda project: link(project, 'home/dead.md', project / 'nowhere.md'),
         r'^home/dead\.md: is a symbolic link to nothing \(\S+nowhere\.md\)'),
    # Sources that are not what they claim.
    Case('a Markdown file that is not UTF-8',
         lambda project: write(project / 'home/latin.md', '# Café\n'.encode('latin-1')),
         r'^home/latin\.md:1: is not UTF-8 \(byte 0xe9'),
    Case('a NUL byte in a Python file',
         lambda project: write(project / 'home/nul.py', 'x = "\0"\n'),
         r'^home/nul\.py:1: is not valid Python: source code string cannot contain null bytes'),
    Case('a binary file named .py',
         lambda project: write(project / 'home/binary.py', bytes(range(256)) * 8),
         r'^home/binary\.py:2: is not UTF-8 \(byte 0x80'),
    Case('a 50 MB Markdown file', big_file,
         r'^home/big\.md: is 50\.0 MB, more than the 5 MB a source may be'),
    Case('Python nested a million operators deep',
         lambda project: write(project / 'home/nested.py', 'x = ' + '-' * 1_000_000 + '1\n'),
         r'^home/nested\.py: is not valid Python: it nests brackets or operators deeper'),
    Case('a page 300 folders deep', deep_folders, r'^site: 4 pages', builds=True),
    Case('a source deeper than the longest path', long_path,
         r'^\S+\.\.\.f{60}: File name too long; the site in site is not finished, and no '
         r'file of it is half-written', status=2),
    Case('front matter with YAML aliases that expand to a billion values', alias_bomb,
         r'^home/bomb\.py:\d+: the front matter uses the YAML alias `\*a`'),
    Case('an image that claims to be a PNG and is not',
         lambda project: (write(project / 'home/fake.png', b'GIF? no, just text'),
                          page('![fake](fake.png)')(project)),
         r'^home/hostile\.md:3: the image fake\.png: home/fake\.png is not a PNG, GIF, JPEG or '
         r'SVG image'),
    Case('a PNG cut short in its header',
         lambda project: (write(project / 'home/cut.png', PNG[:18]),
                          page('![cut](cut.png)')(project)),
         r'^home/hostile\.md:3: the image cut\.png: home/cut\.png is a PNG without its header'),
    Case('an SVG a googol pixels wide',
         lambda project: (write(project / 'home/huge.svg', '<svg xmlns="http://www.w3.org/2000/'
                                'svg" viewBox="0 0 1e400 10"></svg>'),
                          page('![huge](huge.svg)')(project)),
         r'^home/hostile\.md:3: the image huge\.svg: home/huge\.svg is an SVG without a size'),
    # Notebooks that are not.
    Case('a notebook of a million cells', many_cells,
         r'^home/many\.ipynb: is \d+\.\d MB, more than the 5 MB a source may be'),
    Case('a notebook whose JSON is nested 100,000 deep', nested_json,
         r'^home/deep\.ipynb:1: is not a notebook: its JSON is nested deeper than Python reads'),
    Case('a notebook whose outputs are not a list',
         lambda project: write(project / 'home/bad.ipynb', notebook([
             {'cell_type': 'code', 'source': 'x = 1', 'outputs': 5}])),
         r'^home/bad\.ipynb:1: cell 1 of the notebook has outputs that are not a list'),
    Case('a notebook whose source is a list of numbers',
         lambda project: write(project / 'home/bad.ipynb', notebook([
             {'cell_type': 'markdown', 'source': [1, 2]}])),
         r'^home/bad\.ipynb:1: cell 1 of the notebook has a source that is not text'),
    # Settings.
    Case('--out a source folder that looks like a site', out_holding_a_site,
         r'^--out home and the source folder home are one inside the other', out='home',
         status=2),
    Case('--out /', lambda project: None,
         r'^--out / and the source folder home are one inside the other', out='/', status=2),
    Case('--out a file', lambda project: write(project / 'a-file', 'text\n'),
         r'^--out a-file is a file, not a folder', out='a-file', status=2),
    Case('--out a folder the system will not write',
         lambda project: None,
         r'^/sys/annotated-site: [A-Za-z -]+; the site in /sys/annotated-site is not finished',
         out='/sys/annotated-site', status=2),
    Case('--cache inside a source folder', lambda project: None,
         r'^--cache home/cache and the source folder home are one inside the other',
         options=('--cache', 'home/cache'), status=2),
    Case('--cache a file', lambda project: write(project / 'a-file', 'text\n'),
         r'^--cache a-file is a file, not a folder', options=('--cache', 'a-file'), status=2),
    Case('a cache file cut short', damaged_cache, r'^site: 3 pages \(3 rendered\)', builds=True),
    Case('a source folder outside the project', lambda project: None,
         r'^the source folder \S+/outside is outside the project folder', roots=('../outside',),
         status=2),
    Case('--site-url with quotes',
         lambda project: None, r"""^--site-url 'https://example\.org/"><b>' is not a web """,
         options=('--site-url', 'https://example.org/"><b>'), status=2),
    Case('--source-url javascript:',
         lambda project: None, r"^--source-url 'javascript:alert\(1\)' is not a web address",
         options=('--source-url', 'javascript:alert(1)'), status=2),
    Case('a source named with HTML',
         lambda project: write(project / 'home/<img src=x onerror=alert(1)>.md', '# Named\n'),
         r'^site: 4 pages', builds=True),
]


def files_of(folder: Path) -> Dict[str, bytes]:
    """
    Every file under `folder`, symbolic links as where they lead, by path; but those too deep
    for their path to be opened.
    """
    found = {}
    for directory, _, files in os.walk(folder):
        for name in files:
            path = Path(directory, name)
            try:
                found[str(path.relative_to(folder))] = (os.readlink(path).encode()
                                                        if path.is_symlink() else path.read_bytes())
            except OSError:
                continue
    return found


def prepare(case: Case, folder: Path) -> Path:
    """
    The fixture project in `folder/project`, with a folder `outside/` of secrets beside its
    sources, and the case's input.
    """
    project = Path(shutil.copytree(FIXTURE_SITE, folder / 'project'))
    outside = project / 'outside'
    write(outside / 'secret.md', f'# {SECRET}\n')
    write(outside / 'secret.png', PNG + SECRET.encode())
    write(outside / 'secret.pdf', SECRET)
    case.make(project)
    return project


def run(case: Case, folder: Path, repository: Path = REPOSITORY) -> dict:
    """
    Runs the generator of `repository` on the case, in `folder`; what happened: its exit
    status, output and verdict.
    """
    project = prepare(case, folder)
    project_cwd = project / 'home' if case.roots != ('home',) else project
    sources = files_of(project / 'home')
    out = Path(case.out) if Path(case.out).is_absolute() else project / case.out
    before = files_of(out) if out.is_dir() and out != Path('/') else {}
    command = [sys.executable, '-m', 'tools.build', *case.roots, '--out', case.out,
               '--cache', 'cache', '--strict', *case.options]
    try:
        done = subprocess.run(command, cwd=project_cwd, capture_output=True, text=True,
                              errors='replace', timeout=case.timeout,
                              env=dict(os.environ, PYTHONPATH=str(repository)))
        status, output = done.returncode, done.stderr + done.stdout
    except subprocess.TimeoutExpired:
        status, output = None, f'still running after {case.timeout} s'
    published = {} if out == Path('/') or not out.is_dir() else files_of(out)
    harmful = sorted(f'{name}: {found}' for name, data in published.items() if name not in before
                     for found in harm(data))
    after = files_of(project / 'home')
    if any(after.get(name) != data for name, data in sources.items()):
        verdict = 'lost'
    elif status is None or 'Traceback (most recent call last)' in output:
        verdict = 'traceback' if status is not None else 'hang'
    elif harmful or (status == 0) != case.builds or (set(after) != set(sources)
                                                      and not case.builds):
        verdict = 'silent'
    else:
        verdict = 'clear'
    written = {name for name in published if before.get(name) != published[name]}
    return {'status': status, 'output': output, 'verdict': verdict, 'harmful': harmful,
            'written': written}


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_each_hostile_input_is_a_clear_error_and_nothing_is_written(case, tmp_path):
    result = run(case, tmp_path)
    assert result['verdict'] == 'clear', result['output']
    assert re.search(case.message, result['output'], re.M), result['output']
    assert result['harmful'] == []
    if not case.builds:
        assert result['status'] == case.status and result['written'] == set()
        # One line: a wrong setting, or each problem, and their tally.
        lines = result['output'].splitlines()
        assert len(lines) == 1 or re.match(r'\d+ errors?, \d+ warnings?: ', lines[-1]), lines


def main(repository: str):
    """
    `python -m tests.test_hostile_inputs REPOSITORY`: the verdict on each case of the
    generator of another checkout, and their count.
    """
    import tempfile
    counts: Dict[str, int] = {}
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            result = run(case, Path(folder), Path(repository).resolve())
        counts[result['verdict']] = counts.get(result['verdict'], 0) + 1
        first = (result['output'].strip().splitlines() or [''])[-1 if 'Traceback' in
                                                                 result['output'] else 0]
        print(f'{result["verdict"]:9} | {case.name} | {first[:150]}', flush=True)
    print(', '.join(f'{count} {verdict}' for verdict, count in sorted(counts.items())))


if __name__ == '__main__':
    main(sys.argv[1])
