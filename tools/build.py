"""
---
title: The build
summary: The driver of the generator, python -m tools.build labml_nn tools --out docs, and how it
  rebuilds only what changed.
---

# The build

```bash
python -m tools.build labml_nn tools --out docs
```

builds the site in `docs/` from the sources in `labml_nn/` (the top of the site) and `tools/`
(under `docs/tools/`); `make docs` runs it with `--strict`. In order:

1. [find the sources](site.html), [read and split](split.html) each, and take its
   [front matter](front_matter.html);
2. work out which pages must be rendered again, and [parse](markdown.html) their notes;
3. typeset every new formula with [KaTeX, in one process](katex.html), and meanwhile
   [highlight](highlight.html) the code;
4. check the links and images of the notes against the site, and read the
   [size and dark variant](images.html) of each image, and the [scripts](#scripts) of a page;
5. [write the pages](page.html), copy [the other files](assets.html) and the sources, write
   [the sitemap](sitemap.html) when the site's address is given, and delete what the site no
   longer holds.

It prints what it did: the pages, the formulas on them, and the seconds it took.

## Where a site leads

A page's "View source" leads to a copy of its source in the site, beside the page
(`mnist.py.txt` beside `mnist.html`), so that it leads to the file wherever the site is opened,
from a server or from the file system. With `--source-url URL` it leads to `URL/<path of the
source>` instead, the repository's own page of the file, and no copy is made.

The address the site is published at is known only when it is given, `--site-url URL`: then
each page names its canonical address, link previews get an absolute address for their
picture, and `sitemap.xml` lists every page. Without it, a page names no address but its own
relative links, and the site has no sitemap. The generator makes up no address of its own.

## Problems, strict or not

Every problem in the sources is collected, and reported at once, one `file:line: message`
each (`file:line: warning: message` for a [warning](errors.html)). By default the build
renders every page it can, as Sphinx and MkDocs do, since a tool pointed at someone else's
sources should: a page with a warning renders as its author most likely meant it; a link that
leads nowhere is left out, its text kept; a formula KaTeX cannot read is shown as written, in
a code span; a source that cannot be read at all (a syntax error, a file that is not UTF-8)
has no page, and links to it are left out too.

With `--strict`, any problem, error or warning, fails the build before it writes anything, so
that a site kept in a repository stays clean; `make docs`, `make serve` and CI build this
site that way. Nothing half-done reaches the site either way: a page is written whole, or not
at all. The [exit status](#the-command) tells the two outcomes apart.

## Rendering only what changed

A page depends on its source, on the generator (its code, template, stylesheet, and the
versions of the libraries it uses), on the settings, and on the rest of the site: the titles of
the other pages and their [reading order](site.html#one-reading-order) (in its navigation and,
for the home page, its list of pages), the files its links may point to and the sizes of the
images. A digest of all of these is the page's *key*, kept with a digest of the
page written, its formulas and its problems in `.build/manifest.json`. A page whose key is
unchanged, and whose file in `docs/` is the one written, is left alone: a build with nothing
changed renders nothing, and reports the same problems again.

The output is the same, byte for byte, for the same sources: lists are sorted, links are
relative, and nothing records a time, a random id or a path of the machine.
"""

import argparse
import hashlib
import json
import os
import posixpath
import re
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit, urlunsplit

from markupsafe import Markup

from tools.addresses import ADDRESS_RULE, safe_address
from tools.assets import ASSET_SUFFIXES, site_files, source_files
from tools.document import Notes, Page, ParsedNotes, Reference, Section
from tools.errors import BuildError, BuildFailed, SourceError, SourceWarning
from tools.files import read_cache, write_cache, write_files
from tools.front_matter import take_front_matter
from tools.highlight import highlight_file
from tools.image_files import read_svg
from tools.images import describe_images, image_sizes
from tools.katex import katex_version, start_typesetting
from tools.markdown import parse, render, retarget, title_and_summary, unlink
from tools.notebook import notebook_files, read_notebook, split_notebook
from tools.page import SiteConfig, preview_image, render_page, section_id
from tools.site import (HOME, OUTSIDE, find_pages, generated_home, navigation, outside,
                        reading_order, unlinked_pages)
