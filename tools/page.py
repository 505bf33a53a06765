"""
---
title: Writing a page
summary: The Jinja2 template that lays the notes beside the code, with the page's navigation and metadata.
---

# Writing a page

A page is one Jinja2 template, `tools/templates/page.html`, filled with the rendered sections: each section's notes in the left column, its code in the
right, with the line numbers of the file. Around them: the breadcrumb, the previous, next and
up links of the tutorial, a link to the source file, and the metadata of the page's `<head>`
(title, description, and the Open Graph and Twitter tags that previews of a shared link read).

Pages link to each other and to the stylesheets with relative links, so that the site works
from any address, and from the file system. The only absolute addresses are those of the
canonical URL, for search engines and link previews, which name the published site.

The template escapes every value it is given, except the HTML the Markdown renderer and
Pygments made, which they escaped themselves.
"""

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import List, Optional

import jinja2
from markupsafe import Markup

from tools.highlight import highlight_file
from tools.site import HOME, Navigation, Page, href, published_path, tutorial_order

TEMPLATES = Path(__file__).resolve().parent / 'templates'


@dataclass
class SiteConfig:
    """
    ## What every page needs to know

    `name` is the home page's title; `site_url` the address the site is published at;
    `source_url` the address under which the repository's files are shown, for the *view
    source* links.
    """
    name: str
    site_url: str
    source_url: str


@dataclass
class RenderedSection:
    """
    The HTML of a section: its id, notes and code.
    """
    id: str
    notes: Markup
    code: Markup


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


def code_html(highlighted: List[str], lines: List[int]) -> Markup:
    """
    ## The code column

    The highlighted lines of a section, each with its number in the file. The number is drawn
    by the stylesheet from `data-line`, so that it is not copied with the code.
    """
    return Markup('\n'.join(f'<span class="line" data-line="{number}">{highlighted[number - 1]}</span>'
                            for number in lines))


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


ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                 trim_blocks=True, lstrip_blocks=True)


def render_page(page: Page, notes: List[Markup], navigation: Navigation, config: SiteConfig,
                has_math: bool, all_pages: List[Page]) -> str:
    """
    ## Filling the template

    `notes` holds the HTML of each section's notes. The home page also lists every page of the
    site.
    """
    highlighted = highlight_file(page.text) if page.source.suffix == '.py' else []
    sections = [RenderedSection(section_id(number), note, code_html(highlighted, section.code))
                for number, (section, note) in enumerate(zip(page.sections, notes), start=1)]
    is_home = page.output == HOME
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
        url=config.site_url.rstrip('/') + '/' + published_path(page.output),
        source_link=f'{config.source_url.rstrip("/")}/{page.source}',
        contents=contents(all_pages) if is_home else [],
        href=lambda target: href(page.output, PurePosixPath(target)),
    )
