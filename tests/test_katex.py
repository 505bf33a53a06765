r"""
Math on the server: every formula of a build is typeset by KaTeX in one Node.js process, to HTML
and MathML, cached; a formula KaTeX cannot read stops the build at its line.
"""

import subprocess

from tools import katex
from tools.document import Formula


def formula(tex: str, display: bool = False, line: int = 1) -> Formula:
    return Formula(tex, display, 'notes.py', line)


def test_a_formula_becomes_html_and_mathml(tmp_path):
    results, errors = katex.typeset([formula('c_{ij}'), formula(r'\sum_i x_i', display=True)], tmp_path)
    assert errors == []
    inline, display = results[False, 'c_{ij}'], results[True, r'\sum_i x_i']
    assert inline.startswith('<span class="katex">') and '<math xmlns="http://www.w3.org/1998/Math/MathML"' in inline
    assert 'class="katex-html"' in inline
    assert display.startswith('<span class="katex-display">')


def test_all_formulas_of_a_build_go_to_one_process_and_are_then_cached(tmp_path, monkeypatch):
    runs = []
    real_popen = subprocess.Popen

    def counting_popen(*arguments, **options):
        runs.append(arguments)
        return real_popen(*arguments, **options)

    monkeypatch.setattr(subprocess, 'Popen', counting_popen)
    formulas = [formula(f'x_{{{n}}}') for n in range(200)]
    results, errors = katex.typeset(formulas, tmp_path)
    assert len(runs) == 1 and len(results) == 200 and errors == []
    again, _ = katex.typeset(formulas, tmp_path)
    assert len(runs) == 1 and again == results


def test_an_invalid_formula_names_the_file_the_line_and_the_formula(tmp_path):
    results, errors = katex.typeset([formula(r'\frac{a', line=7), formula('x', line=8)], tmp_path)
    assert [str(error).split('$: ')[0] + '$' for error in errors] == [
        'notes.py:7: KaTeX cannot typeset the formula $\\frac{a$']
    assert 'expected' in str(errors[0]).lower()
    assert list(results) == [(False, 'x')]


def test_input_latex_would_read_differently_is_an_error_too(tmp_path):
    _, errors = katex.typeset([formula('é')], tmp_path)
    assert len(errors) == 1 and 'unicodeTextInMathMode' in str(errors[0])


def test_typesetting_runs_while_the_caller_works_and_waits_only_for_the_results(tmp_path):
    results = katex.start_typesetting([formula('c_{ij}'), formula('x', line=2)], tmp_path)
    # The process is started; the caller can do other work before asking for the results.
    typeset, errors = results()
    assert errors == [] and set(typeset) == {(False, 'c_{ij}'), (False, 'x')}