from tools.sitemap import commit_dates, sitemap
from tools.split import read_source, split

GENERATOR = Path(__file__).resolve().parent

# The file every site of this generator holds, by which a folder is known to be one.
SITE_MARK = PurePosixPath('static/site.css')

# The libraries whose output ends up in the pages.
LIBRARIES = ('markdown-it-py', 'mdit-py-plugins', 'pygments', 'jinja2', 'pyyaml', 'nh3')

# The version of the layout of the files of the cache; a file of another layout is not read.
CACHE_VERSION = 3


@dataclass
class Report:
    """
    What a build did: the number of pages and of formulas on them, the pages rendered and the
    formulas on those, the files written (changed) and removed, every problem found, the
    sources left without a page, notes for the author, and the time it took.
    """
    pages: int = 0
    formulas: int = 0
    rendered: List[str] = field(default_factory=list)
    rendered_formulas: int = 0
    written: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    problems: List[SourceError] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0


# The parsed notes of each section of a page.
PageNotes = List[List[ParsedNotes]]


def build(project: Path, roots: List[str], out: Path, cache: Path,
          site_url: Optional[str] = None, source_url: Optional[str] = None, *,
          site_name: Optional[str] = None, strict: bool = False,
          allow_scripts: bool = False) -> Report:
    """
    ## The steps

    Builds the site of the sources in `roots` (folders relative to `project`) into `out`,
    keeping its cache in `cache`. `site_name` names the site (by default, the title of its
    home page); `site_url` and `source_url` are [where it leads](#where-a-site-leads), if
    given. A strict build raises `BuildFailed` on any problem, before writing anything;
    otherwise the problems are in the report. `allow_scripts` says that the sources are
    trusted to run [scripts](#scripts) on their pages.
    """
    start = time.perf_counter()
    project, out, cache = Path(project), Path(out), Path(cache)
    check_settings(project, roots, out, cache,
                   {'--site-url': site_url, '--source-url': source_url})
    report = Report()
    manifest = read_cache(cache / 'manifest.json', CACHE_VERSION)
    generator = _generator()
    read = read_cache(cache / 'sources.json', CACHE_VERSION)

    pages, read_problems, failed = _read_pages(project, roots, generator, read)
    site = _with_home(pages, roots, site_name)
    home = next(page for page in site if page.output == HOME)
    config = SiteConfig(site_name or home.title, site_url, source_url, preview_image(home))
    keys = _keys(project, roots, site, config, generator, allow_scripts)
    stale = [page for page in site if not _up_to_date(page, keys[page.output], manifest, out)]
    parsed, problems, math = _parse_and_typeset(stale, cache)

    assets = _check_references(project, site, stale, parsed, problems, failed)
    scripts = {}
    for page in stale:
        problems[page.output].extend(describe_images(project, page, parsed[page.output],
                                                     assets[page.output]))
        requested = read.get(str(page.source), {}).get('scripts', [])
        scripts[page.output] = _scripts(project, page, requested, allow_scripts,
                                        problems[page.output], assets[page.output])
    rendering = {page.output for page in stale}
    for page in site:
        if page.output in rendering:
            continue
        stored = manifest[str(page.output)]['problems']
        problems[page.output] = [_problem(page.source, *problem) for problem in stored]
    report.problems = sorted(read_problems + [problem for page in site
                                              for problem in problems[page.output]],
                             key=lambda problem: (str(problem.path), problem.line or 0))
    report.failed = sorted(str(page.source) for page in failed.values())
    if strict and report.problems:
        raise BuildFailed(report.problems)

    navigations = navigation(site)
    written: Dict[PurePosixPath, bytes] = {}
    for page in stale:
        sections = parsed[page.output]
        notes = [Markup(''.join(render(notes, math) for notes in section)) for section in sections]
        formulas = sum(len(notes.formulas) for section in sections for notes in section)
        html = render_page(page, notes, navigations[page.output], config, formulas > 0, site,
                           scripts[page.output])
        written[page.output] = html.encode()
        manifest[str(page.output)] = {
            'key': keys[page.output], 'sha': _digest(written[page.output]), 'formulas': formulas,
            'assets': {str(k): str(v) for k, v in sorted(assets[page.output].items())},
            'problems': [_stored(problem) for problem in problems[page.output]]}
        report.rendered.append(str(page.output))
        report.rendered_formulas += formulas
    manifest = {str(page.output): manifest[str(page.output)] for page in site}
    report.formulas = sum(entry['formulas'] for entry in manifest.values())

    # Every file of the site, by its path in it: the pages just rendered, the other files, the
    # files the notes point to, the copies of the sources, and the sitemap.
    for entry in manifest.values():
        for target, source in entry['assets'].items():
            written[PurePosixPath(target)] = (project / source).read_bytes()
    written.update(site_files())
    for page in site:
        if page.source.suffix == '.ipynb':
            written.update(notebook_files(page.output, read_notebook(page.source, page.text)))
    if source_url is None:
        written.update(source_files(project, site))
    if site_url is not None:
        dates, undated = commit_dates(project, [page.source for page in site])
        if undated:
            report.notes.append('sitemap.xml has no lastmod for sources with uncommitted '
                                'changes: ' + ', '.join(map(str, undated)) +
                                '; commit them, then run `make docs` again')
        written[PurePosixPath('sitemap.xml')] = sitemap(site, site_url, dates).encode()

    expected = {str(page.output) for page in site} | {str(path) for path in written}
    changed = write_files({out / path: data for path, data in sorted(written.items())})
    report.written = [path.relative_to(out).as_posix() for path in changed]
    report.removed = _remove_others(out, expected)
    write_cache(cache / 'manifest.json', CACHE_VERSION, manifest)
    write_cache(cache / 'sources.json', CACHE_VERSION, read)
    report.pages = len(site)
    for index, left in unlinked_pages(site):
        names = ', '.join(page.source.name for page in left)
        report.notes.append(f'{index.source} does not link to {names}, so they follow the pages '
                            'it links to, by name')
    report.seconds = time.perf_counter() - start
    return report


