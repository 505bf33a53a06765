"""
Front matter: the YAML block at the top of a module docstring sets the title and summary, and
leaves the notes.
"""

import pytest

from tools.errors import SourceError
from tools.front_matter import take_front_matter
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


def test_an_unknown_key_is_a_typo_and_names_the_keys():
    with pytest.raises(SourceError) as error:
        take_front_matter('m.py', split('m.py', docstring('---\ntitel: T\n---')))
    assert 'unknown front matter key `titel`; the keys are title, summary' in str(error.value)
