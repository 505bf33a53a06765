"""
The build: which source becomes which file, the same bytes from the same sources, only what
changed rendered again, problems reported at their lines, strict or rendering every page it
can, and no half-written page, ever.
"""

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.conftest import build_site
from tests.test_links import broken_links
from tools import build as build_module
from tools import files
from tools.errors import BuildError, BuildFailed


def site_files(folder: Path):
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob('*')) if path.is_file()}


def test_each_source_becomes_its_page_and_images_are_copied_beside_it(project):
    build_site(project)
    site = project / 'site'
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob('*.html'))
    assert pages == ['index.html', 'tutorial/index.html', 'tutorial/readme.html']
    assert (site / 'tutorial/images/diagram.png').read_bytes() == (project / 'home/tutorial/images/diagram.png').read_bytes()
    assert (site / 'static/site.css').is_file() and (site / 'static/pygments.css').is_file()
    assert (site / 'katex/katex.min.css').is_file() and list((site / 'katex/fonts').glob('KaTeX_Main-Regular.woff2'))


def test_other_source_folders_keep_their_name_and_x_py_becomes_x_html(project):
    (project / 'extra').mkdir()
    (project / 'extra' / 'tool.py').write_text('"""\n# A tool\n"""\n\nx = 1\n')
    (project / 'extra' / 'test_tool.py').write_text('def test_x():\n    pass\n')
    build_site(project, roots=('home', 'extra'))
    assert (project / 'site/extra/tool.html').is_file()
    assert not (project / 'site/extra/test_tool.html').exists()


def test_the_same_sources_give_byte_identical_sites_wherever_they_are_built(project, tmp_path):
    elsewhere = Path(shutil.copytree(project, tmp_path / 'somewhere' / 'else'))
    build_site(project)
    build_site(elsewhere)
    first, second = site_files(project / 'site'), site_files(elsewhere / 'site')
    assert first == second
    for name, data in first.items():
        assert str(tmp_path).encode() not in data, f'{name} holds an absolute path'


def test_a_rebuild_with_nothing_changed_renders_and_writes_nothing(project):
    first = build_site(project)
    assert len(first.rendered) == 3
    again = build_site(project)
    assert again.rendered == [] and again.written == [] and again.removed == []


def test_a_changed_source_renders_its_own_page_again_and_no_other(project):
    build_site(project)
    readme = project / 'home/tutorial/readme.md'
    readme.write_text(readme.read_text() + '\nOne more line.\n')
    report = build_site(project)
    assert report.rendered == ['tutorial/readme.html']
    assert report.written == ['tutorial/readme.html', 'tutorial/readme.md.txt']


def test_a_changed_title_renders_again_the_pages_that_show_it(project):
    build_site(project)
    readme = project / 'home/tutorial/readme.md'
    readme.write_text(readme.read_text().replace('title: Readme of the tutorial', 'title: The readme'))
    report = build_site(project)
    assert sorted(report.rendered) == ['index.html', 'tutorial/index.html', 'tutorial/readme.html']


def test_a_page_changed_in_the_site_is_written_again(project):
    build_site(project)
    page = project / 'site/tutorial/index.html'
    original = page.read_bytes()
    page.write_text('edited by hand')
    assert build_site(project).rendered == ['tutorial/index.html']
    assert page.read_bytes() == original


def test_a_page_whose_source_is_gone_leaves_the_site(project):
    extra = project / 'home/tutorial/extra.py'
    extra.write_text('x = 1\n')
    build_site(project)
    assert (project / 'site/tutorial/extra.html').is_file()
    extra.unlink()
    report = build_site(project)
    assert report.removed == ['tutorial/extra.py.txt', 'tutorial/extra.html']
    assert not (project / 'site/tutorial/extra.html').exists()


def test_a_folder_that_is_not_a_site_is_not_used_as_one(project):
    (project / 'site').mkdir()
    (project / 'site' / 'precious.txt').write_text('keep me')
    with pytest.raises(BuildError) as error:
        build_site(project)
    assert 'holds files but no static/site.css' in str(error.value)
    assert (project / 'site' / 'precious.txt').read_text() == 'keep me'