def _read_pages(project: Path, roots: List[str], generator: str,
                read: Dict[str, dict]) -> Tuple[List[Page], List[SourceError],
                                                Dict[PurePosixPath, Page]]:
    """
    ## Reading

    The pages of the sources, read, split and with their front matter taken; the problems
    found; and the pages that an error leaves without a page, by their path in the site. A
    source with nothing to show has no page.

    Splitting every source again would be most of the time of a build with nothing changed, so
    what was read of each source is kept in `read` (by its path in the project), with a digest
    of its text and of the generator; a source whose digest is unchanged is not read again.
    """
    pages, problems, failed = [], [], {}
    sources = find_pages(project, roots, problems)
    for page in sources:
        try:
            page.text = read_source(project / page.source, page.source)
        except SourceError as error:
            problems.append(error)
            failed[page.output] = page
            continue
        digest = _digest((generator + page.text).encode())
        if read.get(str(page.source), {}).get('digest') != digest:
            read[str(page.source)] = _read(page, digest)
        entry = read[str(page.source)]
        problems.extend(_problem(page.source, *problem) for problem in entry['problems'])
        if entry['failed']:
            failed[page.output] = page
        elif entry['sections']:
            page.sections = [Section([Notes(*notes) for notes in section_notes], code)
                             for section_notes, code in entry['sections']]
            page.title, page.summary = entry['title'], entry['summary']
            pages.append(page)
    for source in set(read) - {str(page.source) for page in sources}:
        del read[source]
    return pages, problems, failed


