"""
Every local link of the site leads somewhere: each `href` and `src` to a file of the site, each
`#anchor` to an id on its page, each `url()` of a stylesheet to a file. Checked on the committed
`docs/` and on a build of the fixture site.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Set
from urllib.parse import unquote, urlsplit

from tests.conftest import build_site

DOCS = Path(__file__).resolve().parent.parent / 'docs'


class Links(HTMLParser):
    """
    The ids of a page, and its links with their lines.
    """

    def __init__(self):
        super().__init__()
        self.ids: Set[str] = set()
        self.links: List[tuple] = []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if 'id' in attributes:
            self.ids.add(attributes['id'])
        for name in ('href', 'src'):
            if attributes.get(name) is not None and not (tag == 'link' and attributes.get('rel') == 'canonical'):
                self.links.append((self.getpos()[0], attributes[name]))


def broken_links(site: Path) -> List[str]:
    """
    One line for each link of `site` that leads nowhere.
    """
    pages: Dict[Path, Links] = {}
    for path in sorted(site.rglob('*.html')):
        parser = Links()
        parser.feed(path.read_text(encoding='utf-8'))
        pages[path.resolve()] = parser
    broken = []
    for page, parser in pages.items():
        for line, link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            where = f'{page.relative_to(site.resolve())}:{line}: {link}'
            if not target.is_relative_to(site.resolve()) or not target.is_file():
                broken.append(f'{where} leads to no file of the site')
            elif parts.fragment and (target not in pages or parts.fragment not in pages[target].ids):
                broken.append(f'{where} leads to no such anchor')
    for path in sorted(site.rglob('*.css')):
        for url in re.findall(r'url\(["\']?([^)"\']+)', path.read_text(encoding='utf-8')):
            if not url.startswith('data:') and not (path.parent / url).is_file():
                broken.append(f'{path.relative_to(site)}: url({url}) leads to no file')
    return broken


def test_every_local_link_of_the_committed_site_resolves():
    assert (DOCS / 'index.html').is_file(), 'docs/ is missing: run `make docs`'
    assert broken_links(DOCS) == []


def test_every_local_link_of_the_fixture_site_resolves(project):
    build_site(project)
    assert broken_links(project / 'site') == []


def test_the_link_check_finds_a_broken_link_and_a_missing_anchor(project):
    build_site(project)
    page = project / 'site/tutorial/readme.html'
    page.write_text(page.read_text() + '<a href="gone.html">x</a><a href="index.html#nowhere">y</a>')
    assert [line.split(': ', 1)[1] for line in broken_links(project / 'site')] == [
        'gone.html leads to no file of the site', 'index.html#nowhere leads to no such anchor']
