"""
Splitting a Python file into sections: notes beside the code they describe, on tricky input too.
"""

import textwrap

import pytest

from tools.errors import SourceError
from tools.split import lines_of, read_source, split


def sections_of(source: str):
    """
    The sections of a source as `(notes, code)` pairs: the notes' texts joined and stripped, the
    code as the text of its lines.
    """
    text = textwrap.dedent(source).lstrip('\n')
    lines = lines_of(text)
    return [('\n'.join(n.text.strip() for n in section.notes), [lines[number - 1] for number in section.code])
            for section in split('example.py', text)]


def test_the_module_docstring_and_the_code_up_to_the_first_comment_are_the_first_section():
    sections = sections_of('''
        """
        The module.
        """

        import math
        import os

        # The answer.
        ANSWER = 42
    ''')
    assert sections == [('The module.', ['import math', 'import os']), ('The answer.', ['ANSWER = 42'])]


def test_a_docstring_is_a_section_whose_code_is_the_signature():
    sections = sections_of('''
        class Layer(Base,
                    metaclass=Meta):
            """
            ## Layer
            """

            def forward(self, x):
                """
                The forward pass.
                """
                return x
    ''')
    assert sections == [('## Layer', ['class Layer(Base,', '            metaclass=Meta):']),
                        ('The forward pass.', ['    def forward(self, x):', '        return x'])]


def test_decorators_are_part_of_the_signature_and_comments_above_them_join_the_docstring():
    sections = sections_of('''
        x = 1

        # Cached, because it is slow.
        @cache
        @other(
            argument=1)
        def slow():
            """
            Slow.
            """
            return 2
    ''')
    assert sections == [('', ['x = 1']),
                        ('Cached, because it is slow.\nSlow.',
                         ['@cache', '@other(', '    argument=1)', 'def slow():', '    return 2'])]


def test_nested_functions_have_sections_of_their_own():
    sections = sections_of('''
        def outer():
            """
            Outer.
            """
            def inner():
                """
                Inner.
                """
                return 1
            # Call it.
            return inner()
    ''')
    assert sections == [('Outer.', ['def outer():']),
                        ('Inner.', ['    def inner():', '        return 1']),
                        ('Call it.', ['    return inner()'])]


def test_a_run_of_comment_lines_documents_the_code_up_to_the_next_run():
    sections = sections_of('''
        # First line,
        #
        # second paragraph.
        a = 1
        b = 2
        # Next.
        c = 3
    ''')
    assert sections == [('First line,\n\nsecond paragraph.', ['a = 1', 'b = 2']), ('Next.', ['c = 3'])]


def test_trailing_comments_stay_in_the_code():
    sections = sections_of('''
        # Notes.
        a = 1  # trailing
        b = [1,  # inside brackets
             2]
    ''')
    assert sections == [('Notes.', ['a = 1  # trailing', 'b = [1,  # inside brackets', '     2]'])]


def test_a_hash_or_quotes_inside_strings_docstrings_and_f_strings_is_no_comment():
    sections = sections_of('''
        def f():
            """
            A docstring with a # and a \\""" inside, and # at a line's start:
            # not a comment
            """
            s = "# a string"
            t = f"{s!r} # {'#'}"
            u = """
        # inside a string
        """
            return s
    ''')
    assert len(sections) == 1
    notes, code = sections[0]
    assert '# not a comment' in notes and '\\"""' not in notes and '"""' in notes
    assert code == ['def f():', '    s = "# a string"', '    t = f"{s!r} # {\'#\'}"', '    u = """',
                    '# inside a string', '"""', '    return s']


def test_a_docstring_that_shares_a_line_with_code_stays_in_the_code():
    sections = sections_of('''
        def f(): "Short."
        def g():
            "Also short."; return 1
    ''')
    assert sections == [('', ['def f(): "Short."', 'def g():', '    "Also short."; return 1'])]


def test_code_lines_keep_their_numbers_in_the_file():
    text = '"""\nDoc.\n"""\n\nimport os\n\n# A comment.\nx = 1\n'
    first, second = split('example.py', text)
    assert first.code == [5] and second.code == [8]
    assert first.notes[0].line == 1 and second.notes[0].line == 7


def test_tabs_are_kept_in_the_code():
    text = 'def f():\n\t"""\n\tDoc.\n\t"""\n\t# Return.\n\treturn 1\n'
    sections = split('example.py', text)
    assert [s.notes[0].text.strip() for s in sections] == ['Doc.', 'Return.']
    assert lines_of(text)[sections[1].code[0] - 1] == '\treturn 1'