def _read(page: Page, digest: str) -> dict:
    """
    What the build keeps of a source: its sections, title and summary, and its problems; or,
    for a source with an error, whether it `failed`.
    """
    found: List[SourceError] = []
    try:
        if page.source.suffix == '.ipynb':
            sections = split_notebook(page.source, page.text)
        else:
            sections = split(page.source, page.text, found)
        meta = take_front_matter(page.source, sections, found)
    except SourceError as error:
        return {'digest': digest, 'failed': True,
                'problems': [_stored(problem) for problem in found + [error]]}
    # An index without a heading is named after its folder.
    name = page.source.parent.name if page.is_index else page.source.name
    title, summary = title_and_summary(sections, meta, name) if sections else ('', '')
    return {'digest': digest, 'failed': False, 'title': title, 'summary': summary,
            'scripts': meta.get('scripts', []),
            'problems': [_stored(problem) for problem in found],
            'sections': [[[[notes.text, notes.line, notes.kind] for notes in section.notes],
                          section.code] for section in sections]}


def _with_home(pages: List[Page], roots: List[str], site_name: Optional[str]) -> List[Page]:
    """
    ## A home page

    The pages, with a home page made for them if the top folder has none (no `__init__.py`,
    nothing to show in it, or an error): its name, and the list of pages every home page has.
    """
    if any(page.output == HOME for page in pages):
        return pages
    return [generated_home(PurePosixPath(Path(roots[0]).as_posix()), site_name)] + pages


def _generator() -> str:
    """
    A digest of the generator: its code, template and stylesheet, and the versions of the
    libraries it uses.
    """
    files = sorted((str(path.relative_to(GENERATOR)), _digest(path.read_bytes()))
                   for path in GENERATOR.rglob('*')
                   if path.is_file() and '__pycache__' not in path.parts)
    versions = [(library, metadata.version(library)) for library in LIBRARIES]
    versions.append(('katex', katex_version()))
    return _digest(json.dumps([files, versions]).encode())


def _keys(project: Path, roots: List[str], pages: List[Page], config: SiteConfig,
          generator: str, allow_scripts: bool) -> Dict[PurePosixPath, str]:
    """
    The key of each page: a digest of everything its HTML depends on, whether scripts are
    allowed included.
    """
    # Each file by its name, and a symbolic link with where it leads.
    files = sorted((str(path.relative_to(project)), os.readlink(path) if path.is_symlink() else '')
                   for root in roots for path in (project / root).rglob('*')
                   if path.is_file() and '__pycache__' not in path.parts)
    site = [(str(page.output), str(page.source), page.title, page.summary)
            for page in reading_order(pages)]
    images = image_sizes(project, roots)
    shared = _digest(json.dumps([generator, files, site, config.__dict__, images,
                                 allow_scripts]).encode())
    return {page.output: _digest((shared + page.text).encode()) for page in pages}


def _up_to_date(page: Page, key: str, manifest: dict, out: Path) -> bool:
    """
    Whether a page's key is the one it was last written with, and `out` still holds that page.
    """
    entry = manifest.get(str(page.output))
    path = out / page.output
    return (entry is not None and entry['key'] == key and path.is_file()
            and _digest(path.read_bytes()) == entry['sha'])


def _parse_and_typeset(pages: List[Page], cache: Path):
    """
    ## Parsing the notes, and their math

    The parsed notes of each section of each page, the problems found on the way, by page, and
    the HTML of the formulas. A formula KaTeX cannot read is an error, and the page shows it as
    written. The ids of the headings must differ from each other and from the sections' ids
    all over the page, so one set of ids serves the page.
    """
    parsed: Dict[PurePosixPath, PageNotes] = {}
    problems: Dict[PurePosixPath, List[SourceError]] = {}
    for page in pages:
        ids = {section_id(number) for number in range(1, len(page.sections) + 1)}
        problems[page.output] = []
        parsed[page.output] = [[parse(page.source, notes, ids, problems[page.output])
                                for notes in section.notes] for section in page.sections]
    formulas = [formula for page in pages for section in parsed[page.output]
                for notes in section for formula in notes.formulas]
    typesetting = start_typesetting(formulas, cache)
    # While KaTeX works, in a process of its own, the code of the pages is highlighted, the
    # other long part of writing them.
    for page in pages:
        if page.source.suffix == '.py':
            highlight_file(page.text)
    math, errors = typesetting()
    by_source = {page.source: page.output for page in pages}
    for error in errors:
        problems[by_source[PurePosixPath(error.path.as_posix())]].append(error)
    return parsed, problems, math