def test_the_sitemap_is_valid_xml_listing_every_page_at_the_given_address(project):
    build_site(project, site_url='https://example.org/capsules/')
    data = (project / 'site/sitemap.xml').read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    namespace = {'s': 'http://www.sitemaps.org/schemas/sitemap/0.9'}
    locations = [loc.text for loc in ElementTree.fromstring(data).findall('s:url/s:loc', namespace)]
    assert locations == ['https://example.org/capsules/', 'https://example.org/capsules/tutorial/',
                         'https://example.org/capsules/tutorial/readme.html']


def test_without_a_site_url_there_is_no_sitemap_and_a_stale_one_goes(project):
    build_site(project, site_url='https://example.org/capsules/')
    assert (project / 'site/sitemap.xml').is_file()
    report = build_site(project)
    assert 'sitemap.xml' in report.removed and not (project / 'site/sitemap.xml').exists()


def test_view_source_leads_to_a_copy_of_the_source_beside_its_page(project):
    build_site(project)
    site = project / 'site'
    html = (site / 'tutorial/index.html').read_text()
    assert '<a class="source" href="__init__.py.txt">View source</a>' in html
    assert '<a href="__init__.py.txt">The source of this page</a>' in html
    for source in ('home/__init__.py', 'home/tutorial/__init__.py', 'home/tutorial/readme.md'):
        copy = site / (source.removeprefix('home/') + '.txt')
        assert copy.read_bytes() == (project / source).read_bytes()
    # Nothing in the site can be imported as Python; GitHub Pages publishes `__init__.py.txt`.
    assert list(site.rglob('*.py')) == [] and (site / '.nojekyll').read_bytes() == b''
    assert broken_links(site) == []


def test_with_a_source_url_view_source_leads_there_and_the_copies_go(project):
    build_site(project)
    build_site(project, source_url='https://example.org/repo/blob/main')
    site = project / 'site'
    html = (site / 'tutorial/index.html').read_text()
    assert ('<a class="source" href="https://example.org/repo/blob/main/home/tutorial/'
            '__init__.py">View source</a>') in html
    assert list(site.rglob('*.txt')) == [] and not (site / '.nojekyll').exists()


def test_lastmod_is_the_day_of_the_last_commit_and_absent_for_uncommitted_changes(project):
    def git(*arguments):
        environment = dict(os.environ, GIT_AUTHOR_DATE='2024-03-05T12:00:00+00:00',
                           GIT_COMMITTER_DATE='2024-03-05T12:00:00+00:00', GIT_AUTHOR_NAME='A',
                           GIT_AUTHOR_EMAIL='a@example.org', GIT_COMMITTER_NAME='A', GIT_COMMITTER_EMAIL='a@example.org')
        subprocess.run(['git', *arguments], cwd=project, check=True, capture_output=True, env=environment)

    git('init', '-q')
    git('add', 'home')
    git('commit', '-q', '-m', 'Sources')
    build_site(project, site_url='https://example.org/capsules/')
    assert (project / 'site/sitemap.xml').read_text().count('<lastmod>2024-03-05</lastmod>') == 3
    readme = project / 'home/tutorial/readme.md'
    readme.write_text(readme.read_text() + '\nChanged.\n')
    report = build_site(project, site_url='https://example.org/capsules/')
    assert (project / 'site/sitemap.xml').read_text().count('<lastmod>2024-03-05</lastmod>') == 2
    assert 'home/tutorial/readme.md' in report.notes[0] and 'commit them' in report.notes[0]


def failure(project, path: str, content, roots=('home',)) -> str:
    """
    The message of the build that fails on `content` written to `path` in the project.
    """
    target = project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    with pytest.raises(BuildFailed) as error:
        build_site(project, roots=roots)
    return str(error.value)


def test_a_syntax_error_stops_the_build_at_its_line(project):
    assert failure(project, 'home/bad.py', 'x = 1\n\ndef f(:\n') == 'home/bad.py:3: is not valid Python: invalid syntax'


def test_a_file_that_is_not_utf8_stops_the_build_at_its_line(project):
    message = failure(project, 'home/latin.py', '# caf\xe9\nx = 1\n'.encode('latin-1'))
    assert message.startswith('home/latin.py:1: is not UTF-8')


