"""
A page's scripts: named in its front matter, copied into the site beside the page and included
in its `<head>`, deferred and in order, only when the build is told the sources are trusted
(`--allow-scripts`); otherwise, and for a script that is missing, not JavaScript or outside
the sources, an error at the front matter's line, and the page renders without it. The server
of `make serve` passes `--allow-scripts` on to its builds.
"""

import os
import re

import pytest

from tests.conftest import build_site
from tests.test_serve import fetch, free_port, start, stop, wait_for
from tools import build as build_module
from tools.errors import BuildFailed, SourceError
from tools.front_matter import take_front_matter
from tools.split import split

PAGE = '''"""
---
title: A page that moves
scripts: [images/weights.js, widget.js]
---

# A page that moves
"""

x = 1
'''


def with_scripts(project, page=PAGE):
    """
    The fixture project with `home/tutorial/moving.py`, which names two scripts, and the
    scripts themselves.
    """
    tutorial = project / 'home' / 'tutorial'
    (tutorial / 'moving.py').write_text(page)
    (tutorial / 'images' / 'weights.js').write_text('window.WEIGHTS = [1, 2];\n')
    (tutorial / 'widget.js').write_text('document.title = String(window.WEIGHTS);\n')
    return tutorial


def script_tags(html: str):
    return re.findall(r'<script[^>]*></script>', html)


def test_named_scripts_are_copied_beside_the_page_and_run_deferred_in_their_order(project):
    tutorial = with_scripts(project)
    build_site(project, allow_scripts=True)
    site = project / 'site' / 'tutorial'
    html = (site / 'moving.html').read_text()
    head = html[:html.index('</head>')]
    assert script_tags(head) == ['<script defer src="images/weights.js"></script>',
                                 '<script defer src="widget.js"></script>']
    assert script_tags(html[len(head):]) == []
    for name in ('images/weights.js', 'widget.js'):
        assert (site / name).read_bytes() == (tutorial / name).read_bytes()
    # The other pages run nothing.
    assert script_tags((site / 'index.html').read_text()) == []


def test_without_allow_scripts_a_strict_build_stops_at_the_line_of_scripts(project):
    with_scripts(project)
    with pytest.raises(BuildFailed) as failure:
        build_site(project)
    messages = [str(problem) for problem in failure.value.errors]
    assert messages == [
        f'home/tutorial/moving.py:4: the script {name} is left out of the page: scripts run in '
        "readers' browsers, so the build includes them only when given --allow-scripts (make "
        'docs gives it); give it if you trust these sources'
        for name in ('images/weights.js', 'widget.js')]
    assert not (project / 'site').exists()


def test_without_allow_scripts_the_page_renders_without_them_and_they_are_not_copied(project):
    with_scripts(project)
    report = build_site(project, strict=False)
    assert len(report.problems) == 2
    site = project / 'site' / 'tutorial'
    assert script_tags((site / 'moving.html').read_text()) == []
    assert not (site / 'widget.js').exists() and not (site / 'images/weights.js').exists()


@pytest.mark.parametrize('name, why', [
    ('gone.js', 'home/tutorial/gone.js does not exist'),
    ('style.css', 'give the relative path of a .js file, in letters, digits, _, -, . and /'),
    ('/widget.js', 'give the relative path of a .js file, in letters, digits, _, -, . and /'),
    ('https://example.org/x.js', 'give the relative path of a .js file, in letters, digits, _, -, '
                                 '. and /'),
    ('../../outside.js', 'it leads out of home/, out of the site'),
])
def test_a_script_that_is_missing_not_javascript_or_elsewhere_is_refused(project, name, why):
    with_scripts(project, PAGE.replace('[images/weights.js, widget.js]', f'["{name}"]'))
    (project / 'outside.js').write_text('alert(1);\n')
    report = build_site(project, strict=False, allow_scripts=True)
    assert [str(problem) for problem in report.problems] == [
        f'home/tutorial/moving.py:4: the script {name} is left out of the page: {why}']
    assert script_tags((project / 'site/tutorial/moving.html').read_text()) == []


def test_a_script_that_links_out_of_the_sources_is_refused(project):
    tutorial = with_scripts(project)
    (project / 'secret.js').write_text('alert(1);\n')
    (tutorial / 'widget.js').unlink()
    os.symlink(project / 'secret.js', tutorial / 'widget.js')
    report = build_site(project, strict=False, allow_scripts=True)
    [problem] = report.problems
    assert 'the script widget.js is left out of the page: home/tutorial/widget.js is a symbolic ' \
           'link to' in str(problem)
    assert not (project / 'site/tutorial/widget.js').exists()


def test_a_changed_script_is_copied_again_without_rendering_its_page(project):
    tutorial = with_scripts(project)
    build_site(project, allow_scripts=True)
    (tutorial / 'images/weights.js').write_text('window.WEIGHTS = [3, 4];\n')
    report = build_site(project, allow_scripts=True)
    assert report.rendered == [] and report.written == ['tutorial/images/weights.js']
    assert (project / 'site/tutorial/images/weights.js').read_text() == 'window.WEIGHTS = [3, 4];\n'


def test_allowing_scripts_or_not_renders_the_page_again(project):
    with_scripts(project)
    build_site(project, allow_scripts=True)
    report = build_site(project, strict=False)
    assert 'tutorial/moving.html' in report.rendered
    assert sorted(report.removed) == ['tutorial/images/weights.js', 'tutorial/widget.js']
    assert script_tags((project / 'site/tutorial/moving.html').read_text()) == []


def test_the_command_includes_scripts_only_with_allow_scripts(project, monkeypatch, capsys):
    with_scripts(project)
    monkeypatch.chdir(project)
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache']) == 1
    assert '--allow-scripts' in capsys.readouterr().err
    assert build_module.main(['home', '--out', 'site', '--cache', 'cache',
                              '--allow-scripts']) == 0
    assert (project / 'site/tutorial/widget.js').is_file()


def test_scripts_in_the_front_matter_are_a_list_of_names_each_with_the_line_of_its_key():
    sections = split('m.py', '"""\n---\ntitle: T\nscripts:\n  - a.js\n  - b/c.js\n---\n"""\n')
    assert take_front_matter('m.py', sections) == {'title': 'T',
                                                   'scripts': [('a.js', 4), ('b/c.js', 4)]}
    with pytest.raises(SourceError, match='m.py:3: the front matter `scripts` must be a list of '
                                          'file names, such as `scripts: \\[widget.js\\]`'):
        take_front_matter('m.py', split('m.py', '"""\n---\nscripts: widget.js\n---\n"""\n'))


def test_the_server_includes_scripts_with_allow_scripts_as_make_serve_gives_it(project):
    with_scripts(project)
    port = free_port()
    server = start(project, '--port', str(port), '--allow-scripts')
    try:
        assert wait_for(lambda: 'src="widget.js"' in fetch(f'http://127.0.0.1:{port}/tutorial/'
                                                           'moving.html'))
        assert 'window.WEIGHTS' in fetch(f'http://127.0.0.1:{port}/tutorial/widget.js')
    finally:
        stop(server)