def _check_references(project: Path, site: List[Page], stale: List[Page],
                      parsed: Dict[PurePosixPath, PageNotes],
                      problems: Dict[PurePosixPath, List[SourceError]],
                      failed: Dict[PurePosixPath, Page]) -> Dict[PurePosixPath, Dict]:
    """
    ## Links and images

    Every local link of the notes must lead to a page of the site or to a file beside the
    sources (an image, say), which is then copied into the site; every image must be such a
    file. Links to other sites are left as they are. Returns the files to copy for each page,
    by their path in the site. A link or image that leads nowhere is an error, and is left out
    of the page.
    """
    outputs = {page.output for page in site}
    sources = {page.source: page.output for page in site + list(failed.values())}
    assets = {}
    for page in stale:
        assets[page.output] = {}
        notes = [notes for section in parsed[page.output] for notes in section]
        # The ids of the page, which its anchors (`#margin-loss`) must name.
        ids = notes[0].env['ids'] if notes else set()
        for reference in (reference for part in notes for reference in part.references):
            try:
                asset = _resolve(project, page, reference, ids, outputs, sources, failed)
            except SourceError as error:
                problems[page.output].append(error)
                unlink(reference)
                continue
            if asset is not None:
                assets[page.output][asset[0]] = asset[1]
    return assets


def _resolve(project: Path, page: Page, reference: Reference, ids: Set[str],
             outputs: Set[PurePosixPath], sources: Dict[PurePosixPath, PurePosixPath],
             failed: Dict[PurePosixPath, Page]) -> Optional[Tuple[PurePosixPath, PurePosixPath]]:
    """
    Where a reference leads: `None` for another site, an anchor or a page; `(path in the site,
    path in the project)` for a file to copy. A local path is read relative to the page, which
    sits at the same place in the site as its source does among the sources. An anchor of the
    page itself must be one of its `ids`; those of other pages are not checked.

    As on labml.ai's site, a link to a folder (`../`, `ppo`) leads to its index page, and a
    link without an extension (`../feed_forward`) to the page of that name; the link is pointed
    at that page's file, so that it works from the file system too.
    """
    what = 'image' if reference.image else 'link'
    if not safe_address(reference.target):
        raise SourceError(page.source, reference.line, f'the {what} {reference.target} is left '
                                                       f'out of the page: {ADDRESS_RULE}')
    parts = urlsplit(reference.target)
    if not (parts.scheme or parts.netloc or parts.path) and unquote(parts.fragment) not in ids:
        raise SourceError(page.source, reference.line,
                          f'the link {reference.target} leads to no anchor of this page: a '
                          'heading, or an HTML element with that id')
    if parts.scheme or parts.netloc or not parts.path:
        return None
    if parts.path.startswith('/'):
        raise SourceError(page.source, reference.line,
                          f'the {what} {reference.target} is absolute; make it relative to this '
                          'file, so that it works wherever the site is')
    path = unquote(parts.path)
    in_site = _normalise(page.output.parent / path)
    in_project = _normalise(page.source.parent / path)
    if in_site is None or in_project is None or not in_project.is_relative_to(page.root):
        raise SourceError(page.source, reference.line, f'the {what} {reference.target} leads out '
                                                       f'of {page.root}/, out of the site')
    if not reference.image:
        # The page itself, a folder's index, the page of a name without an extension, or the
        # page of a source.
        written = parts.path.rstrip('/')
        candidates = [(in_site, parts.path), (in_site / 'index.html', f'{written}/index.html')]
        if not in_site.suffix and in_site.name:
            candidates.append((in_site.with_suffix('.html'), f'{written}.html'))
        if in_project in sources:
            folder = posixpath.dirname(written)
            name = sources[in_project].name
            candidates.append((sources[in_project], f'{folder}/{name}' if folder else name))
        for target, address in candidates:
            if target in outputs:
                if address != parts.path:
                    retarget(reference, urlunsplit(parts._replace(path=address)))
                return None
        broken = next((failed[target] for target, _ in candidates if target in failed), None)
        if broken is not None:
            raise SourceError(page.source, reference.line,
                              f'the link {reference.target} leads to the page of '
                              f'{broken.source}, which cannot be rendered (see its errors)')
    file = project / in_project
    if not file.is_file():
        raise SourceError(page.source, reference.line,
                          f'the {what} {reference.target} leads to {in_project}, which does not '
                          'exist' + ('' if reference.image else f', nor does a page {in_site}'))
    real = outside(project, str(page.root), file)
    if real is not None:
        raise SourceError(page.source, reference.line,
                          f'the {what} {reference.target} leads to {in_project}, a symbolic link '
                          f'to {real}, {OUTSIDE}')
    # An SVG linked to is opened as a document of the site; one shown is read with its size.
    if file.suffix.lower() == '.svg' and not reference.image:
        try:
            read_svg(file.read_bytes())
        except ValueError as problem:
            raise SourceError(page.source, reference.line,
                              f'the link {reference.target}: {in_project} {problem}') from None
    if file.suffix.lower() not in ASSET_SUFFIXES:
        raise SourceError(page.source, reference.line,
                          f'the {what} {reference.target} leads to a file that is not part of '
                          'the site; link to a page, or to a file of type '
                          f'{", ".join(sorted(ASSET_SUFFIXES))}')
    return in_site, in_project