def test_a_broken_image_stops_the_build_at_its_line(project):
    message = failure(project, 'home/pictures.py', '"""\nText.\n\n![A plot](images/plot.png)\n"""\n')
    assert message == 'home/pictures.py:4: the image images/plot.png leads to home/images/plot.png, which does not exist'


def test_a_broken_link_stops_the_build_at_its_line(project):
    message = failure(project, 'home/links.py', '# See [the trainer](trainer.html).\nx = 1\n')
    assert message.startswith('home/links.py:1: the link trainer.html leads to home/trainer.html, which does not exist')


def test_a_warning_stops_a_strict_build_at_its_line(project):
    message = failure(project, 'home/money.py', 'x = 1\n# It costs $5.\ny = 2\n')
    assert message.startswith('home/money.py:2: warning: a `$` here neither opens nor closes a '
                              'formula')


def test_an_invalid_formula_stops_the_build_at_its_line_with_its_text(project):
    message = failure(project, 'home/formula.py', 'x = 1\n# The sum:\n#\n# $$\\sum_{i$$\ny = 2\n')
    assert message.startswith('home/formula.py:4: KaTeX cannot typeset the formula $\\sum_{i$: KaTeX parse error')


def test_every_error_of_a_build_is_reported_at_once(project):
    (project / 'home/one.py').write_text('def f(:\n')
    message = failure(project, 'home/two.py', 'def g(:\n')
    assert message.splitlines() == ['home/one.py:1: is not valid Python: invalid syntax',
                                    'home/two.py:1: is not valid Python: invalid syntax']


def test_the_strict_command_prints_the_errors_writes_nothing_and_exits_with_1(project, monkeypatch,
                                                                             capsys):
    (project / 'home/bad.py').write_text('def f(:\n')
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache', '--strict']) == 1
    assert capsys.readouterr().err.splitlines() == [
        'home/bad.py:1: is not valid Python: invalid syntax',
        '1 error, 0 warnings: nothing was written (--strict); without --strict the build writes '
        'every page it can']
    assert not (project / 'site').exists()


def test_a_strict_command_fails_on_a_warning_too(project, monkeypatch, capsys):
    (project / 'home/money.py').write_text('x = 1\n# It costs $5.\ny = 2\n')
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache', '--strict']) == 1
    assert not (project / 'site').exists()


def test_an_interrupted_build_leaves_no_half_written_page(project, monkeypatch):
    build_site(project)
    before = site_files(project / 'site')
    for source in ('home/tutorial/__init__.py', 'home/tutorial/readme.md'):
        path = project / source
        path.write_text(path.read_text() + '\n# Changed.\n')

    # The first rename of a finished file into place is where the build is interrupted.
    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_site(project)
    assert site_files(project / 'site') == before


def test_a_build_that_cannot_write_one_file_changes_none_and_leaves_no_temporary_file(project, monkeypatch):
    build_site(project)
    before = site_files(project / 'site')
    (project / 'home/tutorial/new').mkdir()
    (project / 'home/tutorial/new/page.md').write_text('# New\n')
    for source in ('home/tutorial/__init__.py', 'home/tutorial/readme.md'):
        path = project / source
        path.write_text(path.read_text() + '\n# Changed.\n')
    written = []

    # The disk is full when the readme comes, after the new page, in its new folder.
    def full_at_the_readme(path, data):
        if path.name == 'readme.html':
            raise OSError(28, 'No space left on device', str(path))
        written.append(path.relative_to(project / 'site').as_posix())
        return temporary(path, data)

    temporary = files._temporary
    monkeypatch.setattr(files, '_temporary', full_at_the_readme)
    with pytest.raises(OSError):
        build_site(project)
    assert 'tutorial/new/page.html' in written
    assert site_files(project / 'site') == before
    assert not (project / 'site/tutorial/new').exists()


def write(project: Path, files: dict):
    """
    Writes each `path: text` of `files` into the project.
    """
    for path, text in files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)


