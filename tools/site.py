"""
---
title: From sources to pages
summary: Which source files become which pages, and how the pages of a tutorial lead to one another.
---

# From sources to pages

The site mirrors the source folders:

* every `.py`, `.md` and `.ipynb` file is a page, except tests (files `test_*.py` and folders
  `tests/`), hidden folders and `__pycache__`; and except files with nothing to show, such as
  an empty `__init__.py`;
* `x.py` becomes `x.html`, `__init__.py` becomes `index.html`, `readme.md` becomes
  `readme.html` and the notebook `x.ipynb` becomes `x.html` ([notebooks](notebook.html));
* the first source folder (`labml_nn`) is the top of the site, and its `__init__.py` is the home
  page; every other folder keeps its name, so `tools/split.py` becomes `tools/split.html`;
* a top folder without a home page of its own gets one made: its name and the list of pages.

A folder is a tutorial: its pages follow one another, and *up* leads to the index of the folder
above. The breadcrumb names the folders from the top.

## One reading order

The order in which a reader should walk the pages is declared once, by the folder's index: the
order of the links in its docstring is the order of the pages they lead to. The
previous and next links, the list of pages on the home page and the sitemap all follow it.
Alphabetical order is no order: `figures.py` would come before the `mnist.py` that trains the
model it draws.

* A folder's index comes first, then the pages its docstring links to, in the order of the
  first link to each; a link counts wherever it leads in the folder: to a page (`mnist.html`),
  a source (`mnist.py`), or a name without an extension (`mnist`).
* The pages it does not link to follow, by name; the build names them in a note, since a page
  left out of the index is most likely one forgotten there.
* Folders follow the same rule one level up: the index of the folder above orders its
  subfolders by its first link into each, and the others follow by name.
"""

import os
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

from tools.document import Notes, Page, Section
from tools.errors import BuildError, SourceError, warn

HOME = PurePosixPath('index.html')

# The kinds of source that are pages.
SOURCE_SUFFIXES = ('.py', '.md', '.ipynb')


def find_pages(project: Path, roots: List[str],
               problems: Optional[List[SourceError]] = None) -> List[Page]:
    """
    ## Finding the sources

    The pages of the sources under `roots` (folders relative to `project`), sorted by their
    path in the site. Two sources that would make the same page (`x.py` and `x.md`) stop the
    build. A source that is a symbolic link [out of its folder](#files-outside-the-sources),
    or to nothing, has no page, and is reported in `problems`.
    """
    pages: Dict[PurePosixPath, Page] = {}
    for index, root in enumerate(roots):
        root_path = project / root
        if not root_path.is_dir():
            raise BuildError(f'the source folder {root} does not exist')
        top = PurePosixPath('.') if index == 0 else PurePosixPath(Path(root).as_posix())
        for path in sorted(root_path.rglob('*')):
            relative = path.relative_to(root_path)
            if not _is_source(relative):
                continue
            source = PurePosixPath(path.relative_to(project).as_posix())
            if path.is_symlink() and not path.exists():
                warn(problems, SourceError(source, None, f'is a symbolic link to nothing '
                                                         f'({os.readlink(path)}): delete it, or '
                                                         'link it to a file'))
                continue
            if not path.is_file():
                continue
            real = outside(project, root, path)
            if real is not None:
                warn(problems, SourceError(source, None, f'is a symbolic link to {real}, '
                                                         f'{OUTSIDE}'))
                continue
            output = top / relative.parent.as_posix() / _page_name(relative.name)
            if output in pages:
                raise SourceError(source, None, f'makes the page {output}, as '
                                                f'{pages[output].source} does; rename one of them')
            pages[output] = Page(source, output, PurePosixPath(Path(root).as_posix()))
    return [pages[output] for output in sorted(pages)]


# Why a file that a symbolic link leads to out of its folder is not published.
OUTSIDE = ('outside its source folder, and nothing outside the source folders is published: '
           'copy the file in instead of linking to it')