# The name of a script: letters, digits, `_`, `-`, `.` and `/`, and `.js` at the end, so that
# it needs no escaping in an address.
SCRIPT_NAME = re.compile(r'[A-Za-z0-9_./-]+\.js')


def _scripts(project: Path, page: Page, requested: List[Tuple[str, int]], allowed: bool,
             problems: List[SourceError],
             assets: Dict[PurePosixPath, PurePosixPath]) -> List[PurePosixPath]:
    """
    ## Scripts

    No script written in the notes reaches a page: [they are sanitised](sanitise.html). A
    page that needs one, a picture that the reader moves say, names its files in its
    [front matter](front_matter.html) instead:

    ```yaml
    scripts: [images/weights.js, widget.js]
    ```

    Each is a `.js` file at the given place relative to the source, below its source folder;
    the build copies it to the same place relative to the page, as it copies an image, and
    includes it in the page's `<head>` as `<script defer src="widget.js">`, in the order
    given. Deferred scripts run in that order once the page is read, so a script may use what
    an earlier one defined, and may find and change any element of the page. A script asks no
    other host for anything: it is a file of the site.

    A script runs in its readers' browsers, with the rights of the site's address, so it is
    the site's own code, not notes: a source someone else wrote must not bring one in. The
    build includes scripts only when it is told that the sources are trusted, with
    `--allow-scripts` (`make docs` and `make serve` give it). Without it, and for a file that
    is not there, is not a `.js`, or leads out of the source folder, each script is an error at
    the line of `scripts:`, and is left out of the page; the page still renders, and reads as
    it would without JavaScript.

    Returns the scripts to include, by their path in the site, and adds each to the page's
    `assets`, the files to copy.
    """
    included = []
    for name, line in requested:
        try:
            in_site, in_project = _script(project, page, name, line, allowed)
        except SourceError as error:
            problems.append(error)
            continue
        assets[in_site] = in_project
        included.append(in_site)
    return included


def _script(project: Path, page: Page, name: str, line: int,
            allowed: bool) -> Tuple[PurePosixPath, PurePosixPath]:
    """
    Where the script `name` of a page is: `(path in the site, path in the project)`; a
    `SourceError` at `line` that says why it is left out.
    """
    def refused(why: str) -> SourceError:
        return SourceError(page.source, line, f'the script {name} is left out of the page: {why}')

    if not allowed:
        raise refused('scripts run in readers\' browsers, so the build includes them only when '
                      'given --allow-scripts (make docs gives it); give it if you trust these '
                      'sources')
    if not SCRIPT_NAME.fullmatch(name) or name.startswith('/'):
        raise refused('give the relative path of a .js file, in letters, digits, _, -, . and /')
    in_site = _normalise(page.output.parent / name)
    in_project = _normalise(page.source.parent / name)
    if in_site is None or in_project is None or not in_project.is_relative_to(page.root):
        raise refused(f'it leads out of {page.root}/, out of the site')
    file = project / in_project
    if not file.is_file():
        raise refused(f'{in_project} does not exist')
    real = outside(project, str(page.root), file)
    if real is not None:
        raise refused(f'{in_project} is a symbolic link to {real}, {OUTSIDE}')
    return in_site, in_project


