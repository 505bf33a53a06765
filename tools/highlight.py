"""
---
title: Highlighting code
summary: Pygments colours the code column, the code blocks and the inline code of the notes, in a
  light and a dark theme.
---

# Highlighting code

[Pygments](https://pygments.org) turns code into HTML with a class on each token, and escapes
`<`, `&` and quotes on the way, so that code such as `"</script>"` is shown, never run. The
colours are two Pygments styles, one for light screens and one for dark, chosen by the
reader's `prefers-color-scheme`.
"""

from functools import lru_cache
from typing import List, Optional

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

# The Pygments styles for light and dark screens.
LIGHT_STYLE = 'default'
DARK_STYLE = 'github-dark'

# Token classes only, without a wrapping `<div>` or `<pre>`: the page writer adds its own.
FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=512)
def highlight_file(text: str) -> List[str]:
    """
    ## The code column

    The highlighted HTML of each line of a Python file. The file is highlighted whole, so that a
    string or a bracket that spans lines is read as one token, then cut at the new lines; the
    formatter closes its tags at every line end, so that each line stands alone.
    `stripnl=False` keeps leading blank lines, so that line `k` of the result is line `k` of the
    file. The results of the last files are kept, so that [the build](build.html) can
    highlight them while KaTeX works, before it writes the pages.
    """
    html = highlight(text, PythonLexer(stripnl=False, ensurenl=True), FORMATTER)
    return html.split('\n')[:-1]


@lru_cache(maxsize=None)
def lexer(language: str) -> Optional[Lexer]:
    """
    The Pygments lexer of a language, by its short name; `None` for a name Pygments does not
    know, most likely a typo, which [the notes](markdown.html) report.
    """
    try:
        return get_lexer_by_name(language, stripnl=False)
    except ClassNotFound:
        return None


def highlight_block(code: str, language: str) -> str:
    """
    ## Code blocks in the notes

    A fenced code block, in the language its opening fence names (Python when it names none);
    in a language Pygments does not know, plain text.
    """
    chosen = lexer(language or 'python') or TextLexer(stripnl=False)
    return f'<pre class="highlight"><code>{highlight(code, chosen, FORMATTER)}</code></pre>\n'


def highlight_inline(code: str) -> str:
    """
    ## Inline code

    A code span of the notes, read as Python, which is what the notes mostly quote. The lexer
    ends its output with a new line, which a span does not have.
    """
    html = highlight(code, PythonLexer(stripnl=False, ensurenl=False), FORMATTER)
    return f'<code class="highlight">{html.removesuffix(chr(10))}</code>'


def stylesheet() -> str:
    """
    ## Colours

    The CSS of the token classes: the light style for screens that are not dark, the dark style
    for those that are. Each style sits in its own media query, so that no colour of one leaks
    into the other.

    Pygments draws a red box around what its lexer cannot read (class `err`). Inline code in
    the notes is often not Python (a shell command, a shape such as `[batch, 10]`), so the box
    is left out.
    """
    def rules(style: str) -> str:
        css = HtmlFormatter(style=style).get_token_style_defs('.highlight')
        return '\n'.join('  ' + line for line in css if not line.startswith('.highlight .err '))

    return (f'/* Pygments styles: {LIGHT_STYLE} (light) and {DARK_STYLE} (dark). */\n'
            f'@media not all and (prefers-color-scheme: dark) {{\n{rules(LIGHT_STYLE)}\n}}\n'
            f'@media (prefers-color-scheme: dark) {{\n{rules(DARK_STYLE)}\n}}\n')
