r"""
---
title: Markdown and math
summary: The notes are CommonMark with $-delimited TeX, parsed by markdown-it-py and its dollarmath plugin.
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

A mistake stops the build with its file and line: a `$` that neither opens nor closes a formula,
a code block in a language Pygments does not know. Links and images are collected here and
checked by [the build](build.html), which knows every page of the site.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Set, Tuple

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar

from tools.errors import SourceError
from tools.highlight import highlight_block, highlight_inline
from tools.images import picture
from tools.split import Notes


@dataclass
class Formula:
    """
    A formula as written, whether it is displayed, and where it is.
    """
    tex: str
    display: bool
    path: Path
    line: int

    @property
    def key(self) -> Tuple[bool, str]:
        return self.display, self.tex


@dataclass
class Reference:
    """
    A link or an image: its target as written, and its line.
    """
    target: str
    image: bool
    line: int


@dataclass
class ParsedNotes:
    """
    The tokens of some notes, with the formulas and references found in them.
    """
    tokens: List[Token]
    env: dict
    formulas: List[Formula]
    references: List[Reference]


def _markdown() -> MarkdownIt:
    """
    ## The parser

    CommonMark with tables and strikethrough. Dollar math follows the rules of Pandoc: an
    opening `$` must not be followed by a space, a closing one must not follow a space nor
    stand before a digit, so that prices and shell variables are not read as formulas.
    """
    md = MarkdownIt('commonmark').enable(['table', 'strikethrough'])
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False,
                      allow_blank_lines=False, double_inline=True)
    # A `$$` line may end a paragraph without a blank line before it, as a comment such as
    # `# The squash:` followed by `# $$...$$` would have it; so it may in a list item.
    md.block.ruler.at('math_block', _math_block_that_interrupts(),
                      {'alt': ['paragraph', 'reference', 'blockquote', 'list']})
    md.core.ruler.before('text_join', 'lone_dollars', _lone_dollars)
    md.core.ruler.push('heading_ids', _heading_ids)
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


def _lone_dollars(state: StateCore):
    r"""
    ## Dollars without a partner

    After the inline rules ran, a `$` left in plain text opened no formula or closed none: the
    math would reach the page as raw TeX. An escaped `\$` is a token of its own
    (`text_special`), so this rule runs before those tokens are joined with the text.
    """
    for block, child in _inline_children(state.tokens):
        if child.type == 'text' and '$' in child.content:
            line = _line_of(state.env, block, child.content)
            raise SourceError(state.env['path'], line,
                              f'a `$` here neither opens nor closes a formula, in "{child.content.strip()}": '
                              'write `\\$` for a dollar sign; a formula is `$...$` with no space just inside '
                              'the dollars, and no digit just after the closing one')


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


def parse(path: Path, notes: Notes, ids: Set[str]) -> ParsedNotes:
    """
    ## Parsing

    The tokens of some notes, the formulas to render and the links and images to check. `ids`
    holds the ids already on the page; the headings' ids are added to it.
    """
    env = {'path': path, 'line': notes.line, 'ids': ids, 'cursors': {}}
    tokens = MARKDOWN.parse(notes.text, env)
    formulas, references = [], []
    for token in tokens:
        if token.type == 'math_block':
            formulas.append(Formula(token.content.strip(), True, path, notes.line + token.map[0]))
    env['cursors'] = {}
    for block, child in _inline_children(tokens):
        if child.type in ('math_inline', 'math_inline_double'):
            line = _line_of(env, block, child.content)
            formulas.append(Formula(child.content.strip(), child.type == 'math_inline_double', path, line))
        elif child.type in ('link_open', 'image'):
            target = child.attrGet('href' if child.type == 'link_open' else 'src')
            references.append(Reference(target, child.type == 'image', _line_of(env, block, target)))
    return ParsedNotes(tokens, env, formulas, references)


def render(parsed: ParsedNotes, math: Dict[Tuple[bool, str], str]) -> str:
    """
    ## Rendering

    The HTML of parsed notes; `math` holds the HTML of each formula, by `Formula.key`.
    """
    return MARKDOWN.renderer.render(parsed.tokens, MARKDOWN.options, dict(parsed.env, math=math))


def _math_inline(self, tokens, index, options, env):
    return env['math'][False, tokens[index].content.strip()]


def _math_inline_display(self, tokens, index, options, env):
    return env['math'][True, tokens[index].content.strip()]


def _math_block(self, tokens, index, options, env):
    return f'<div class="math">{env["math"][True, tokens[index].content.strip()]}</div>\n'


def _code_inline(self, tokens, index, options, env):
    return highlight_inline(tokens[index].content)


def _code_block(self, tokens, index, options, env):
    """
    Fenced code blocks are highlighted in the language they name; indented ones as Python.
    """
    token = tokens[index]
    language = token.info.split()[0] if token.type == 'fence' and token.info.strip() else ''
    return highlight_block(token.content, language, env['path'], env['line'] + token.map[0])


def _image(self, tokens, index, options, env):
    """
    ## Images

    An image is a link to itself, so that a click opens it at full size; unless it is already
    inside a link, which would make links inside links. Its size and dark variant are those
    [found by the build](images.html).
    """
    token = tokens[index]
    src = escapeHtml(token.attrGet('src'))
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env))
    title = token.attrGet('title')
    title = f' title="{escapeHtml(title)}"' if title else ''
    img = picture(src, alt, title, env.get('images', {}).get(token.attrGet('src')))
    opened = sum(+1 if t.type == 'link_open' else -1 if t.type == 'link_close' else 0 for t in tokens[:index])
    return img if opened else f'<a class="image" href="{src}">{img}</a>'


RENDER_RULES = {
    'math_inline': _math_inline,
    'math_inline_double': _math_inline_display,
    'math_block': _math_block,
    'code_inline': _code_inline,
    'fence': _code_block,
    'code_block': _code_block,
    'image': _image,
}

# One parser for the whole build.
MARKDOWN = _markdown()
