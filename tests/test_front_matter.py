"""
Front matter: the YAML block at the top of a module docstring sets the title and summary, and
leaves the notes; without it, the first heading and the first paragraph do.
"""

import pytest

from tools.errors import SourceError
from tools.front_matter import take_front_matter
from tools.markdown import title_and_summary
from tools.split import split


def docstring(body: str) -> str:
    return f'"""\n{body}\n"""\n\nimport os\n'


def test_title_and_summary_are_taken_and_removed_from_the_notes():
    sections = split('m.py', docstring('---\ntitle: Capsules\nsummary: >\n  Squash and\n  routing.\n---\n\n# Capsules'))
    assert take_front_matter('m.py', sections) == {'title': 'Capsules', 'summary': 'Squash and routing.'}
    notes = sections[0].notes[0]
    assert notes.text.strip() == '# Capsules' and '---' not in notes.text


def test_the_lines_after_the_front_matter_keep_their_numbers():
    sections = split('m.py', docstring('---\ntitle: T\n---\n# Heading'))
    take_front_matter('m.py', sections)
    notes = sections[0].notes[0]
    # The heading is on line 5 of the file: the quotes, three lines of front matter, then it.
    assert notes.text.split('\n')[5 - notes.line] == '# Heading'


def test_a_docstring_without_front_matter_is_left_alone():
    sections = split('m.py', docstring('# Title\n\n---\n\ntitle: not front matter'))
    assert take_front_matter('m.py', sections) == {}
    assert 'title: not front matter' in sections[0].notes[0].text


def test_front_matter_comes_only_from_the_module_docstring():
    sections = split('m.py', 'def f():\n    """\n    ---\n    title: no\n    ---\n    """\n')
    assert take_front_matter('m.py', sections) == {}


def test_front_matter_that_is_never_closed_names_its_line():
    with pytest.raises(SourceError) as error:
        take_front_matter('m.py', split('m.py', docstring('---\ntitle: T\n\n# Heading')))
    assert str(error.value).startswith('m.py:2: the front matter opened here with `---` is never closed')


def test_invalid_yaml_names_its_line():
    with pytest.raises(SourceError) as error:
        take_front_matter('m.py', split('m.py', docstring('---\ntitle: T\nsummary: a: b\n---')))
    assert str(error.value).startswith('m.py:4: the front matter is not valid YAML')


def test_an_unknown_key_is_left_out_with_a_warning_at_its_line_that_names_the_keys():
    problems = []
    sections = split('m.py', docstring('---\ntitle: T\nredirect: x.html\n---'))
    assert take_front_matter('m.py', sections, problems) == {'title': 'T'}
    assert [str(problem) for problem in problems] == [
        'm.py:4: warning: unknown front matter key `redirect`, left out; the keys are title, '
        'summary, scripts']


def test_without_front_matter_the_first_heading_is_the_title_and_the_first_paragraph_the_summary():
    sections = split('m.py', docstring('Opening words with `code`\nand a [link](x.html).\n\n'
                                       '## The [real](y.html) *title*\n\nMore.'))
    assert title_and_summary(sections, {}, 'm.py') == ('The real title',
                                                       'Opening words with code and a link.')


def test_a_heading_of_a_later_section_names_a_page_and_a_page_without_any_its_file():
    sections = split('m.py', 'x = 1\n\nclass A:\n    """\n    ## Layer A\n    """\n')
    assert title_and_summary(sections, {}, 'm.py') == ('Layer A', '')
    assert title_and_summary(split('m.py', '# Just a comment.\nx = 1\n'), {}, 'm.py') == (
        'm.py', '')


def test_a_summary_is_taken_only_from_a_paragraph_of_plain_text_and_cut_at_a_word():
    with_math = split('m.py', docstring('# Title\n\nThe sum $x$.'))
    assert title_and_summary(with_math, {}, 'm.py') == ('Title', '')
    long = split('m.py', docstring('word ' * 100))
    summary = title_and_summary(long, {}, 'm.py')[1]
    assert summary == ('word ' * 60).strip() + ' …'


def test_front_matter_wins_over_headings():
    sections = split('m.py', docstring('---\ntitle: Set\nsummary: Said.\n---\n# Heading\n\nText.'))
    meta = take_front_matter('m.py', sections)
    assert title_and_summary(sections, meta, 'm.py') == ('Set', 'Said.')
