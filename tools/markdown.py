r"""
---
title: Markdown and math
summary: The notes are CommonMark with $-delimited TeX, parsed by markdown-it-py and its dollarmath
  plugin.
---

# Markdown and math

The notes are [CommonMark](https://commonmark.org), parsed by
[markdown-it-py](https://markdown-it-py.readthedocs.io), with GitHub's tables and
~~strikethrough~~, and math between dollars:

* `$...$` is a formula in the text, such as $c_{ij}$;
* `$$...$$` is a formula displayed on its own, on lines of its own or inside a paragraph:

  $$\mathbf{s}_j = \sum_i c_{ij} \hat{\mathbf{u}}_{j|i}$$

The [dollarmath](https://mdit-py-plugins.readthedocs.io) plugin takes the formulas out
*before* Markdown reads the text, so that Markdown never sees the `_` and `*` of TeX as
emphasis or `\|` as an escaped bar: $\lVert a_1 * b_2 \rVert$ and $\|x\|$ reach KaTeX as written.
A dollar that is just a dollar is written `\$`, as in \$5.

Rendering a page's notes is two steps, with [KaTeX](katex.html) in between: `parse` collects
the formulas of every page, which KaTeX renders in one go, and `render` writes the HTML with
their results.

A TeX environment on lines of its own, `\begin{align}` to `\end{align}` (or `cases`,
`pmatrix`, ...), is displayed math too, without dollars around it, as on labml.ai's site:

\begin{align}
\mathbf{v}_j &= \frac{{\lVert \mathbf{s}_j \rVert}^2}{1 + {\lVert \mathbf{s}_j \rVert}^2}
  \frac{\mathbf{s}_j}{\lVert \mathbf{s}_j \rVert} \\
\mathbf{s}_j &= \sum_i c_{ij} \hat{\mathbf{u}}_{j|i}
\end{align}

Left to Markdown, its `\\` would be eaten as an escaped backslash, and its `_..._` would turn
into italics: raw TeX, mangled, on the page, and nothing said about it. KaTeX reads every
environment labml.ai's sources use (`align`, `cases`, `pmatrix`, `array`), so the whole block
goes to KaTeX as written.

What is doubtful is reported with its file and line, and never reaches a reader silently:

* a `$` that neither opens nor closes a formula is shown as a dollar sign, with a warning;
* `$x $`, with a space before the closing dollar, which Pandoc's rules do not read as a formula
  but labml.ai's generator does, is rendered as the formula and warned about, if what is
  between the dollars looks like math (TeX, or a symbol such as `x`);
* TeX left in the text, such as `\frac` outside any formula, is warned about;
* a code block in a language Pygments does not know is shown as plain text, with a warning.

Links and images are collected here and checked by [the build](build.html), which knows every
page of the site; HTML written in the notes is [sanitised](sanitise.html).
"""

import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar

from tools.addresses import safe_address
from tools.document import Formula, Notes, ParsedNotes, Reference, Section
from tools.errors import SourceError, SourceWarning, warn
from tools.highlight import highlight_block, highlight_inline, lexer
from tools.images import picture
from tools.sanitise import mark, refusals, sanitise


def _markdown() -> MarkdownIt:
    """
    ## The parser

    CommonMark with tables and strikethrough. Dollar math follows the rules of Pandoc: an
    opening `$` must not be followed by a space, a closing one must not follow a space nor
    stand before a digit, so that prices and shell variables are not read as formulas.
    """
    md = MarkdownIt('commonmark').enable(['table', 'strikethrough'])
    # Markdown's own check of addresses makes a `javascript:` link plain text, and says nothing;
    # the build checks every address instead, and reports those it refuses.
    md.validateLink = lambda address: True
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False,
                      allow_blank_lines=False, double_inline=True)
    # A `$$` line may end a paragraph without a blank line before it, as a comment such as
    # `# The squash:` followed by `# $$...$$` would have it; so it may in a list item.
    interrupts = {'alt': ['paragraph', 'reference', 'blockquote', 'list']}
    md.block.ruler.at('math_block', _math_block_that_interrupts(), interrupts)
    # Before `code`: labml.ai's sources indent some environments as deep as a code block.
    md.block.ruler.before('code', 'tex_environment', _tex_environment, interrupts)
    md.core.ruler.before('text_join', 'math_left_in_text', _math_left_in_text)
    md.core.ruler.push('heading_ids', _heading_ids)
    md.core.ruler.push('html_ids', _html_ids)
    for name, rule in RENDER_RULES.items():
        md.add_render_rule(name, rule)
    return md