def test_windows_and_old_mac_line_ends_are_read_as_new_lines(tmp_path):
    for ending in ('\r\n', '\r'):
        path = tmp_path / 'example.py'
        path.write_bytes(ending.join(['"""', 'Doc.', '"""', '# Comment.', 'x = 1', '']).encode())
        text = read_source(path)
        assert '\r' not in text
        [section] = split(path, text)
        assert [(n.text.strip(), n.line) for n in section.notes] == [('Doc.', 1), ('Comment.', 4)]
        assert section.code == [5]


def test_non_ascii_text_before_a_docstring_does_not_shift_it():
    sections = sections_of('''
        @décor("ü → ∑")
        def größe():
            r"""
            Größe, $\\sum_i$.
            """
            return "ß"
    ''')
    assert sections == [('Größe, $\\sum_i$.', ['@décor("ü → ∑")', 'def größe():', '    return "ß"'])]


def test_an_empty_file_has_no_sections():
    assert split('empty.py', '') == []
    assert split('blank.py', '\n\n') == []


def test_a_file_without_comments_is_one_section_of_code():
    assert sections_of('import os\nprint(os.sep)\n') == [('', ['import os', 'print(os.sep)'])]


def test_a_shebang_stays_in_the_code():
    assert sections_of('#!/usr/bin/env python\nimport os\n') == [('', ['#!/usr/bin/env python', 'import os'])]


def test_a_comment_at_the_end_of_the_file_is_a_section_of_notes():
    assert sections_of('x = 1\n# The end.\n') == [('', ['x = 1']), ('The end.', [])]


def test_a_markdown_file_is_one_section_of_notes():
    sections = split('readme.md', '# Title\n\nText.\n')
    assert len(sections) == 1 and sections[0].code == [] and sections[0].notes[0].kind == 'module'


def test_a_syntax_error_names_the_file_and_line():
    with pytest.raises(SourceError) as error:
        split('broken.py', 'x = 1\ndef f(:\n    pass\n')
    assert str(error.value).startswith('broken.py:2: is not valid Python')


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path):
    path = tmp_path / 'latin.py'
    path.write_bytes('x = 1\n# caf\xe9\n'.encode('latin-1'))
    with pytest.raises(SourceError) as error:
        read_source(path)
    assert str(error.value) == f'{path}:2: is not UTF-8 (byte 0xe9 cannot start a UTF-8 character); save the file as UTF-8'


def notes_and_warnings(source: str):
    """
    The notes of the first section of a source, and the warnings found on the way.
    """
    problems = []
    sections = split('tex.py', source, problems)
    return sections[0].notes[0].text.strip(), [str(problem) for problem in problems]


def test_tex_in_a_docstring_that_is_not_raw_is_read_as_written_with_a_warning():
    notes, warnings = notes_and_warnings('def f():\n    """\n    The norm:\n'
                                         '    $\\frac{a}{b} \\\\ \\sum_i$\n    """\n')
    assert notes == 'The norm:\n$\\frac{a}{b} \\\\ \\sum_i$'
    assert warnings == ['tex.py:4: warning: Python reads `\\frac` in this docstring as the escape '
                        'sequence `\\f` followed by letters; the page shows the docstring as '
                        'written in the file: make it raw, r"""...""", so that both agree']


def test_an_escape_python_does_not_know_marks_a_docstring_as_written_for_the_page():
    notes, warnings = notes_and_warnings('"""\n$x \\\\ \\sum_i$\n"""\n')
    assert notes == '$x \\\\ \\sum_i$'
    assert len(warnings) == 1 and warnings[0].startswith(
        'tex.py:2: warning: Python reads `\\sum` in this docstring as an escape sequence it does '
        'not know, and warns;')


def test_a_docstring_whose_escapes_are_pythons_own_is_read_as_python_reads_it():
    assert notes_and_warnings('"""\n$\\\\frac{a}{b}$, `\\\\r\\\\n`, \\"\\"\\"\n"""\n') == (
        '$\\frac{a}{b}$, `\\r\\n`, """', [])


def test_a_raw_docstring_and_one_of_several_literals_are_read_as_python_reads_them():
    assert notes_and_warnings('r"""\n$\\frac{a}{b}$\n"""\n') == ('$\\frac{a}{b}$', [])
    assert notes_and_warnings('("a "\n "b")\n') == ('a b', [])


def test_without_a_list_for_warnings_a_warning_is_raised():
    with pytest.raises(SourceError) as error:
        split('tex.py', 'def f():\n    """\n    $\\frac{a}{b}$\n    """\n')
    assert str(error.value).startswith('tex.py:3: warning: ')
