r"""
The Markdown and math stage: formulas are taken out before Markdown reads the text, every other
part of the notes renders as CommonMark, and math left in the text is reported, never shown
silently.
"""

import re

import pytest

from tools.document import Notes
from tools.errors import SourceError
from tools.markdown import outline, parse, render, retarget, unlink


def parsed(text: str, line: int = 1, problems=None):
    return parse('notes.py', Notes(text, line, 'comment'), set(), problems)


def warnings(text: str, line: int = 1):
    """
    The warnings about some notes.
    """
    problems = []
    parsed(text, line, problems)
    return [str(problem) for problem in problems]


def formulas(text: str):
    return [(f.tex, f.display) for f in parsed(text).formulas]


def html(text: str, problems=None) -> str:
    """
    The HTML of some notes, each formula rendered as `[tex]` or `[[tex]]`, to see where it went.
    """
    notes = parsed(text, problems=problems)
    math = {f.key: f'[[{f.tex}]]' if f.display else f'[{f.tex}]' for f in notes.formulas}
    return render(notes, math)


def test_a_double_bar_reaches_tex_unchanged():
    assert formulas(r'The norm $\|x\|$.') == [(r'\|x\|', False)]


def test_underscores_and_stars_in_math_are_not_emphasis():
    assert formulas(r'$a_1 * b_2$ and $c_1 * d_2$') == [(r'a_1 * b_2', False), (r'c_1 * d_2', False)]
    assert '<em>' not in html(r'$a_1 * b_2$ and $c_1 * d_2$')


def test_an_escaped_dollar_is_a_dollar_sign():
    assert formulas(r'It costs \$5, or \$6.') == []
    assert 'It costs $5, or $6.' in html(r'It costs \$5, or \$6.')


def test_a_dollar_inside_a_code_span_is_code():
    assert formulas('Run `echo $HOME` and `$x$`.') == []
    assert 'echo $HOME' in re.sub('<[^>]+>', '', html('Run `echo $HOME`.'))


def test_display_math_inside_a_list_item():
    text = '* first:\n  $$a = b$$\n* second\n'
    assert formulas(text) == [('a = b', True)]
    assert '<li>first:<div class="math">[[a = b]]</div>\n</li>' in html(text)


def test_display_math_may_follow_a_line_of_text_without_a_blank_line():
    assert '<div class="math">[[v = s]]</div>' in html('The squash:\n$$v = s$$\n')


def test_display_math_inside_a_paragraph_stays_inside_it():
    assert html('so $$x$$ holds') == '<p>so [[x]] holds</p>\n'


def test_a_lone_dollar_is_shown_as_a_dollar_with_a_warning_at_its_line():
    problems = []
    assert html('First line.\n\nA price of $5\nand more.', problems) == (
        '<p>First line.</p>\n<p>A price of $5\nand more.</p>\n')
    assert [str(problem) for problem in problems] == [
        'notes.py:3: warning: a `$` here neither opens nor closes a formula, in "A price of $5", '
        'and is shown as a dollar sign: write `\\$` for a dollar sign; a formula is `$...$` with '
        'no space just inside the dollars, and no digit just after the closing one']
    with pytest.raises(SourceError):
        parsed('A price of $5.')


def test_an_unclosed_display_formula_is_a_lone_dollar():
    assert 'neither opens nor closes a formula' in warnings('$$\\sum_i x_i\n\nText.')[0]


def test_a_formula_with_a_space_before_its_closing_dollar_is_rendered_with_a_warning():
    problems = []
    assert html('If gated, $x W_1 \\otimes b $ and $y$.', problems) == (
        '<p>If gated, [x W_1 \\otimes b] and [y].</p>\n')
    assert [str(problem) for problem in problems] == [
        'notes.py:1: warning: `$x W_1 \\otimes b $` has a space before its closing `$`: it is '
        'rendered as a formula, but other Markdown readers leave it as text; write '
        '`$x W_1 \\otimes b$`']


def test_tex_left_outside_a_formula_is_reported():
    assert warnings('Text\n\nthe \\otimes and \\frac{a}{b}.', line=5) == [
        'notes.py:7: warning: `\\otimes` looks like TeX outside a formula, and is shown as '
        'written, in "the \\otimes and \\frac{a}{b}.": if it is math, put it between dollars, '
        '`$...$`; if it is code, in a code span']


def test_escaped_dollars_and_backslashes_are_neither_math_nor_tex():
    assert warnings('It costs \\$5, a path is C:\\\\frac, a shell has `$HOME`.') == []


def test_a_tex_environment_on_lines_of_its_own_is_displayed_math_as_written():
    text = ('The loss is\n\\begin{align}\na_i &= b_i \\\\\n&= \\begin{cases} 1 \\end{cases}\n'
            '\\end{align}\nwhere _x_ is.\n')
    assert formulas(text) == [('\\begin{align}\na_i &= b_i \\\\\n&= \\begin{cases} 1 '
                               '\\end{cases}\n\\end{align}', True)]
    assert html(text) == ('<p>The loss is</p>\n<div class="math">[[\\begin{align}\na_i &= b_i '
                          '\\\\\n&= \\begin{cases} 1 \\end{cases}\n\\end{align}]]</div>\n'
                          '<p>where <em>x</em> is.</p>\n')
    assert [(f.line) for f in parsed(text, line=10).formulas] == [11]


