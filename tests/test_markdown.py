r"""
The Markdown and math stage: formulas are taken out before Markdown reads the text, and every
other part of the notes renders as CommonMark.
"""

import re

import pytest

from tools.errors import SourceError
from tools.markdown import parse, render
from tools.split import Notes


def parsed(text: str, line: int = 1):
    return parse('notes.py', Notes(text, line, 'comment'), set())


def formulas(text: str):
    return [(f.tex, f.display) for f in parsed(text).formulas]


def html(text: str) -> str:
    """
    The HTML of some notes, each formula rendered as `[tex]` or `[[tex]]`, to see where it went.
    """
    notes = parsed(text)
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


def test_a_lone_dollar_names_its_line():
    with pytest.raises(SourceError) as error:
        parsed('First line.\n\nA price of $5\nand more.', line=10)
    assert str(error.value).startswith('notes.py:12: a `$` here neither opens nor closes a formula')


def test_an_unclosed_display_formula_is_a_lone_dollar():
    with pytest.raises(SourceError) as error:
        parsed('$$\\sum_i x_i\n\nText.')
    assert 'neither opens nor closes a formula' in str(error.value)


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


def test_a_code_block_in_an_unknown_language_names_its_line():
    with pytest.raises(SourceError) as error:
        html('Text.\n\n```pyhton\nx = 1\n```\n')
    assert str(error.value).startswith('notes.py:3: the code block names the language `pyhton`')


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
