"""
---
title: Writing a page
summary: The Jinja2 template that lays the notes beside the code, with the page's navigation,
  contents and metadata.
---

# Writing a page

A page is one Jinja2 template, `tools/templates/page.html`, filled with the rendered sections:
each section's notes in the left column, its code in the right, with the line numbers of the
file. Around them:

* the breadcrumb, the previous, next and up links of the tutorial, and a link to the source
  file;
* on a page with three headings or more, its contents: a list of its headings, after its
  first section;
* a footer, with the site's name, the source and a way back to the top;
* in the `<head>`: the title, the description, the icon, and the Open Graph and Twitter tags
  that previews of a shared link read, with the page's picture: its first image, or else the
  home page's; and the page's [scripts](build.html#scripts), if the build allows them.

Pages link to each other, to the stylesheets and to the copies of their sources with relative
links, so that the site works from any address, and from the file system. The only absolute
addresses are those of the canonical URL and the preview picture, for search engines and link
previews, and a page has them only when the address of the published site is given
(`--site-url`); likewise, "View source" leads to the repository only when its address is given
(`--source-url`).

The template escapes every value it is given, except the HTML the Markdown renderer and
Pygments made, which they escaped themselves.
"""

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional
from urllib.parse import quote, unquote, urlsplit

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from tools.addresses import safe_address
from tools.document import Page
from tools.highlight import highlight_file
from tools.images import CODE_WIDTH
from tools.notebook import Output, read_notebook
from tools.site import (HOME, Navigation, href, links_in, published_path, source_copy,
                        tutorial_order)

TEMPLATES = Path(__file__).resolve().parent / 'templates'

# A page with this many headings or more lists them after its first section.
CONTENTS_MIN_HEADINGS = 3


@dataclass
class SiteConfig:
    """
    ## What every page needs to know

    `name` is the home page's title; `site_url` the address the site is published at;
    `source_url` the address under which the repository's files are shown, for the *view
    source* links (each `None` when not given); `image` the picture of link previews of pages
    without one of their own, by its path in the site (or nothing).
    """
    name: str
    site_url: Optional[str]
    source_url: Optional[str]
    image: str = ''


@dataclass
class RenderedSection:
    """
    The HTML of a section: its id, notes and code.
    """
    id: str
    notes: Markup
    code: Markup


@dataclass
class Heading:
    """
    A heading of the page, for its contents: its level (2 or 3), id and HTML, and the headings
    below it (those of level 3 under one of level 2).
    """
    level: int
    id: str
    html: Markup
    below: List['Heading'] = field(default_factory=list)


@dataclass
class ContentsGroup:
    """
    On the home page, the pages of one folder: a heading (linking to the folder's index, when it
    has one) and the other pages.
    """
    title: str
    index: Optional[Page]
    pages: List[Page]


def section_id(number: int) -> str:
    """
    The anchor of a page's section `number`, counted from 1.
    """
    return f'section-{number}'


def code_html(highlighted: List[str], lines: List[int],
              outputs: Dict[int, List[Output]] = None) -> Markup:
    """
    ## The code column

    The highlighted lines of a section, each with its number in the file. The number is drawn
    by the stylesheet from `data-line`, so that it is not copied with the code. In a
    [notebook](notebook.html), `outputs` holds the outputs of each cell by its last line: each
    cell is a block of its own, followed by its outputs.
    """
    outputs = outputs or {}
    blocks, block = [], []
    for number in lines:
        block.append(f'<span class="line" data-line="{number}">{highlighted[number - 1]}</span>')
        if number in outputs or number == lines[-1]:
            blocks.append(f'<pre class="highlight"><code>{chr(10).join(block)}</code></pre>')
            blocks.extend(output_html(output) for output in outputs.get(number, []))
            block = []
    return Markup(''.join(blocks))


def output_html(output: Output) -> Markup:
    """
    ## The HTML of an output

    Text in a `<pre>`, escaped; a picture as an `<img>` of its file, with its size, which opens
    the file on a click. A picture wider than the code column is [wide](images.html), as a
    figure of the notes is.
    """
    if output.file is None:
        return Markup(f'<pre class="output {output.kind}">{escape(output.text)}</pre>')
    width, height = output.size
    wide = ' class="wide"' if width > CODE_WIDTH else ''
    file = escape(output.file)
    return Markup(f'<div class="output picture"><a class="image" href="{file}"><img src="{file}" '
                  f'alt="A picture drawn by the cell" width="{width}" height="{height}"{wide} '
                  'loading="lazy"></a></div>')


# The headings of the rendered notes, as the Markdown renderer writes them.
HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)</h\1>', re.S)


