"""
The generator on codebases it was not written with: the annotated sources of labml-nn 0.5.1,
from which labml.ai's own site is made, and files of Python's standard library. Each renders
every page it can, with no raw TeX left for a reader, and every problem left is a real one,
reported at its file and line. The command, run as a newcomer runs it, without options, writes
the site and exits with 1 where errors were reported, with 0 where only warnings were.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import List

import pytest

from tests.test_links import broken_links
from tools.build import build
from tools.errors import SourceWarning

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parent.parent
# `make test` downloads the wheel from the package registry.
WHEEL = Path(__file__).resolve().parent.parent / '.build/wheels/labml_nn-0.5.1-py3-none-any.whl'
# The package is renamed, so that nothing can take it for our own `labml_nn`.
PACKAGE = 'labml_nn_up'


class ReaderText(HTMLParser):
    """
    The text of a page that a reader reads as text: not the `<head>`, code, or typeset math.
    """
    NOT_TEXT = {'head', 'code', 'pre', 'script', 'style'}
    VOID = {'area', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'wbr'}

    def __init__(self):
        super().__init__()
        self.skipping: List[bool] = []
        self.text: List[str] = []

    def handle_starttag(self, tag, attributes):
        if tag not in self.VOID:
            classes = (dict(attributes).get('class') or '').split()
            self.skipping.append(tag in self.NOT_TEXT or 'katex' in classes
                                 or 'katex-display' in classes)

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.skipping.pop()

    def handle_data(self, data):
        if not any(self.skipping):
            self.text.append(data)


def raw_tex(site: Path) -> List[str]:
    """
    Each page whose text shows a `$` or a TeX command, with what it shows.
    """
    found = []
    for page in sorted(site.rglob('*.html')):
        parser = ReaderText()
        parser.feed(page.read_text(encoding='utf-8'))
        shown = re.findall(r'\$|\\[A-Za-z]+', ''.join(parser.text))
        if shown:
            found.append(f'{page.relative_to(site)}: {shown}')
    return found


def formulas_in_sources(folder: Path):
    """
    The formulas the sources hold, counted by patterns over their text, apart from the
    generator's own reading: `$$...$$` and TeX environments outside them are displayed,
    `$...$` on one line is inline. Returns `(displayed, inline)`.
    """
    displayed = inline = 0
    for path in folder.rglob('*.py'):
        text = path.read_text(encoding='utf-8').replace('\\$', '')
        displayed += len(re.findall(r'\$\$.+?\$\$', text, re.S))
        text = re.sub(r'\$\$.+?\$\$', ' ', text, flags=re.S)
        depth = 0
        for edge in re.findall(r'\\(begin|end)\{', text):
            displayed += edge == 'begin' and depth == 0
            depth = depth + 1 if edge == 'begin' else max(0, depth - 1)
        inline += sum(len(re.findall(r'\$[^$\n]+?\$', line)) for line in text.split('\n'))
    return displayed, inline


def formulas_on_pages(site: Path):
    """
    The formulas KaTeX typeset into the pages: `(displayed, inline)`.
    """
    html = ''.join(page.read_text(encoding='utf-8') for page in site.rglob('*.html'))
    displayed = html.count('<span class="katex-display">')
    return displayed, html.count('<span class="katex">') - displayed


@pytest.fixture(scope='module')
def upstream(tmp_path_factory):
    """
    labml-nn 0.5.1's package, renamed, and its site built with `--keep-going`: the project
    folder and the build's report.
    """
    if not WHEEL.is_file():
        missing = f'{WHEEL} is missing: `make test` downloads it from the package registry'
        if os.environ.get('CI'):
            pytest.fail(missing)
        pytest.skip(missing)
    project = tmp_path_factory.mktemp('upstream')
    with zipfile.ZipFile(WHEEL) as wheel:
        for member in wheel.namelist():
            if member.startswith('labml_nn/') and not member.endswith('/'):
                target = project / PACKAGE / member.removeprefix('labml_nn/')
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(wheel.read(member))
    report = build(project, [PACKAGE], project / 'site', project / 'cache', strict=False)
    return project, report


def run_the_command(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    """
    `python -m tools.build ARGUMENTS`, in the folder `project`, with this repository's generator.
    """
    return subprocess.run([sys.executable, '-m', 'tools.build', *arguments], cwd=project,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(REPOSITORY)))


def test_the_command_on_labml_nn_writes_every_page_and_exits_with_1_for_its_errors(upstream):
    project, report = upstream
    # A copy of the cache of the build above, so that KaTeX has no formula left to typeset.
    shutil.copytree(project / 'cache', project / 'cache-command')
    done = run_the_command(project, PACKAGE, '--out', 'site-command', '--cache', 'cache-command')
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stdout.startswith(f'site-command: {report.pages} pages ({report.pages} rendered)')
    pages = sorted(path.relative_to(project / 'site-command')
                   for path in (project / 'site-command').rglob('*.html'))
    assert pages == sorted(path.relative_to(project / 'site')
                           for path in (project / 'site').rglob('*.html'))
    errors = sum(not isinstance(problem, SourceWarning) for problem in report.problems)
    assert done.stderr.splitlines()[-1] == (f'{errors} errors, '
                                            f'{len(report.problems) - errors} warnings')
    assert re.match(rf'{PACKAGE}/\S+:\d+: ', done.stderr)


def test_at_least_97_percent_of_labml_nn_sources_become_pages_and_none_fails(upstream):
    project, report = upstream
    sources = list((project / PACKAGE).rglob('*.py'))
    assert len(sources) > 200 and report.pages >= 0.97 * len(sources)
    assert report.failed == []
    # The sources without a page are those with nothing to show.
    pages = {path.relative_to(project / 'site') for path in (project / 'site').rglob('*.html')}
    for source in sources:
        relative = source.relative_to(project / PACKAGE)
        page = relative.parent / ('index.html' if source.name == '__init__.py'
                                  else source.stem + '.html')
        assert page in pages or not source.read_text().strip(), source


def test_no_page_of_labml_nn_shows_raw_tex_or_dollars(upstream):
    project, _ = upstream
    assert raw_tex(project / 'site') == []


def test_the_formulas_of_labml_nn_are_typeset_within_2_percent_of_those_its_sources_hold(upstream):
    project, _ = upstream
    displayed, inline = formulas_in_sources(project / PACKAGE)
    typeset_displayed, typeset_inline = formulas_on_pages(project / 'site')
    assert displayed > 400 and inline > 2500
    assert abs(typeset_displayed - displayed) <= 0.02 * displayed
    assert abs(typeset_inline - inline) <= 0.02 * inline


def test_every_error_left_in_labml_nn_is_a_link_or_an_image_to_nothing_at_its_line(upstream):
    project, report = upstream
    errors = [problem for problem in report.problems if not isinstance(problem, SourceWarning)]
    assert errors
    for error in errors:
        assert error.line and (project / error.path).is_file(), error
        missing = re.fullmatch(r'the (?:link|image) \S+ leads to (\S+), which does not exist.*',
                               error.message)
        if missing:
            assert not (project / missing.group(1)).exists(), error
        else:
            assert re.fullmatch(r'the link \S+ leads (?:out of \S+, out of the site|to no anchor '
                                r'of this page: .*)', error.message), error


def test_the_warnings_left_in_labml_nn_are_of_the_kinds_that_render_as_meant(upstream):
    _, report = upstream
    kinds = {re.sub(r'`[^`]*`', '`...`', problem.message).split(';')[0].split(':')[0]
             for problem in report.problems if isinstance(problem, SourceWarning)}
    assert kinds == {
        'Python reads `...` in this docstring as the escape sequence `...` followed by letters',
        'Python reads `...` in this docstring as an escape sequence it does not know, and warns',
        'unknown front matter key `...`, left out',
        '`...` has a space before its closing `...`'}


def test_labml_nn_links_to_folders_and_names_without_extensions_lead_to_pages(upstream):
    project, _ = upstream
    simple = (project / 'site/transformers/glu_variants/simple.html').read_text()
    assert 'href="../../index.html"' in simple and 'href="../feed_forward.html"' in simple
    assert 'href="samples/index.html"' in (project / 'site/neox/index.html').read_text()
    # Anchors on other pages are not checked by the build; every other local link resolves.
    assert all(re.search(r'\.html#\S+ leads to no such anchor$', link)
               for link in broken_links(project / 'site'))


def test_labml_nn_pages_without_front_matter_are_named_by_their_first_heading(upstream):
    project, _ = upstream
    home = (project / 'site/index.html').read_text()
    assert '<title>Annotated Research Paper Implementations: Transformers, StyleGAN' in home


def test_a_rebuild_of_labml_nn_with_nothing_changed_renders_nothing_and_reports_the_same(upstream):
    project, report = upstream
    again = build(project, [PACKAGE], project / 'site', project / 'cache', strict=False)
    assert again.rendered == [] and again.written == []
    assert list(map(str, again.problems)) == list(map(str, report.problems))


# Files of the standard library, which know nothing of Markdown or TeX: reStructuredText
# docstrings, doctests, plain comments.
STANDARD_LIBRARY = ('argparse.py', 'colorsys.py', 'shlex.py', 'string.py', 'textwrap.py')


def test_files_of_the_standard_library_each_render_as_a_page_under_a_made_home_page(tmp_path):
    stdlib = Path(sysconfig.get_paths()['stdlib'])
    (tmp_path / 'stdlib').mkdir()
    for name in STANDARD_LIBRARY:
        shutil.copy(stdlib / name, tmp_path / 'stdlib' / name)
    report = build(tmp_path, ['stdlib'], tmp_path / 'site', tmp_path / 'cache', strict=False)
    assert report.failed == [] and report.pages == len(STANDARD_LIBRARY) + 1
    assert all(isinstance(problem, SourceWarning) and problem.line
               for problem in report.problems)
    home = (tmp_path / 'site/index.html').read_text()
    assert '<title>stdlib</title>' in home
    for name in STANDARD_LIBRARY:
        assert f'<a href="{name[:-3]}.html">{name}</a>' in home
    # The module docstring is the summary, and the notes beside the code.
    assert 'Text wrapping and filling.' in home
    assert 'Conversion functions between RGB and other color systems.' in (
        tmp_path / 'site/colorsys.html').read_text()
    assert broken_links(tmp_path / 'site') == []


def test_the_command_on_files_of_the_standard_library_exits_with_0_and_prints_its_warnings(
        tmp_path):
    stdlib = Path(sysconfig.get_paths()['stdlib'])
    (tmp_path / 'stdlib').mkdir()
    for name in STANDARD_LIBRARY:
        shutil.copy(stdlib / name, tmp_path / 'stdlib' / name)
    done = run_the_command(tmp_path, 'stdlib', '--out', 'site', '--cache', 'cache')
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f'site: {len(STANDARD_LIBRARY) + 1} pages')
    warnings = done.stderr.splitlines()
    assert warnings[-1].startswith('0 errors, ') and len(warnings) > 1
    assert all(re.match(r'stdlib/\w+\.py:\d+: warning: ', line) for line in warnings[:-1])