def _normalise(path: PurePosixPath):
    """
    A path with its `..` and `.` resolved; `None` when it climbs above its start.
    """
    parts: List[str] = []
    for part in path.parts:
        if part == '..':
            if not parts:
                return None
            parts.pop()
        elif part != '.':
            parts.append(part)
    return PurePosixPath(*parts)


def check_settings(project: Path, roots: List[str], out: Path, cache: Path,
                   addresses: Dict[str, Optional[str]]):
    """
    ## The settings

    Each is checked before anything is read or written, and a wrong one stops the build with
    what to do:

    * a source folder is inside the project folder (the current folder), which the site's
      paths are relative to;
    * the site folder `out` and the cache are folders, or not there yet, and neither is inside a
      source folder nor holds one: the build would read its own pages as sources, or delete
      the sources;
    * the build deletes from `out` whatever the site no longer holds, so it refuses a folder
      that holds files but not the stylesheet every site of this generator holds,
      `SITE_MARK`: a folder not made by this generator;
    * the addresses of the site and of the sources that are given, by option in `addresses`,
      are web addresses: every page links to them.
    """
    for root in roots:
        folder = (project / root).resolve()
        if not folder.is_relative_to(project.resolve()):
            raise BuildError(f'the source folder {root} is outside the project folder '
                             f'{project}: run the build from a folder that holds it')
        for option, place in (('--out', out), ('--cache', cache)):
            if place.resolve().is_relative_to(folder) or folder.is_relative_to(place.resolve()):
                raise BuildError(f'{option} {place} and the source folder {root} are one inside '
                                 'the other: choose a folder outside the sources, such as docs')
    for option, place in (('--out', out), ('--cache', cache)):
        if place.exists() and not place.is_dir():
            raise BuildError(f'{option} {place} is a file, not a folder: choose a folder')
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARK).is_file():
        raise BuildError(f'{out} holds files but no {SITE_MARK}, so it was not made by this '
                         'generator, and the build would delete its files; choose another folder '
                         'with --out')
    for option, address in addresses.items():
        if address is not None and not WEB_ADDRESS.fullmatch(address):
            raise BuildError(f'{option} {address!r} is not a web address: give one such as '
                             'https://example.org/annotated/')


# An address of the web: http or https, a host, and none of the characters that would end it
# in HTML or in a shell (spaces, quotes, angle brackets, backslashes).
WEB_ADDRESS = re.compile(r'https?://[^/\s"\'<>\\`]+(/[^\s"\'<>\\`]*)?')


def _remove_others(out: Path, expected: set) -> List[str]:
    """
    Deletes the files under `out` that are not in `expected` (paths in the site), and the folders
    left empty; returns what it deleted.
    """
    removed = []
    for path in sorted(out.rglob('*'), reverse=True):
        relative = path.relative_to(out).as_posix()
        if path.is_file() and relative not in expected:
            path.unlink()
            removed.append(relative)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return removed


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored(problem: SourceError) -> list:
    """
    A problem of a page, as the manifest keeps it: whether it is a warning, its line, its
    message.
    """
    return [isinstance(problem, SourceWarning), problem.line, problem.message]


def _problem(source: PurePosixPath, warning: bool, line: Optional[int], message: str):
    return (SourceWarning if warning else SourceError)(Path(source), line, message)