def headings(notes: List[Markup]) -> List[Heading]:
    """
    ## Contents

    The headings of a page's notes below its title, in order: those of level 2, each with the
    headings of level 3 below it. A heading of level 3 before any of level 2 stands on its own.
    """
    found: List[Heading] = []
    for section in notes:
        for level, id, html in HEADING.findall(section):
            heading = Heading(int(level), id, Markup(html))
            if heading.level == 3 and found and found[-1].level == 2:
                found[-1].below.append(heading)
            else:
                found.append(heading)
    return found


def preview_image(page: Page) -> str:
    """
    ## The preview picture

    The first image of a page's notes, by its path in the site, or its address when it is
    on another site; nothing for a page without one. An address the notes may not hold (a
    `data:` image, say) is no preview.
    """
    for section in page.sections:
        for notes in section.notes:
            for kind, address in links_in(notes.text):
                if kind == 'image' and safe_address(address):
                    return _in_site(page, address)
    return ''


def _in_site(page: Page, address: str) -> str:
    """
    The path in the site of an address relative to a page; other sites' addresses as they are.
    """
    parts = urlsplit(address)
    if parts.scheme or parts.netloc:
        return address
    return posixpath.normpath(posixpath.join(str(page.folder), unquote(parts.path)))


# The Markdown of a summary: code spans, emphasis and escapes, no links, images nor HTML.
SUMMARY = MarkdownIt('zero').enable(['backticks', 'emphasis', 'escape', 'entity'])


def summary_html(summary: str) -> Markup:
    """
    ## Summaries

    A summary is one line of Markdown: on the home page its code spans are code, and in the
    `<head>` (`summary_text`), where no markup shows, its backticks go.
    """
    return Markup(SUMMARY.renderInline(summary).strip())


def summary_text(summary: str) -> str:
    tokens = SUMMARY.parseInline(summary)[0].children or []
    return ''.join(token.content for token in tokens if token.type in ('text', 'code_inline'))


def contents(pages: List[Page]) -> List[ContentsGroup]:
    """
    ## The list of pages on the home page

    Every page but the home page, grouped by folder, in reading order.
    """
    groups = []
    for folder, members in tutorial_order(pages).items():
        index = members[0] if members[0].is_index else None
        others = [page for page in members if page is not index and page.output != HOME]
        if index is not None and index.output == HOME:
            index = None
        if index is None and not others:
            continue
        title = index.title if index is not None else str(folder)
        groups.append(ContentsGroup(title, index, others))
    return groups


def source_link(page: Page, config: SiteConfig) -> Optional[str]:
    """
    ## View source

    Where a page's "View source" leads: the repository's page of its file, under `source_url`;
    without one, [the copy of the source](site.html#the-copy-of-a-source) beside the page;
    nothing for a home page made for a folder, which has no source file.
    """
    if config.source_url:
        return f'{config.source_url.rstrip("/")}/{page.source}'
    copy = source_copy(page)
    return href(page.output, copy) if copy else None


ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                 trim_blocks=True, lstrip_blocks=True)
ENVIRONMENT.filters.update(summary_html=summary_html, summary_text=summary_text)


def render_page(page: Page, notes: List[Markup], navigation: Navigation, config: SiteConfig,
                has_math: bool, all_pages: List[Page],
                scripts: List[PurePosixPath] = ()) -> str:
    """
    ## Filling the template

    `notes` holds the HTML of each section's notes. The home page also lists every page of the
    site. `scripts` are the files, by their path in the site, that the page runs.
    """
    outputs: Dict[int, List[Output]] = {}
    if page.source.suffix == '.ipynb':
        notebook = read_notebook(page.source, page.text)
        highlighted, outputs = highlight_file(notebook.code), notebook.outputs
    else:
        highlighted = highlight_file(page.text) if page.source.suffix == '.py' else []
    sections = [RenderedSection(section_id(number), note,
                                code_html(highlighted, section.code, outputs) if section.code
                                else Markup(''))
                for number, (section, note) in enumerate(zip(page.sections, notes), start=1)]
    is_home = page.output == HOME
    page_headings = headings(notes)
    count = sum(1 + len(heading.below) for heading in page_headings)
    site_url = config.site_url.rstrip('/') if config.site_url else None
    # A picture of the site is named by its absolute address, which only a given site has.
    image = preview_image(page) or config.image
    if image and not urlsplit(image).scheme:
        image = f'{site_url}/{quote(image)}' if site_url else ''
    template = ENVIRONMENT.get_template('page.html')
    return template.render(
        page=page,
        site=config,
        nav=navigation,
        sections=sections,
        notes_only=not any(section.code for section in page.sections),
        has_math=has_math,
        is_home=is_home,
        head_title=config.name if is_home else f'{page.title} · {config.name}',
        url=f'{site_url}/{published_path(page.output)}' if site_url else None,
        image=image,
        headings=page_headings if count >= CONTENTS_MIN_HEADINGS else [],
        source_link=source_link(page, config),
        contents=contents(all_pages) if is_home else [],
        scripts=scripts,
        href=lambda target: href(page.output, PurePosixPath(target)),
    )
