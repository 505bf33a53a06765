"""
---
title: The sitemap
summary: sitemap.xml lists every page for search engines, with the date of the last commit of its
  source.
---

# The sitemap

`sitemap.xml` lists the address of every page, in the
[sitemaps protocol](https://www.sitemaps.org/protocol.html), for search engines, in the site's
[reading order](site.html#one-reading-order). The protocol asks for absolute addresses, so a
site has a sitemap only when the address it is published at is given (`--site-url`).

Its `lastmod` is the day of the last commit that changed the page's source (`git log -1
--format=%cs`), which is the same in every clone, so the file does not change from one build
to the next.

A source with changes not yet committed has no such date yet. Its page gets no `lastmod`, and
the build says so: commit, then run `make docs` again, so that `docs/` matches what a fresh
build of the commit makes (which is what CI checks). A shallow clone has lost the history the
dates come from, and stops the build with the command that fetches it.
"""

import subprocess
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple
from xml.sax.saxutils import escape

from tools.document import Page
from tools.errors import BuildError
from tools.site import published_path, reading_order


def commit_dates(project: Path, sources: List[PurePosixPath]
                 ) -> Tuple[Dict[PurePosixPath, str], List[PurePosixPath]]:
    """
    ## Dates from git

    The day of the last commit of each source that is committed as it is, and the sources that
    are not (changed, or new). Outside a git repository, no source has a date.
    """
    def git(*arguments: str) -> Optional[str]:
        done = subprocess.run(['git', *arguments], cwd=project, capture_output=True, text=True,
                              encoding='utf-8')
        return done.stdout if done.returncode == 0 else None

    if git('rev-parse', '--is-inside-work-tree') is None:
        return {}, []
    if git('rev-parse', '--is-shallow-repository').strip() == 'true':
        raise BuildError('this clone is shallow, so git cannot tell when each source last '
                         "changed, which the sitemap's lastmod needs: run `git fetch --unshallow`")
    status = git('status', '--porcelain', '-z', '--untracked-files=all', '--', *map(str, sources))
    # Each entry is `XY path`; a rename is followed by its old path, which is no source.
    changed = {PurePosixPath(entry[3:]) for entry in status.split('\0') if len(entry) > 3}
    dates = {}
    for source in sources:
        if source in changed:
            continue
        day = git('log', '-1', '--format=%cs', '--', str(source)).strip()
        if day:
            dates[source] = day
    return dates, sorted(set(sources) - set(dates))


def sitemap(pages: List[Page], site_url: str, dates: Dict[PurePosixPath, str]) -> str:
    """
    ## The file

    The XML declaration comes first, at the very first byte, as XML requires.
    """
    entries = []
    for page in reading_order(pages):
        url = escape(site_url.rstrip('/') + '/' + published_path(page.output))
        lastmod = f'<lastmod>{dates[page.source]}</lastmod>' if page.source in dates else ''
        entries.append(f'  <url><loc>{url}</loc>{lastmod}</url>\n')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + ''.join(entries) + '</urlset>\n')
