"""
---
title: The HTML allowed in the notes
summary: HTML written in the notes is sanitised as GitHub sanitises a README, with nh3; what is
  left out is reported at its line.
---

# The HTML allowed in the notes

CommonMark lets notes hold HTML, and sources use it for what Markdown lacks: a line break
`<br>`, `<sub>` and `<sup>`, a key `<kbd>`, a `<details>` that opens on a click, an anchor
`<a id="...">`. But a page is read in its readers' browsers, at the site's address: a
`<script>`, an `onerror=` attribute, an `<iframe>` or a `javascript:` link written in a
docstring, a Markdown file or a notebook's cell would run there, whoever wrote it. So the HTML
of the notes is sanitised as GitHub sanitises a README: an allow-list of harmless tags and
attributes, close to GitHub's, and [addresses](addresses.html) that are `http`, `https`,
`mailto` or relative. Everything else is left out of the page and reported at its file and
line, as an error: the page is rendered without it, and a `--strict` build stops.

The addresses that Markdown itself writes, `[text](javascript:...)` or `![](data:...)`, follow
the same rule: [the build](build.html) refuses them as it refuses a link that leads nowhere.

## Why nh3

A sanitiser must read HTML exactly as a browser does, or a trick that it reads differently
(`<scr<script>ipt>`, a tab inside `javascript:`, an entity in an address) slips through. So
the page holds what [nh3](https://nh3.readthedocs.io) writes: it binds the Rust library
[ammonia](https://github.com/rust-ammonia/ammonia), which parses with html5ever, the HTML5
parsing algorithm of browsers, and writes out only what its allow-list names. It is maintained,
and fast. bleach, the older choice in Python, is deprecated by its own maintainers, who point
to nh3. nh3 is pinned in `requirements.txt`: another version could write a byte differently.

nh3 says nothing of what it left out, so the report comes from a second reading of the same
HTML, with Python's `html.parser`, against the same allow-list. That reading only reports: a
trick that fools it is still left out by nh3.

## Only the HTML written in the notes

The rest of the HTML of the notes is the generator's own: Markdown's tags, KaTeX's math,
Pygments' code, the pictures. It must stay as it is (KaTeX's MathML and styles would not pass
an allow-list for readers' HTML), and the addresses in it are checked by the build. So the
renderer marks each piece of HTML written in the notes, and nh3 reads the notes with every
piece of the generator's replaced by a placeholder: the written HTML is sanitised in its
context (a `<details>` opened in one paragraph and closed after the next is one element), and
the placeholders are then replaced by the generator's pieces. A placeholder cannot be forged:
its name holds a digest of the whole HTML it sits in. Notes without HTML of their own are left
as they are.

A piece of the generator's that nh3's output lost was swallowed by the written HTML before it,
an unclosed comment say, and is reported there.
"""

import hashlib
import re
from html.parser import HTMLParser
from typing import List, Tuple

import nh3

from tools.addresses import ADDRESS_RULE, SCHEMES, safe_address

# The tags the notes may hold: text, headings, lists, tables, quotes and code, and those GitHub
# allows in a README for what Markdown lacks.
TAGS = frozenset({
    'a', 'abbr', 'b', 'bdo', 'blockquote', 'br', 'caption', 'cite', 'code', 'dd', 'del',
    'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4',
    'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q', 'rp', 'rt',
    'ruby', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'summary', 'sup', 'table',
    'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr'})

# The attributes any of them may have: no event handler (`onerror`), no `style`.
ATTRIBUTES = frozenset({
    'align', 'alt', 'aria-hidden', 'aria-label', 'colspan', 'datetime', 'dir', 'height', 'id',
    'lang', 'name', 'open', 'rowspan', 'scope', 'start', 'title', 'valign', 'width'})

# The attribute of each tag that holds an address.
ADDRESSES = {'a': 'href', 'img': 'src', 'blockquote': 'cite', 'del': 'cite', 'ins': 'cite',
             'q': 'cite'}

# Where it points, what a person reads about the allow-list.
WHERE = 'notes hold only the HTML listed on the page "The HTML allowed in the notes"'

CLEANER = nh3.Cleaner(tags=set(TAGS), url_schemes=set(SCHEMES), link_rel=None,
                      attributes={'*': set(ATTRIBUTES),
                                  **{tag: {name} for tag, name in ADDRESSES.items()}})


class _Refusals(HTMLParser):
    """
    ## The report

    What a piece of HTML holds that the allow-list refuses, as `(line in the piece, message)`.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: List[Tuple[int, str]] = []

    def handle_starttag(self, tag, attributes):
        line = self.getpos()[0]
        if tag not in TAGS:
            self.found.append((line, f'the HTML tag <{tag}> is left out of the page: {WHERE}, '
                                     'with no script, frame, form or style'))
            return
        for name, value in attributes:
            if name == ADDRESSES.get(tag):
                if not safe_address(value or ''):
                    self.found.append((line, f'the address `{value}` of <{tag} {name}> is left '
                                             f'out of the page: {ADDRESS_RULE}'))
            elif name not in ATTRIBUTES:
                self.found.append((line, f'the attribute `{name}` of <{tag}> is left out of the '
                                         f'page: {WHERE}, with no event handler or style'))

    def handle_decl(self, declaration):
        self._markup(f'<!{declaration}>')

    def unknown_decl(self, declaration):
        self._markup(f'<![{declaration}]>')

    def handle_pi(self, instruction):
        self._markup(f'<?{instruction}>')

    def _markup(self, written: str):
        self.found.append((self.getpos()[0], f'`{written[:40]}` is left out of the page: {WHERE}'))


def refusals(html: str) -> List[Tuple[int, str]]:
    """
    What a piece of HTML written in the notes holds that is left out of the page: each tag,
    attribute, address or declaration, with its line in the piece, from 1.
    """
    reader = _Refusals()
    reader.feed(html)
    reader.close()
    # Markdown ends a comment only where it closes: one never closed hides the rest of the notes.
    if html.rfind('<!--') > html.rfind('-->'):
        reader.found.append((html[:html.rfind('<!--')].count('\n') + 1,
                             'the comment opened here is never closed, and hides the rest of '
                             'the notes: close it with `-->`'))
    return reader.found


# The mark around each piece of HTML written in the notes: a NUL, which no source can hold
# (Markdown replaces it with U+FFFD, as CommonMark asks).
MARK = '\0'


def mark(html: str) -> str:
    return f'{MARK}{html}{MARK}'


def sanitise(html: str) -> Tuple[str, List[int]]:
    """
    ## Sanitising

    The HTML of some notes, with the pieces marked as written in the notes sanitised; and the
    numbers of the generator's pieces that the sanitised HTML lost: the piece after the `n`-th
    written piece is number `n`, the one before the first is number 0.
    """
    parts = html.split(MARK)
    if len(parts) == 1:
        return html, []
    # [generator's, written, generator's, written, ..., generator's]
    generated, written = parts[0::2], parts[1::2] + ['']
    name = hashlib.sha256(html.encode()).hexdigest()[:16]
    placeholder = re.compile(f'\ue000{name}([0-9]+)\ue001')
    marked = ''.join(f'\ue000{name}{number}\ue001{written[number]}'
                     for number in range(len(generated)))
    kept: List[int] = []

    def restore(match: re.Match) -> str:
        kept.append(int(match.group(1)))
        return generated[kept[-1]]

    clean = placeholder.sub(restore, CLEANER.clean(marked))
    lost = [number for number, piece in enumerate(generated)
            if piece.strip() and number not in kept]
    return clean, lost