def outside(project: Path, root: str, path: Path) -> Optional[Path]:
    """
    ## Files outside the sources

    Where the file `path` really is, when a symbolic link on its way leads out of the source
    folder `root`; `None` when it is inside. The site publishes what the source folders hold,
    and nothing else: a link that leads out would publish a file of the machine
    (`leak.md -> /etc/passwd`), so no page is made of it and no file copied from it.
    """
    real = Path(path).resolve()
    return None if real.is_relative_to((project / root).resolve()) else real


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
    Whether a file under a source folder is a page: Python, Markdown or a notebook, and not a
    test, nor in a hidden folder (`.ipynb_checkpoints`, say) or a cache.
    """
    folders = relative.parts[:-1]
    if any(part.startswith('.') or part in ('__pycache__', 'tests') for part in folders):
        return False
    return relative.suffix in SOURCE_SUFFIXES and not relative.name.startswith('test_')


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


def source_copy(page: Page) -> Optional[PurePosixPath]:
    """
    ## The copy of a source

    Where the site keeps the copy of a page's source that its "View source" leads to, by its
    path in the site: beside the page, under the source's own name and `.txt` (`mnist.py.txt`,
    `__init__.py.txt`), which a browser shows as text, from a server or from the file system,
    and which no Python can import. A home page made for a folder has the folder for its source,
    and no copy.
    """
    if page.source == page.root:
        return None
    return page.folder / f'{page.source.name}.txt'


def href(origin: PurePosixPath, target: PurePosixPath) -> str:
    """
    The relative link from the page `origin` to the file `target`, both paths in the site.
    Relative links let the site work from any address, `file://` included.
    """
    return posixpath.relpath(str(target), str(origin.parent))


@dataclass
class Crumb:
    """
    ## Navigation

    One item of the breadcrumb: its label, the page it links to (`None` for a folder without
    an index) and whether it is the page being read, which does not link to itself.
    """
    label: str
    target: Optional[PurePosixPath]
    current: bool = False


@dataclass
class Navigation:
    """
    Where a page leads: the previous and next pages of its tutorial, the page above it, and the
    breadcrumb.
    """
    previous: Optional[Page]
    next: Optional[Page]
    up: Optional[Page]
    breadcrumb: List[Crumb]


def navigation(pages: List[Page]) -> Dict[PurePosixPath, Navigation]:
    """
    The navigation of every page, by its output path.
    """
    by_output = {page.output: page for page in pages}
    result = {}
    for members in tutorial_order(pages).values():
        for position, page in enumerate(members):
            previous = members[position - 1] if position > 0 else None
            following = members[position + 1] if position + 1 < len(members) else None
            result[page.output] = Navigation(previous, following, _up(page, by_output),
                                             _breadcrumb(page, by_output))
    return result


def reading_order(pages: List[Page]) -> List[Page]:
    """
    ## The order of the whole site

    Every page, folder after folder in reading order, each folder's pages in its own.
    """
    return [page for members in tutorial_order(pages).values() for page in members]


def tutorial_order(pages: List[Page]) -> Dict[PurePosixPath, List[Page]]:
    """
    The pages of each folder in reading order, by folder, the folders in reading order too:
    a folder, then each of its subfolders with theirs, as a table of contents lists them.
    """
    by_output = {page.output: page for page in pages}
    order, _ = _plan(_declarations(pages))
    return {folder: [by_output[output] for output in outputs] for folder, outputs in order}


def unlinked_pages(pages: List[Page]) -> List[Tuple[Page, List[Page]]]:
    """
    The pages of each folder that its index leaves out, for an index that links to some of
    them: each index, with the pages that follow by name.
    """
    by_output = {page.output: page for page in pages}
    order, linked = _plan(_declarations(pages))
    result = []
    for folder, outputs in order:
        declared = linked.get(folder, ())
        if any(target.parent == folder for target in declared):
            forgotten = [by_output[output] for output in outputs[1:] if output not in declared]
            if forgotten:
                result.append((by_output[outputs[0]], forgotten))
    return result


def _declarations(pages: List[Page]) -> Tuple[Tuple[PurePosixPath, str], ...]:
    """
    What the reading order depends on: the path of every page in the site, with the docstring
    of each index (and nothing for the other pages).
    """
    def docstring(page: Page) -> str:
        notes = page.sections[0].notes if page.is_index and page.sections else []
        return ''.join(part.text for part in notes if part.kind == 'module')

    return tuple((page.output, docstring(page)) for page in pages)


@lru_cache(maxsize=4)
def _plan(declarations: Tuple[Tuple[PurePosixPath, str], ...]):
    """
    ## Working out the order

    The folders in reading order, each with the paths of its pages in reading order; and the
    pages each folder's index links to, in order. Worked out once for each set of pages, however
    many pages ask: the navigation, the home page and the sitemap all do.
    """
    outputs = frozenset(output for output, _ in declarations)
    folders: Dict[PurePosixPath, List[PurePosixPath]] = {}
    linked: Dict[PurePosixPath, Tuple[PurePosixPath, ...]] = {}
    for output, docstring in declarations:
        folders.setdefault(output.parent, []).append(output)
        if output.name == 'index.html':
            linked[output.parent] = _linked(output, docstring, outputs)
    # Every folder of the site, with those above it that hold no page.
    tree = {ancestor for folder in folders for ancestor in [folder, *folder.parents]}

    def walk(folder: PurePosixPath) -> List[PurePosixPath]:
        children = [child for child in tree if child.parent == folder and child != folder]
        # A subfolder's place is that of the first link of the index into it.
        places: Dict[PurePosixPath, int] = {}
        for position, target in enumerate(linked.get(folder, ())):
            inside = target.relative_to(folder).parts if target.is_relative_to(folder) else ()
            if len(inside) > 1:
                places.setdefault(folder / inside[0], position)
        children.sort(key=lambda child: (places.get(child, len(places) + 1), child.name))
        return [folder] + [below for child in children for below in walk(child)]

    order = tuple((folder, _in_reading_order(folders[folder], linked.get(folder, ())))
                  for folder in walk(PurePosixPath('.')) if folder in folders)
    return order, linked


def _in_reading_order(members: List[PurePosixPath],
                      linked: Tuple[PurePosixPath, ...]) -> Tuple[PurePosixPath, ...]:
    """
    The pages of one folder: the index, the pages its docstring links to in the order of the
    links, then the others by name.
    """
    places = {target: position for position, target in enumerate(linked)}
    return tuple(sorted(members, key=lambda output: (output.name != 'index.html',
                                                     places.get(output, len(places)),
                                                     output.name)))


# The Markdown that tells a link: code (whose brackets are no link), escapes, links and images.
LINKS = MarkdownIt('zero').enable(['fence', 'code', 'backticks', 'escape', 'link', 'image'])


@lru_cache(maxsize=None)
def links_in(text: str) -> Tuple[Tuple[str, str], ...]:
    """
    The links and images of some Markdown, in order: `('link', address)` or
    `('image', address)`.
    """
    return tuple(('link', child.attrGet('href')) if child.type == 'link_open'
                 else ('image', child.attrGet('src'))
                 for token in LINKS.parse(text) for child in token.children or []
                 if child.type in ('link_open', 'image'))


def _linked(index: PurePosixPath, docstring: str, outputs) -> Tuple[PurePosixPath, ...]:
    """
    The pages that the docstring of the index `index` links to, in the order of their first
    link.
    """
    targets: List[PurePosixPath] = []
    for kind, address in links_in(docstring):
        target = _link_target(index.parent, address, outputs) if kind == 'link' else None
        if target is not None and target != index and target not in targets:
            targets.append(target)
    return tuple(targets)


def _link_target(folder: PurePosixPath, href: str, outputs) -> Optional[PurePosixPath]:
    """
    The page (one of `outputs`) a link of the index of `folder` leads to, however it is
    written: `mnist.html`, `mnist.py`, `mnist`, `helpers/` or `helpers/index.html`; `None` for
    an anchor, a file or another site.
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = posixpath.normpath(posixpath.join(str(folder), unquote(parts.path)))
    if path.startswith('..') or path.startswith('/'):
        return None
    target = PurePosixPath(path)
    # As written; a folder, for its index; or a source or bare name, for its page.
    candidates = [target, target / 'index.html']
    if target.suffix in ('', *SOURCE_SUFFIXES):
        candidates.append(target.parent / _page_name(target.name))
    return next((candidate for candidate in candidates if candidate in outputs), None)


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


def _breadcrumb(page: Page, by_output: Dict[PurePosixPath, Page]) -> List[Crumb]:
    """
    Home, then each folder from the top, then the page's own file name. The last is the page
    itself: the only one marked as the current page.
    """
    crumbs = [Crumb('Home', HOME)]
    folder = PurePosixPath('.')
    for part in page.folder.parts:
        folder = folder / part
        index = folder / 'index.html'
        crumbs.append(Crumb(part, index if index in by_output else None))
    if not page.is_index:
        crumbs.append(Crumb(page.source.name, page.output))
    crumbs[-1] = Crumb(crumbs[-1].label, None, current=True)
    return crumbs