# Sources with one problem each: an error that leaves no page, an error that leaves a page
# without the link, and a warning.
TROUBLE = {
    'home/syntax.py': 'x = 1\n\ndef f(:\n',
    'home/links.py': '# See [the trainer](trainer.html), and [the syntax](syntax.py).\nx = 1\n',
    'home/money.py': 'x = 1\n# It costs $5.\ny = 2\n',
}


def test_keep_going_renders_every_page_it_can_and_reports_every_problem(project):
    write(project, TROUBLE)
    report = build_site(project, strict=False)
    assert [str(problem) for problem in report.problems] == [
        'home/links.py:1: the link trainer.html leads to home/trainer.html, which does not exist, '
        'nor does a page trainer.html',
        'home/links.py:1: the link syntax.py leads to the page of home/syntax.py, which cannot be '
        'rendered (see its errors)',
        'home/money.py:2: warning: a `$` here neither opens nor closes a formula, in "It costs '
        '$5.", and is shown as a dollar sign: write `\\$` for a dollar sign; a formula is `$...$` '
        'with no space just inside the dollars, and no digit just after the closing one',
        'home/syntax.py:3: is not valid Python: invalid syntax']
    assert report.failed == ['home/syntax.py']
    site = project / 'site'
    assert not (site / 'syntax.html').exists()
    # The links that lead nowhere are left out; their text stays.
    links = (site / 'links.html').read_text()
    assert 'See the trainer, and the syntax.' in links and 'trainer.html' not in links
    assert 'It costs $5.' in (site / 'money.html').read_text()
    assert broken_links(site) == []


def test_a_rebuild_with_nothing_changed_reports_the_same_problems(project):
    write(project, TROUBLE)
    first = build_site(project, strict=False)
    again = build_site(project, strict=False)
    assert again.rendered == [] and list(map(str, again.problems)) == list(map(str, first.problems))


def test_a_page_fixed_returns_to_the_site_and_a_page_broken_leaves_it(project):
    write(project, TROUBLE)
    build_site(project, strict=False)
    write(project, {'home/syntax.py': 'x = 1\n', 'home/money.py': 'def g(:\n'})
    report = build_site(project, strict=False)
    assert report.failed == ['home/money.py'] and 'syntax.html' in report.rendered
    assert 'money.html' in report.removed and (project / 'site/syntax.html').is_file()


def test_by_default_the_command_writes_every_page_it_can_and_exits_with_1_after_an_error(
        project, monkeypatch, capsys):
    write(project, TROUBLE)
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache']) == 1
    printed = capsys.readouterr()
    assert printed.out.startswith('site: 5 pages (5 rendered), ')
    assert printed.err.splitlines()[-1] == '3 errors, 1 warning; no page for home/syntax.py'
    assert (project / 'site/links.html').is_file() and (project / 'site/money.html').is_file()


def test_warnings_alone_leave_the_exit_status_0_and_are_printed(project, monkeypatch, capsys):
    write(project, {'home/money.py': TROUBLE['home/money.py']})
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache']) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith('home/money.py:2: warning: ') and err[-1] == '0 errors, 1 warning'


def test_keep_going_is_still_accepted_and_is_the_default(project, monkeypatch, capsys):
    write(project, TROUBLE)
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache', '--keep-going']) == 1
    assert capsys.readouterr().out.startswith('site: 5 pages (5 rendered), ')


def test_two_sources_that_would_make_one_page_exit_with_1_and_write_nothing(project, monkeypatch,
                                                                            capsys):
    write(project, {'home/tutorial/readme.py': 'x = 1\n'})
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache']) == 1
    assert capsys.readouterr().err == ('home/tutorial/readme.py: makes the page tutorial/readme.html, '
                                       'as home/tutorial/readme.md does; rename one of them\n')
    assert not (project / 'site').exists()


@pytest.mark.parametrize('options', [
    ['--site-url', 'example.org'], ['--source-url', 'javascript:alert(1)'],
    ['--strict', '--keep-going'], ['--no-such-option']])
def test_a_wrong_option_or_setting_exits_with_2_and_writes_nothing(project, monkeypatch, options):
    monkeypatch.chdir(project)
    try:
        status = build_module.main(['home', '--out', 'site', '--cache', 'cache', *options])
    except SystemExit as exit:
        # How argparse ends the command for an option it does not know.
        status = exit.code
    assert status == 2
    assert not (project / 'site').exists()