def main(arguments: List[str] = None) -> int:
    """
    ## The command

    Prints one line of what was done, and every problem, one `file:line: message` a line, then
    their count. A wrong setting, a file the system will not write (no room, no permission)
    and Ctrl-C are each one line too, not a traceback. The exit status says how it went:

    * 0: the site is written, and nothing but warnings was reported;
    * 1: errors in the sources were reported, and the site is written without what they break;
      or, with `--strict`, any problem was, and nothing is written; so is nothing when two
      sources would make the same page;
    * 2: the build could not run as asked: a wrong option or setting, a tool missing (Node.js,
      KaTeX), a file the system would not read or write; no file of the site is half-written;
    * 130: Ctrl-C stopped it, and no file of the site is half-written either.
    """
    parser = argparse.ArgumentParser(prog='python -m tools.build',
                                     description='Builds the annotated site of Python and '
                                                 'Markdown sources.')
    parser.add_argument('roots', nargs='+', help='source folders; the first is the top of the site')
    parser.add_argument('--out', default='docs', help='the site folder (default: docs)')
    parser.add_argument('--cache', default='.build', help='the build cache (default: .build)')
    strictness = parser.add_mutually_exclusive_group()
    strictness.add_argument('--strict', action='store_true',
                            help='fail on any problem, error or warning, before writing anything')
    strictness.add_argument('--keep-going', action='store_true',
                            help='render every page that can be: the default, kept for older '
                                 'command lines')
    parser.add_argument('--site-name', help='the name of the site on every page (default: the '
                                            'title of the home page)')
    parser.add_argument('--allow-scripts', action='store_true',
                        help='include the scripts that pages name in their front matter; they '
                             'run in readers\' browsers, so give it only for sources you trust')
    parser.add_argument('--site-url', help='where the site is published, for the canonical '
                                           'links and sitemap.xml (default: none, and neither)')
    parser.add_argument('--source-url', help='the address of the repository\'s files, for '
                                             '"View source" (default: a copy of each source '
                                             'beside its page)')
    options = parser.parse_args(arguments)
    try:
        report = build(Path.cwd(), options.roots, Path(options.out), Path(options.cache),
                       options.site_url, options.source_url, site_name=options.site_name,
                       strict=options.strict, allow_scripts=options.allow_scripts)
    except BuildFailed as failure:
        print(failure, file=sys.stderr)
        print(f'{_tally(failure.errors)}: nothing was written (--strict); without --strict the '
              'build writes every page it can', file=sys.stderr)
        return 1
    except SourceError as error:
        print(error, file=sys.stderr)
        return 1
    except BuildError as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:
        print(f'{describe_os_error(error)}; the site in {options.out} is not finished, and no '
              'file of it is half-written: fix this, and build again', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'interrupted; the site in {options.out} is not finished, and no file of it is '
              'half-written: build again to finish', file=sys.stderr)
        return 130
    print(f'{options.out}: {report.pages} pages ({len(report.rendered)} rendered), '
          f'{report.formulas} formulas ({report.rendered_formulas} on the pages rendered), '
          f'{len(report.written)} files written, {len(report.removed)} removed, '
          f'in {report.seconds:.2f} s')
    for note in report.notes:
        print(f'note: {note}')
    if not report.problems:
        return 0
    print('\n'.join(map(str, report.problems)), file=sys.stderr)
    unrendered = f'; no page for {", ".join(report.failed)}' if report.failed else ''
    print(_tally(report.problems) + unrendered, file=sys.stderr)
    return 0 if all(isinstance(problem, SourceWarning) for problem in report.problems) else 1


def describe_os_error(error: OSError) -> str:
    """
    What the system refused, in one line: the file, and why (`Permission denied`, `No space left
    on device`, `File name too long`).
    """
    name = str(error.filename or '')
    # A path too long to open is shown by its ends.
    name = f'{name[:60]}...{name[-60:]}' if len(name) > 200 else name
    return f'{name}: {error.strerror or error}' if name else str(error.strerror or error)


def _tally(problems: List[SourceError]) -> str:
    """
    How many errors and warnings: `2 errors, 1 warning`.
    """
    warnings = sum(isinstance(problem, SourceWarning) for problem in problems)
    errors = len(problems) - warnings
    return (f'{errors} error{"s" * (errors != 1)}, '
            f'{warnings} warning{"s" * (warnings != 1)}')


if __name__ == '__main__':
    sys.exit(main())
