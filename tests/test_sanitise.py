"""
The HTML allowed in the notes: what GitHub allows in a README stays as written; scripts, event
handlers, frames and unsafe addresses, in HTML or in Markdown, are left out of the page, each
reported at its file and line; the generator's own HTML (math, code, pictures) is untouched.
"""

import json
import re

import pytest

from tests.conftest import build_site
from tools.build import BuildFailed
from tools.document import Notes
from tools.markdown import parse, render
from tools.sanitise import sanitise


def rendered(text: str, line: int = 1):
    """
    The HTML of some notes, each formula as `[tex]`, and the problems reported.
    """
    problems = []
    notes = parse('notes.md', Notes(text, line, 'comment'), set(), problems)
    html = render(notes, {f.key: f'[{f.tex}]' for f in notes.formulas})
    return html, [str(problem) for problem in problems]


ALLOWED = [
    '<a href="https://github.com/x"><img src="https://img.shields.io/badge/a-b-c" alt="badge"></a>',
    'one<br>two',
    'H<sub>2</sub>O and x<sup>2</sup>',
    'press <kbd>Ctrl</kbd>',
    '<a id="margin-loss"></a>',
    '<table><tbody><tr><td colspan="2">cell</td></tr></tbody></table>',
    '<details open=""><summary>More</summary>hidden</details>',
    '<img src="images/local.png" width="20" height="10" alt="local">',
    '<a href="mailto:team@example.org">write</a>',
]


@pytest.mark.parametrize('html', ALLOWED)
def test_the_html_github_allows_in_a_readme_stays_as_written(html):
    page, problems = rendered(f'Text {html} text.')
    assert page == f'<p>Text {html} text.</p>\n' and problems == []


REFUSED = {
    '<script>alert(1)</script>': 'the HTML tag <script> is left out',
    '<img src="x.png" onerror="alert(1)">': 'the attribute `onerror` of <img> is left out',
    '<iframe src="https://example.org"></iframe>': 'the HTML tag <iframe> is left out',
    '<a href="javascript:alert(1)">x</a>': 'the address `javascript:alert(1)` of <a href>',
    '<a href="java&#x09;script:alert(1)">x</a>': 'the address `java\tscript:alert(1)` of <a href>',
    '<a href="JAVASCRIPT:alert(1)">x</a>': 'the address `JAVASCRIPT:alert(1)` of <a href>',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">': 'the address `data:image/svg+xml;base64,',
    '<a href="vbscript:msgbox(1)">x</a>': 'the address `vbscript:msgbox(1)` of <a href>',
    '<div style="position:fixed">x</div>': 'the attribute `style` of <div> is left out',
    '<form action="https://example.org"><input name="q"></form>': 'the HTML tag <form>',
    '<object data="x.swf"></object>': 'the HTML tag <object> is left out',
    '<svg onload="alert(1)"></svg>': 'the HTML tag <svg> is left out',
    '<style>body { display: none }</style>': 'the HTML tag <style> is left out',
}


@pytest.mark.parametrize('html', REFUSED)
def test_scripts_handlers_frames_and_unsafe_addresses_are_left_out_and_reported(html):
    page, problems = rendered(f'Line one.\n\nText {html} text.')
    assert problems and all(problem.startswith('notes.md:3: ') for problem in problems)
    assert REFUSED[html] in problems[0]
    for dangerous in ('<script', 'onerror', '<iframe', 'javascript:', 'vbscript:', 'data:',
                      'style=', '<form', '<object', '<svg', 'onload', '<style'):
        assert dangerous not in page.lower(), page


def test_a_refusal_in_a_block_of_html_is_reported_at_its_own_line():
    _, problems = rendered('Text.\n\n<div>\nfine\n<img src="x.png" onerror="alert(1)">\n</div>\n',
                           line=10)
    assert problems == ['notes.md:14: the attribute `onerror` of <img> is left out of the page: '
                        'notes hold only the HTML listed on the page "The HTML allowed in the '
                        'notes", with no event handler or style']


def test_html_that_spans_markdown_is_one_element_and_the_markdown_inside_is_kept():
    page, problems = rendered('<details>\n<summary>Proof</summary>\n\nSo $x$ is *small*.\n\n'
                              '</details>\n')
    assert problems == []
    assert page == ('<details>\n<summary>Proof</summary>\n<p>So [x] is <em>small</em>.</p>\n'
                    '</details>\n')


def test_notes_hidden_by_an_unclosed_comment_are_reported():
    page, problems = rendered('Text.\n\n<!-- never closed\n\nA paragraph the comment hides.\n')
    assert page == '<p>Text.</p>\n'
    assert problems == ['notes.md:3: the comment opened here is never closed, and hides the rest '
                        'of the notes: close it with `-->`']


def test_notes_swallowed_by_an_element_that_is_left_out_are_reported():
    page, problems = rendered('Text <style> with *emphasis*, and $x$.\n')
    assert page == '<p>Text '
    assert problems[1:] == ['notes.md:1: the HTML here hides the notes after it, which are left '
                            'out of the page: close its comment or element']


def test_a_closing_tag_cannot_end_the_notes_column():
    page, problems = rendered('Text.</div></section><p>outside</p>\n')
    assert problems == [] and '</section>' not in page and '</div>' not in page