def test_a_formula_katex_cannot_read_is_an_error_and_shown_as_written(project):
    write(project, {'home/formula.py': 'x = 1\n# The sum $\\sum_{i$.\ny = 2\n'})
    report = build_site(project, strict=False)
    assert report.failed == []
    assert [str(problem).split('$: ')[0] for problem in report.problems] == [
        'home/formula.py:2: KaTeX cannot typeset the formula $\\sum_{i']
    assert '<p>The sum <code>$\\sum_{i$</code>.</p>' in (project / 'site/formula.html').read_text()


def test_the_build_prints_its_pages_formulas_and_seconds(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache']) == 0
    assert re.fullmatch(r'site: 3 pages \(3 rendered\), (\d+) formulas \(\1 on the pages '
                        r'rendered\), \d+ files written, 0 removed, in \d+\.\d\d s\n',
                        capsys.readouterr().out)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache']) == 0
    assert re.match(r'site: 3 pages \(0 rendered\), [1-9]\d* formulas \(0 on the pages rendered\)',
                    capsys.readouterr().out)


def test_links_to_a_folder_a_name_without_extension_or_a_source_lead_to_their_pages(project):
    write(project, {'home/tutorial/more.py': '# Back [up](../), to [the index](.), '
                                             '[the readme](readme#top) and '
                                             '[its source](readme.md).\nx = 1\n'})
    build_site(project)
    html = (project / 'site/tutorial/more.html').read_text()
    assert ('Back <a href="../index.html">up</a>, to <a href="./index.html">the index</a>, '
            '<a href="readme.html#top">the readme</a> and <a href="readme.html">its source</a>.'
            in html)


def test_an_anchor_missing_from_its_own_page_is_an_error(project):
    message = failure(project, 'home/anchors.py', '"""\n# Top\n\n<a id="kept"></a>\n"""\n'
                                                  '# [Top](#top), [kept](#kept), [gone](#gone).\n'
                                                  'x = 1\n')
    assert message == ('home/anchors.py:6: the link #gone leads to no anchor of this page: a '
                       'heading, or an HTML element with that id')


def test_a_folder_without_a_home_page_gets_one_listing_its_pages(project):
    (project / 'home/__init__.py').unlink()
    write(project, {'home/plain.py': '"""\nPlain module docstring.\n"""\nx = 1\n'})
    build_site(project, site_name='A <b>name</b>')
    home = (project / 'site/index.html').read_text()
    assert '<h1 id="a-bnameb">A &lt;b&gt;name&lt;/b&gt;</h1>' in home
    assert '<title>A &lt;b&gt;name&lt;/b&gt;</title>' in home
    assert '<li><a href="plain.html">plain.py</a>: Plain module docstring.</li>' in home
    assert '<a href="tutorial/index.html">Softmax, annotated</a>' in home
    # A home page made for a folder has no source to show.
    assert 'View source' not in home and 'The source of this page' not in home
    assert broken_links(project / 'site') == []


def test_a_home_page_without_a_heading_is_named_after_its_folder(project):
    (project / 'home/__init__.py').write_text('x = 1\n')
    build_site(project)
    assert '<title>home</title>' in (project / 'site/index.html').read_text()


def test_the_site_name_can_be_set(project):
    build_site(project, site_name='Softmax notes')
    html = (project / 'site/tutorial/index.html').read_text()
    assert '<title>Softmax, annotated · Softmax notes</title>' in html
    assert '<meta property="og:site_name" content="Softmax notes">' in html


def test_a_rebuild_reads_again_only_the_sources_that_changed(project, monkeypatch):
    build_site(project)
    split_sources = []
    real_split = build_module.split

    def counting_split(path, text, problems=None):
        split_sources.append(str(path))
        return real_split(path, text, problems)

    monkeypatch.setattr(build_module, 'split', counting_split)
    build_site(project)
    assert split_sources == []
    readme = project / 'home/tutorial/readme.md'
    readme.write_text(readme.read_text() + '\nOne more line.\n')
    build_site(project)
    assert split_sources == ['home/tutorial/readme.md']
