"""
---
title: Math with KaTeX, in one process
summary: Every formula of a build is typeset by KaTeX in a single Node.js process, to HTML and
  MathML, and cached.
---

# Math with KaTeX, in one process

The formulas are typeset when the site is built, not in the reader's browser: a page opens with
its math in place and without JavaScript, and a formula KaTeX cannot read stops the build
instead of reaching a reader as raw TeX.

[KaTeX](https://katex.org) is a JavaScript library, pinned in `package.json`. Starting Node.js
costs a good part of a second, so all the formulas of a build go to one process: the script
`tools/katex_render.js` beside this file reads them as a JSON list on its standard input and
writes their HTML, or KaTeX's error, as a JSON list on its standard output.
Each result is HTML for the eye plus MathML for screen readers.

Results are cached by formula in the build folder (`.build/katex.json`), with the version of
KaTeX and of the script that made them, so that a rebuild typesets only new formulas.
"""

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from tools.document import Formula
from tools.errors import BuildError, SourceError
from tools.files import read_cache, write_cache

# The KaTeX package `npm ci` installs, and the script that drives it.
KATEX_PACKAGE = Path(__file__).resolve().parent.parent / 'node_modules' / 'katex'
SCRIPT = Path(__file__).resolve().parent / 'katex_render.js'


def katex_version() -> str:
    """
    The version of the installed KaTeX; missing KaTeX is a set-up problem with a known fix.
    """
    try:
        return json.loads((KATEX_PACKAGE / 'package.json').read_text())['version']
    except FileNotFoundError:
        raise BuildError(f'KaTeX is not installed ({KATEX_PACKAGE} is missing): run `make setup`, '
                         'or `npm ci`') from None


# The HTML of each formula, by `Formula.key`, and the errors.
Results = Tuple[Dict[Tuple[bool, str], str], List[SourceError]]


def typeset(formulas: List[Formula], cache: Path) -> Results:
    """
    ## Typesetting

    The HTML of each formula, by `Formula.key`, and an error for each place where a formula
    KaTeX cannot read is written, naming the file, the line, the formula and KaTeX's reason.
    """
    return start_typesetting(formulas, cache)()


def start_typesetting(formulas: List[Formula], cache: Path) -> Callable[[], Results]:
    """
    Starts typesetting, and returns the function that waits for the results. KaTeX works in
    a process of its own, so that the build can do other work (highlighting the code, say)
    on another core meanwhile.
    """
    # A new KaTeX, or a change to the script's options, typesets every formula again.
    version = [katex_version(), hashlib.sha256(SCRIPT.read_bytes()).hexdigest()]
    if not formulas:
        return lambda: ({}, [])
    cache_file = cache / 'katex.json'
    known = read_cache(cache_file, version)

    def name(key: Tuple[bool, str]) -> str:
        return ('display:' if key[0] else 'inline:') + key[1]

    # The formulas not typeset before, each once, in a fixed order.
    missing = sorted({f.key for f in formulas if name(f.key) not in known})
    katex = _start_katex(missing) if missing else None

    def results() -> Results:
        failed = {}
        if katex is not None:
            for key, result in zip(missing, _katex_results(katex)):
                if 'html' in result:
                    known[name(key)] = result['html']
                else:
                    failed[key] = result['error']
            write_cache(cache_file, version, known)
        errors = [SourceError(f.path, f.line,
                              f'KaTeX cannot typeset the formula ${f.tex}$: {failed[f.key]}')
                  for f in formulas if f.key in failed]
        return {f.key: known[name(f.key)] for f in formulas if f.key not in failed}, errors

    return results


def _start_katex(keys: List[Tuple[bool, str]]) -> subprocess.Popen:
    """
    ## The one process

    Starts `katex_render.js` once for all the formulas, and gives it the formulas. It reads
    them all before it writes anything, so writing them here cannot wait on its output.
    """
    request = json.dumps([{'tex': tex, 'display': display} for display, tex in keys])
    try:
        katex = subprocess.Popen(['node', str(SCRIPT)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 encoding='utf-8', cwd=SCRIPT.parent)
    except FileNotFoundError:
        raise BuildError('Node.js (`node`) is needed to typeset the math, and is not on the PATH: '
                         'install Node.js 20, then run `make setup`') from None
    try:
        katex.stdin.write(request)
        katex.stdin.close()
    except BrokenPipeError:
        # The process ended early; its error is read with its results.
        pass
    return katex


def _katex_results(katex: subprocess.Popen) -> List[dict]:
    """
    What the process wrote, once it is done: a result for each formula.
    """
    output, errors = katex.stdout.read(), katex.stderr.read()
    if katex.wait() != 0:
        raise BuildError(f'KaTeX failed ({SCRIPT.name} exited with {katex.returncode}): '
                         f'{errors.strip()}\nIs KaTeX installed? Run `make setup`, or '
                         '`npm ci`.')
    return json.loads(output)