def _math_block_that_interrupts():
    """
    The plugin's rule for `$$` blocks, made fit to end a paragraph. A paragraph asks each rule
    that may end it whether it would match, in "silent" mode, which must leave no tokens; the
    plugin's rule ignores that mode, so its tokens are taken back here.
    """
    rule = math_block_dollar(allow_labels=False, allow_blank_lines=False)

    def math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if not silent:
            return rule(state, start, end, False)
        tokens, line = len(state.tokens), state.line
        found = rule(state, start, end, False)
        del state.tokens[tokens:]
        state.line = line
        return found

    return math_block


# A line that opens a TeX environment, the commands that open and close one, and the end of
# a line that closes one: nothing after it but a punctuation mark.
ENVIRONMENT_START = re.compile(r'\s*\\begin\{[A-Za-z]+\*?\}')
ENVIRONMENT_EDGE = re.compile(r'\\(begin|end)\{[A-Za-z]+\*?\}')
ENVIRONMENT_END = re.compile(r'\\end\{[A-Za-z]+\*?\}\s*[.,;:]?\s*$')


def _tex_environment(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    r"""
    ## TeX environments without dollars

    From a line that starts with `\begin{...}` to the line where every environment opened since
    is closed, as a formula displayed on its own. An environment never closed, or followed by
    text on its last line, is not one, and is left to Markdown (and then reported as TeX
    outside a formula): prose is never typeset as math.
    """
    if not ENVIRONMENT_START.match(state.src, state.bMarks[start], state.eMarks[start]):
        return False
    depth = 0
    for line in range(start, end):
        text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
        depth += sum(1 if edge == 'begin' else -1 for edge in ENVIRONMENT_EDGE.findall(text))
        if depth <= 0:
            break
    else:
        return False
    if not ENVIRONMENT_END.search(text):
        return False
    if silent:
        return True
    token = state.push('math_block', 'math', 0)
    token.block = True
    token.content = '\n'.join(state.src[state.bMarks[number] + state.tShift[number]:
                                        state.eMarks[number]] for number in range(start, line + 1))
    token.markup = '\\begin'
    token.map = [start, line + 1]
    state.line = line + 1
    return True


# `$x $`: a formula with a space before its closing dollar, which Pandoc's rules do not close.
SPACE_BEFORE_CLOSING = re.compile(r'\$(?=[^\s$])([^$]*?[^\s$])\s+\$(?!\d)')
# A TeX command left in the text: a backslash and letters.
TEX_COMMAND = re.compile(r'\\[A-Za-z]+')
# What between two dollars is taken for a formula although its closing dollar follows a space:
# TeX (a command, a subscript or a superscript) or a symbol of up to three letters and digits.
# Prose about dollars (`$$, $identifier, ${identifier}, and any bare $`) is not.
LOOKS_LIKE_MATH = re.compile(r'\\[A-Za-z]|[_^]|^[A-Za-z0-9]{1,3}$')


def _math_left_in_text(state: StateCore):
    r"""
    ## Math left in the text

    After the inline rules ran, the text holds what no rule took for a formula. A `$x $` there
    becomes the formula it was meant to be, if it looks like one. A `$` still left opened no
    formula or closed none, and a `\frac` is TeX outside any formula: both would reach the page
    as raw TeX, so both are reported. The text is read in runs, as the reader will see it; the
    characters escaped with a backslash (`\$`, `\\`) are tokens of their own (`text_special`),
    and are neither dollars nor TeX, so this rule runs before those tokens are joined with the
    text.
    """
    for block in state.tokens:
        if block.type != 'inline':
            continue
        block.children = _read_text(state, block, block.children or [])
        for child in block.children:
            if child.children:
                child.children = _read_text(state, block, child.children)


def _read_text(state: StateCore, block: Token, children: List[Token]) -> List[Token]:
    """
    The inline tokens `children` with each run of text joined into one token, and each
    `$x $` in it made a formula; the warnings go to the problems of `state.env`.
    """
    result: List[Token] = []
    run: List[Token] = []
    for child in children + [None]:
        if child is not None and child.type in ('text', 'text_special'):
            run.append(child)
            continue
        if run:
            result.extend(_text_run(state, block, run))
            run = []
        if child is not None:
            result.append(child)
    return result


def _text_run(state: StateCore, block: Token, run: List[Token]) -> List[Token]:
    """
    One run of text tokens, as text and formulas. In `masked`, escaped characters are hidden
    from the patterns.
    """
    text = ''.join(token.content for token in run)
    masked = ''.join('\0' * len(token.content) if token.content != token.markup
                     and token.type == 'text_special' else token.content for token in run)
    env = state.env
    tokens, texts, position = [], [], 0
    for match in SPACE_BEFORE_CLOSING.finditer(masked):
        written, tex = text[match.start():match.end()], text[match.start(1):match.end(1)]
        if not LOOKS_LIKE_MATH.search(tex):
            continue
        warn(env['problems'], SourceWarning(
            env['path'], _line_of(env, block, written),
            f'`{written}` has a space before its closing `$`: it is rendered as a formula, but '
            f'other Markdown readers leave it as text; write `${tex}$`'))
        texts.append((position, match.start()))
        tokens += [_text(text[position:match.start()]),
                   Token('math_inline', 'math', 0, content=tex, markup='$')]
        position = match.end()
    texts.append((position, len(text)))
    tokens.append(_text(text[position:]))
    for start, end in texts:
        dollar = masked.find('$', start, end)
        if dollar >= 0:
            warn(env['problems'], SourceWarning(
                env['path'], _line_of(env, block, text[start:dollar + 1]),
                f'a `$` here neither opens nor closes a formula, in "{_around(text, dollar)}", '
                'and is shown as a dollar sign: write `\\$` for a dollar sign; a formula is '
                '`$...$` with no space just inside the dollars, and no digit just after the '
                'closing one'))
        command = TEX_COMMAND.search(masked, start, end)
        if command:
            warn(env['problems'], SourceWarning(
                env['path'], _line_of(env, block, command.group()),
                f'`{command.group()}` looks like TeX outside a formula, and is shown as '
                f'written, in "{_around(text, command.start())}": if it is math, put it between '
                'dollars, `$...$`; if it is code, in a code span'))
    return [token for token in tokens if token.type != 'text' or token.content]


def _text(content: str) -> Token:
    return Token('text', '', 0, content=content)


def _around(text: str, index: int, width: int = 30) -> str:
    """
    The words of `text` around `index`, to quote in a message.
    """
    return ' '.join(text[max(0, index - width):index + width].split())


def _heading_ids(state: StateCore):
    """
    ## Heading anchors

    Each heading gets an id made from its text, the way GitHub makes them (`## Margin loss`
    becomes `#margin-loss`), so that notes can link to `#margin-loss` on the same page or
    `index.html#margin-loss` on another. The ids are unique over the whole page, the ids of its
    sections (`section-3`) included: a repeated one gets `-1`, `-2` appended.
    """
    used: Set[str] = state.env['ids']
    for index, token in enumerate(state.tokens):
        if token.type != 'heading_open':
            continue
        text = ''.join(child.content for child in state.tokens[index + 1].children or []
                       if child.type in ('text', 'code_inline', 'math_inline'))
        slug = re.sub(r'\s', '-', re.sub(r'[^\w\- ]', '', text.strip().lower())) or 'heading'
        unique, count = slug, 0
        while unique in used:
            count += 1
            unique = f'{slug}-{count}'
        used.add(unique)
        token.attrSet('id', unique)


# The id (or name) of an element of the HTML written in the notes: `<a id="MHA"></a>`.
HTML_ID = re.compile(r'\b(?:id|name)\s*=\s*["\']([^"\']+)["\']')


def _html_ids(state: StateCore):
    """
    The ids of the elements of HTML written in the notes are anchors of the page too.
    """
    html = [token.content for token in state.tokens if token.type == 'html_block']
    html += [child.content for _, child in _inline_children(state.tokens)
             if child.type == 'html_inline']
    state.env['ids'].update(name for part in html for name in HTML_ID.findall(part))


def _inline_children(tokens: List[Token]):
    """
    Each inline token's children, with the inline token they belong to.
    """
    for block in tokens:
        if block.type == 'inline':
            for child in block.children or []:
                yield block, child
                for grandchild in child.children or []:
                    yield block, grandchild


def _line_of(env: dict, block: Token, written: str) -> int:
    """
    The line of the source where `written` appears in the inline `block`: the block's first line,
    plus the new lines before the first appearance after the last one asked about. Text the
    parser has changed (entities, escapes) is put at the block's first line.
    """
    first = env['line'] + (block.map[0] if block.map else 0)
    cursor = env['cursors'].get(id(block), 0)
    found = block.content.find(written, cursor)
    if found < 0:
        return first
    env['cursors'][id(block)] = found + 1
    return first + block.content[:found].count('\n')


def parse(path: Path, notes: Notes, ids: Set[str],
          problems: List[SourceError] = None) -> ParsedNotes:
    """
    ## Parsing

    The tokens of some notes, the formulas to render and the links and images to check. `ids`
    holds the ids already on the page; the headings' ids are added to it. Warnings go to
    `problems`.
    """
    env = {'path': path, 'line': notes.line, 'ids': ids, 'cursors': {}, 'problems': problems}
    tokens = MARKDOWN.parse(notes.text, env)
    formulas, references = [], []
    for token in tokens:
        line = notes.line + token.map[0] if token.map else notes.line
        if token.type == 'math_block':
            formulas.append(Formula(token.content.strip(), True, path, line))
        language = token.info.split()[0] if token.type == 'fence' and token.info.strip() else ''
        if language and lexer(language) is None:
            warn(problems, SourceWarning(path, line, f'the code block names the language '
                                                     f'`{language}`, which Pygments does not '
                                                     'know, and is shown as plain text; use a '
                                                     'Pygments short name such as `python` or '
                                                     '`bash`'))
    _report_written_html(path, tokens, env, problems)
    env['cursors'] = {}
    links: List[Token] = []
    for block, child in _inline_children(tokens):
        if child.type == 'link_open':
            links.append(child)
        elif child.type == 'link_close':
            # Where a link ends, so that the build can take out both ends of a broken one.
            opening = links.pop()
            opening.meta['close'], child.meta['open'] = child, opening
        if child.type in ('math_inline', 'math_inline_double'):
            line = _line_of(env, block, child.content)
            display = child.type == 'math_inline_double'
            formulas.append(Formula(child.content.strip(), display, path, line))
        elif child.type in ('link_open', 'image'):
            target = child.attrGet('href' if child.type == 'link_open' else 'src')
            line = _line_of(env, block, target)
            references.append(Reference(target, child.type == 'image', line, child))
    return ParsedNotes(tokens, env, formulas, references)


def _report_written_html(path: Path, tokens: List[Token], env: dict,
                         problems: List[SourceError]):
    """
    ## HTML written in the notes

    Each tag, attribute or address of the HTML written in the notes that is
    [left out of the page](sanitise.html), reported at its line; and the notes after it, where
    that HTML hides them.
    """
    written = _written_html(tokens, env)
    for line, html in written:
        for offset, message in refusals(html):
            warn(problems, SourceError(path, line + offset - 1, message))
    if not written:
        return
    rendered = MARKDOWN.renderer.render(tokens, MARKDOWN.options, dict(env, math={}))
    _, lost = sanitise(rendered)
    if lost:
        line = written[max(lost[0] - 1, 0)][0]
        warn(problems, SourceError(path, line, 'the HTML here hides the notes after it, which are '
                                               'left out of the page: close its comment or '
                                               'element'))


def _written_html(tokens: List[Token], env: dict) -> List[Tuple[int, str]]:
    """
    The pieces of HTML written in some notes, in the order they are rendered, each with its
    line. HTML in the description of an image is not among them: it is shown as text.
    """
    env['cursors'] = {}
    written = []
    for token in tokens:
        if token.type == 'html_block':
            written.append((env['line'] + token.map[0], token.content))
        for child in (token.children or []) if token.type == 'inline' else []:
            if child.type == 'html_inline':
                written.append((_line_of(env, token, child.content), child.content))
    return written


# The longest summary taken from a paragraph, in characters.
SUMMARY_LENGTH = 300


def title_and_summary(sections: List[Section], meta: Dict[str, str],
                      name: str) -> Tuple[str, str]:
    """
    ## A page without front matter

    A page without a `title` in its [front matter](front_matter.html) takes the text of its
    first heading, the way a reader would name it, and only a page without headings is named
    by its file. A page without a `summary` takes the first paragraph of its module docstring,
    if it is text (no formula, no picture).

    Returns the title and summary of a page: those of its front matter `meta`, or else the text
    of the first heading of its notes (or `name`), and the first paragraph of its module
    docstring, cut at a word near `SUMMARY_LENGTH` characters.
    """
    title, summary = meta.get('title'), meta.get('summary')
    if title is None:
        title = next((text for section in sections for notes in section.notes
                      for tag, text, _ in outline(notes.text) if tag.startswith('h') and text),
                     name)
    if summary is None:
        module = [notes for notes in sections[0].notes if notes.kind == 'module'][:1]
        paragraphs = [(text, rich) for notes in module for tag, text, rich in outline(notes.text)
                      if tag == 'p']
        summary = paragraphs[0][0] if paragraphs and not paragraphs[0][1] else ''
        if len(summary) > SUMMARY_LENGTH:
            summary = summary[:SUMMARY_LENGTH].rsplit(' ', 1)[0] + ' …'
    return title, summary


def outline(text: str) -> List[Tuple[str, str, bool]]:
    """
    The headings and paragraphs of some notes, in order, each as its tag (`h1`, `p`, ...), its
    text without markup (a formula as its TeX, a link as its words, no HTML) and whether it
    holds a formula or an image; for the names and summaries of pages without front matter.
    Only headings written with `#` count: a line underlined with `===` is more often a banner
    of reStructuredText than a heading. Problems are left to the parse of the page itself.
    """
    env = {'path': Path(), 'line': 1, 'ids': set(), 'cursors': {}, 'problems': []}
    tokens = MARKDOWN.parse(text, env)
    blocks = []
    for opening, inline in zip(tokens, tokens[1:]):
        heading = opening.type == 'heading_open' and opening.markup.startswith('#')
        if (heading or opening.type == 'paragraph_open') and inline.type == 'inline':
            parts = list(_inline_children([inline]))
            words = ''.join(' ' if child.type in ('softbreak', 'hardbreak') else child.content
                            for _, child in parts if child.type not in ('image', 'html_inline'))
            rich = any(child.type.startswith('math') or child.type == 'image' for _, child in parts)
            blocks.append((opening.tag, ' '.join(words.split()), rich))
    return blocks


def retarget(reference: Reference, target: str):
    """
    Points a link or an image at `target` instead of what was written.
    """
    reference.token.attrSet('src' if reference.image else 'href', target)


def unlink(reference: Reference):
    """
    Leaves out a link that leads nowhere, keeping its text; an image that is not there becomes
    its description.
    """
    reference.token.meta['unlinked'] = True
    if 'close' in reference.token.meta:
        reference.token.meta['close'].meta['unlinked'] = True


def render(parsed: ParsedNotes, math: Dict[Tuple[bool, str], str]) -> str:
    """
    ## Rendering

    The HTML of parsed notes; `math` holds the HTML of each formula, by `Formula.key`.
    """
    html = MARKDOWN.renderer.render(parsed.tokens, MARKDOWN.options, dict(parsed.env, math=math))
    return sanitise(html)[0]


def _math_inline(self, tokens, index, options, env):
    return _formula(tokens[index], False, env)


def _math_inline_display(self, tokens, index, options, env):
    return _formula(tokens[index], True, env)


def _math_block(self, tokens, index, options, env):
    return f'<div class="math">{_formula(tokens[index], True, env)}</div>\n'


def _formula(token: Token, display: bool, env: dict) -> str:
    """
    The HTML KaTeX made of a formula; for a formula it could not read (an error the build
    reports), the formula as written, in a code span: where the dollars were not meant as
    math, as in a docstring that knows nothing of TeX, that is what its author wrote.
    """
    typeset = env['math'].get((display, token.content.strip()))
    if typeset is not None:
        return typeset
    written = token.content
    if token.markup != '\\begin':
        written = token.markup + written + token.markup
    return f'<code>{escapeHtml(written)}</code>'


def _code_inline(self, tokens, index, options, env):
    return highlight_inline(tokens[index].content)


def _code_block(self, tokens, index, options, env):
    """
    Fenced code blocks are highlighted in the language they name; indented ones as Python.
    """
    token = tokens[index]
    language = token.info.split()[0] if token.type == 'fence' and token.info.strip() else ''
    return highlight_block(token.content, language)


def _link(self, tokens, index, options, env):
    """
    A link that leads nowhere is left out, both its ends, and its text stays, as plain text; so
    is a link to an address [refused](sanitise.html), which the build reports.
    """
    if tokens[index].meta.get('unlinked') or not _safe(tokens[index]):
        return ''
    return self.renderToken(tokens, index, options, env)


def _safe(token: Token) -> bool:
    """
    Whether a link or an image leads to an address a page may hold. The end of a link is safe
    when its start is.
    """
    if token.type == 'link_close':
        opening = token.meta.get('open')
        return opening is None or _safe(opening)
    return safe_address(token.attrGet('src' if token.type == 'image' else 'href') or '')


def _written(self, tokens, index, options, env):
    """
    HTML written in the notes, marked, to be [sanitised](sanitise.html).
    """
    return mark(tokens[index].content)


def _image(self, tokens, index, options, env):
    """
    ## Images

    An image is a link to itself, so that a click opens it at full size; unless it is already
    inside a link, which would make links inside links. Its size and dark variant are those
    [found by the build](images.html).
    """
    token = tokens[index]
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env))
    if token.meta.get('unlinked') or not _safe(token):
        return alt
    src = escapeHtml(token.attrGet('src'))
    title = token.attrGet('title')
    title = f' title="{escapeHtml(title)}"' if title else ''
    img = picture(src, alt, title, env.get('images', {}).get(token.attrGet('src')))
    opened = sum(+1 if t.type == 'link_open' else -1 if t.type == 'link_close' else 0
                 for t in tokens[:index])
    return img if opened else f'<a class="image" href="{src}">{img}</a>'


RENDER_RULES = {
    'math_inline': _math_inline,
    'math_inline_double': _math_inline_display,
    'math_block': _math_block,
    'code_inline': _code_inline,
    'fence': _code_block,
    'code_block': _code_block,
    'image': _image,
    'link_open': _link,
    'link_close': _link,
    'html_block': _written,
    'html_inline': _written,
}

# One parser for the whole build.
MARKDOWN = _markdown()