def test_markdown_links_and_images_to_unsafe_addresses_are_not_links():
    page, _ = rendered('[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) '
                       '[c](&#106;avascript:alert(1)) <javascript:alert(1)> [d](vbscript:x) '
                       '![e](data:image/png;base64,AAAA) [f](file:///etc/passwd)')
    assert '<a' not in page and '<img' not in page
    assert page == '<p>a b c javascript:alert(1) d e f</p>\n'


# Each link as written, and the link or image reported.
UNSAFE_LINKS = {'[a](javascript:alert(1))': 'link javascript:alert(1)',
                '[b](JaVaScRiPt:alert(1))': 'link JaVaScRiPt:alert(1)',
                '[c](&#106;avascript:alert(1))': 'link javascript:alert(1)',
                '<javascript:alert(1)>': 'link javascript:alert(1)',
                '[d](vbscript:x)': 'link vbscript:x',
                '![e](data:image/png;base64,AAAA)': 'image data:image/png;base64,AAAA',
                '[f](file:///etc/passwd)': 'link file:///etc/passwd'}


@pytest.mark.parametrize('link', UNSAFE_LINKS)
def test_the_build_reports_each_markdown_link_to_an_unsafe_address_at_its_line(project, link):
    (project / 'home/tutorial/readme.md').write_text(f'# Readme\n\nSee {link}.\n')
    with pytest.raises(BuildFailed) as failure:
        build_site(project)
    assert [str(error) for error in failure.value.errors] == [
        f'home/tutorial/readme.md:3: the {UNSAFE_LINKS[link]} is left out of the page: an '
        'address in the notes is http, https, mailto, or relative to the page']
    assert not (project / 'site').exists()


def test_with_keep_going_the_page_is_written_without_the_script(project):
    (project / 'home/tutorial/readme.md').write_text(
        '# Readme\n\n<script>alert(1)</script>\n\nText <img src="x.png" onerror="alert(2)">.\n')
    report = build_site(project, strict=False)
    assert [str(problem).split(' is left')[0] for problem in report.problems] == [
        'home/tutorial/readme.md:3: the HTML tag <script>',
        'home/tutorial/readme.md:5: the attribute `onerror` of <img>']
    notes = re.findall(r'<div class="notes">(.*?)</div>', (project / 'site/tutorial/readme.html')
                       .read_text(), re.S)
    assert 'alert' not in ''.join(notes) and '<p>Text <img src="x.png">.</p>' in notes[0]
    # Nor is the HTML, as text, in the summary the page takes from its first paragraph.
    assert 'onerror' not in (project / 'site/index.html').read_text()


def test_html_in_a_notebook_cell_is_reported_at_its_line_of_the_notebook(project):
    cells = [{'cell_type': 'markdown', 'metadata': {},
              'source': ['# A notebook\n', '\n', '<iframe src="https://example.org"></iframe>\n']}]
    notebook = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {}, 'cells': cells}
    (project / 'home/tutorial/cells.ipynb').write_text(json.dumps(notebook, indent=1))
    with pytest.raises(BuildFailed) as failure:
        build_site(project)
    assert [str(error).split(' is left')[0] for error in failure.value.errors] == [
        'home/tutorial/cells.ipynb:12: the HTML tag <iframe>']


def test_a_formula_that_would_link_or_load_something_is_an_error(project):
    (project / 'home/tutorial/readme.md').write_text(
        '# Readme\n\n$\\href{javascript:alert(1)}{x}$ and $\\url{javascript:alert(2)}$\n')
    report = build_site(project, strict=False)
    assert [str(problem) for problem in report.problems] == [
        f'home/tutorial/readme.md:3: KaTeX cannot typeset the formula ${tex}$: {command} would '
        'link to or load something, which a formula may not: write the link in Markdown, outside '
        'the formula'
        for tex, command in [('\\href{javascript:alert(1)}{x}', '\\href'),
                             ('\\url{javascript:alert(2)}', '\\url')]]
    assert 'href="javascript' not in (project / 'site/tutorial/readme.html').read_text()


def test_a_placeholder_for_the_generators_html_cannot_be_forged():
    # The placeholders' markers, written in the notes, with a guess at their name.
    text = 'Text \ue000\ue0010\ue001 <img alt="\ue0000\ue001"> and `<code>`.'
    page, problems = rendered(text)
    assert problems == []
    assert '<code' in page and 'alt="\ue0000\ue001"' in page


def test_notes_without_html_of_their_own_are_left_byte_for_byte_as_they_are():
    html = '<p>Text with <em>emphasis</em> &amp; <code>"quotes"</code></p>\n'
    assert sanitise(html) == (html, [])


def test_an_image_from_a_data_address_is_neither_shown_nor_the_preview_of_the_page(project):
    (project / 'home/tutorial/readme.md').write_text(
        '# Readme\n\n![dot](data:image/png;base64,iVBORw0KGgo=)\n')
    report = build_site(project, strict=False)
    assert [str(problem) for problem in report.problems] == [
        'home/tutorial/readme.md:3: the image data:image/png;base64,iVBORw0KGgo= is left out of '
        'the page: an address in the notes is http, https, mailto, or relative to the page']
    assert 'data:' not in (project / 'site/tutorial/readme.html').read_text()
