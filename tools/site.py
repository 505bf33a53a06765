"""
---
title: From sources to pages
summary: Which source files become which pages, and how the pages of a tutorial lead to one another.
---

# From sources to pages

The site mirrors the source folders:

* every `.py` and `.md` file is a page, except tests (files `test_*.py` and folders `tests/`),
  hidden folders and `__pycache__`; and except files with nothing to show, such as an empty
  `__init__.py`;
* `x.py` becomes `x.html`, `__init__.py` becomes `index.html` and `readme.md` becomes
  `readme.html`;
* the first source folder (`labml_nn`) is the top of the site, and its `__init__.py` is the home
  page; every other folder keeps its name, so `tools/split.py` becomes `tools/split.html`;
* a top folder without a home page of its own gets one made: its name and the list of pages.

A folder is a tutorial: its pages follow one another (the folder's index first, then by name),
and *up* leads to the index of the folder above. The breadcrumb names the folders from the top.
"""

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple

from tools.errors import BuildError, SourceError
from tools.split import Notes, Section

HOME = PurePosixPath('index.html')


@dataclass
class Page:
    """
    ## A page

    `source` is the file's path in the project, `output` the page's path in the site and `root`
    the source folder it was found in, all with `/` whatever the system. The other fields are
    filled by the build.
    """
    source: PurePosixPath
    output: PurePosixPath
    root: PurePosixPath
    text: str = ''
    sections: List[Section] = field(default_factory=list)
    title: str = ''
    summary: str = ''

    @property
    def folder(self) -> PurePosixPath:
        return self.output.parent

    @property
    def is_index(self) -> bool:
        return self.output.name == 'index.html'


def find_pages(project: Path, roots: List[str]) -> List[Page]:
    """
    ## Finding the sources

    The pages of the sources under `roots` (folders relative to `project`), sorted by their
    path in the site. Two sources that would make the same page (`x.py` and `x.md`) stop the
    build.
    """
    pages: Dict[PurePosixPath, Page] = {}
    for index, root in enumerate(roots):
        root_path = project / root
        if not root_path.is_dir():
            raise BuildError(f'the source folder {root} does not exist')
        top = PurePosixPath('.') if index == 0 else PurePosixPath(Path(root).as_posix())
        for path in sorted(root_path.rglob('*')):
            relative = path.relative_to(root_path)
            if not _is_source(relative) or not path.is_file():
                continue
            output = top / relative.parent.as_posix() / _page_name(relative.name)
            source = PurePosixPath(path.relative_to(project).as_posix())
            if output in pages:
                raise SourceError(source, None, f'makes the page {output}, as {pages[output].source} does; '
                                                'rename one of them')
            pages[output] = Page(source, output, PurePosixPath(Path(root).as_posix()))
    return [pages[output] for output in sorted(pages)]


def generated_home(root: PurePosixPath, name: Optional[str]) -> Page:
    """
    ## A home page for a folder without one

    The home page of a site whose top folder has no home page of its own: a heading, its name
    (`name`, or else the folder's), followed by the list of pages every home page shows.
    """
    title = name or root.name
    heading = re.sub(r'([\\`*_{}\[\]()#+\-.!<>$|~])', r'\\\1', title)
    return Page(root, HOME, root, sections=[Section([Notes(f'# {heading}\n', 1, 'module')])],
                title=title)


def _is_source(relative: Path) -> bool:
    """
    Whether a file under a source folder is a page: Python or Markdown, and not a test, nor in a
    hidden folder or a cache.
    """
    folders = relative.parts[:-1]
    if any(part.startswith('.') or part in ('__pycache__', 'tests') for part in folders):
        return False
    return relative.suffix in ('.py', '.md') and not relative.name.startswith('test_')


def _page_name(name: str) -> str:
    """
    The file name of the page of a source: `__init__.py` is its folder's index.
    """
    return 'index.html' if name == '__init__.py' else str(PurePosixPath(name).with_suffix('.html'))


def published_path(output: PurePosixPath) -> str:
    """
    The path of a page in the published site's address: an index is its folder
    (`capsule_networks/`, the home page the empty path), any other page its file.
    """
    if output.name != 'index.html':
        return str(output)
    return '' if output == HOME else f'{output.parent}/'


def href(origin: PurePosixPath, target: PurePosixPath) -> str:
    """
    The relative link from the page `origin` to the file `target`, both paths in the site.
    Relative links let the site work from any address, `file://` included.
    """
    return posixpath.relpath(str(target), str(origin.parent))


@dataclass
class Navigation:
    """
    ## Navigation

    Where a page leads: the previous and next pages of its tutorial, the page above it, and the
    breadcrumb, a list of labels, each with the page it links to (`None` for the page itself, and
    for a folder without an index).
    """
    previous: Optional[Page]
    next: Optional[Page]
    up: Optional[Page]
    breadcrumb: List[Tuple[str, Optional[PurePosixPath]]]


def navigation(pages: List[Page]) -> Dict[PurePosixPath, Navigation]:
    """
    The navigation of every page, by its output path.
    """
    by_output = {page.output: page for page in pages}
    tutorials = tutorial_order(pages)
    result = {}
    for folder, members in tutorials.items():
        for position, page in enumerate(members):
            previous = members[position - 1] if position > 0 else None
            following = members[position + 1] if position + 1 < len(members) else None
            result[page.output] = Navigation(previous, following, _up(page, by_output), _breadcrumb(page, by_output))
    return result


def tutorial_order(pages: List[Page]) -> Dict[PurePosixPath, List[Page]]:
    """
    The pages of each folder in reading order: the index first, then by name.
    """
    folders: Dict[PurePosixPath, List[Page]] = {}
    for page in pages:
        folders.setdefault(page.folder, []).append(page)
    return {folder: sorted(members, key=lambda page: (not page.is_index, page.output.name))
            for folder, members in sorted(folders.items())}


def _up(page: Page, by_output: Dict[PurePosixPath, Page]) -> Optional[Page]:
    """
    The index of the nearest folder above the page (for an index, above its own folder); the
    home page has nothing above it.
    """
    if page.output == HOME:
        return None
    folder = page.folder.parent if page.is_index else page.folder
    while folder != PurePosixPath('.') and folder / 'index.html' not in by_output:
        folder = folder.parent
    return by_output[folder / 'index.html']


def _breadcrumb(page: Page, by_output: Dict[PurePosixPath, Page]) -> List[Tuple[str, Optional[PurePosixPath]]]:
    """
    Home, then each folder from the top, then the page's own file name.
    """
    crumbs: List[Tuple[str, Optional[PurePosixPath]]] = [('Home', HOME)]
    folder = PurePosixPath('.')
    for part in page.folder.parts:
        folder = folder / part
        index = folder / 'index.html'
        crumbs.append((part, index if index in by_output else None))
    if not page.is_index:
        crumbs.append((page.source.name, page.output))
    # The last crumb is the page itself, which does not link to itself.
    label, _ = crumbs[-1]
    crumbs[-1] = (label, None)
    return crumbs