def test_a_tex_environment_indented_as_deep_as_a_code_block_is_still_math():
    assert formulas('Text\n\n    \\begin{pmatrix}\n    a \\\\ b\n    \\end{pmatrix}\n') == [
        ('\\begin{pmatrix}\na \\\\ b\n\\end{pmatrix}', True)]


def test_a_tex_environment_never_closed_is_reported_as_tex_outside_a_formula():
    problems = warnings('\\begin{align}\na &= b\n')
    assert parsed('\\begin{align}\na &= b\n', problems=[]).formulas == []
    assert len(problems) == 1 and '`\\begin` looks like TeX outside a formula' in problems[0]


def test_a_tex_environment_followed_by_text_on_its_last_line_is_not_typeset():
    text = '\\begin{pmatrix} a \\end{pmatrix} is a vector.\n'
    assert parsed(text, problems=[]).formulas == []
    assert '`\\begin` looks like TeX outside a formula' in warnings(text)[0]


def test_a_tex_environment_inside_a_fenced_code_block_stays_code():
    assert formulas('```latex\n\\begin{align}\na\n\\end{align}\n```\n') == []


def test_formulas_know_their_lines():
    notes = parsed('Line one $a$.\nLine two $b$ and $a$.\n\n$$c$$\n', line=20)
    assert sorted((f.tex, f.line) for f in notes.formulas) == [('a', 20), ('a', 21), ('b', 21), ('c', 23)]


def test_tables_render_with_math_and_code_in_cells():
    text = '| a | b |\n|---|---|\n| $x\\|y$ | `c` |\n'
    out = html(text)
    assert '<table>' in out and '<td>[x|y]</td>' in out and '<code class="highlight">' in out


def test_inline_code_is_highlighted():
    assert html('`x = 1`') == ('<p><code class="highlight"><span class="n">x</span> <span class="o">=</span> '
                               '<span class="mi">1</span></code></p>\n')


def test_code_is_escaped_in_code_spans_and_blocks():
    out = html('`a < b & "</script>"`\n\n```python\nx = "</script>" < 1 & 2\n```\n')
    assert '</script>' not in out
    assert '&lt;/script&gt;' in out and '&amp;' in out and '&lt;' in out


def test_a_code_block_in_an_unknown_language_is_plain_text_with_a_warning_at_its_line():
    problems = []
    assert html('Text.\n\n```pyhton\nx = 1\n```\n', problems) == (
        '<p>Text.</p>\n<pre class="highlight"><code>x = 1\n</code></pre>\n')
    assert [str(problem) for problem in problems] == [
        'notes.py:3: warning: the code block names the language `pyhton`, which Pygments does not '
        'know, and is shown as plain text; use a Pygments short name such as `python` or `bash`']


def test_an_image_opens_larger_on_click_unless_it_is_in_a_link():
    assert html('![A plot](images/plot.png)') == ('<p><a class="image" href="images/plot.png"><img src="images/plot.png" '
                                                  'alt="A plot" loading="lazy"></a></p>\n')
    assert html('[![A plot](images/plot.png)](page.html)') == ('<p><a href="page.html"><img src="images/plot.png" '
                                                               'alt="A plot" loading="lazy"></a></p>\n')


def test_links_and_images_are_collected_with_their_lines():
    notes = parsed('See [a](a.html#x)\nand ![b](images/b.png).\n\n[c](https://example.org)', line=5)
    assert [(r.target, r.image, r.line) for r in notes.references] == [
        ('a.html#x', False, 5), ('images/b.png', True, 6), ('https://example.org', False, 8)]


def test_headings_get_ids_unique_on_the_page_and_apart_from_the_sections():
    ids = {'section-1'}
    first = parse('p.py', Notes('## Margin loss\n\n## `Squash`', 1, 'module'), ids)
    second = parse('p.py', Notes('## Margin loss\n\n# Section 1', 1, 'docstring'), ids)
    out = render(first, {}) + render(second, {})
    assert 'id="margin-loss"' in out and 'id="squash"' in out and 'id="margin-loss-1"' in out
    assert 'id="section-1-1"' in out


def test_a_link_can_be_pointed_elsewhere_or_left_out_keeping_its_text():
    notes = parsed('[a *folder*](ppo), [gone](gone.html) and ![lost](lost.png).')
    folder, gone, lost = notes.references
    retarget(folder, 'ppo/index.html')
    unlink(gone)
    unlink(lost)
    assert render(notes, {}) == ('<p><a href="ppo/index.html">a <em>folder</em></a>, gone and '
                                 'lost.</p>\n')


def test_ids_of_html_elements_written_in_the_notes_are_anchors_of_the_page():
    ids = set()
    parse('p.py', Notes('<a id="MHA"></a>\n\nText <span id=\'inline\'></span>.', 1, 'module'), ids)
    assert ids == {'MHA', 'inline'}


def test_the_outline_is_the_text_of_headings_and_paragraphs():
    assert outline('# The [title](x.html) `code`\n\nA paragraph\nof two lines.\n\n$$x$$\n\n'
                   'With $y$.\n\nA banner\n===\n') == [('h1', 'The title code', False),
                                    ('p', 'A paragraph of two lines.', False),
                                    ('p', 'With y.', True)]


def test_a_formula_katex_could_not_read_is_shown_as_written_in_a_code_span():
    notes = parsed('Cost $a_{ < b$, and\n\n$$c$$\n')
    assert render(notes, {}) == ('<p>Cost <code>$a_{ &lt; b$</code>, and</p>\n'
                                 '<div class="math"><code>$$c$$</code></div>\n')
