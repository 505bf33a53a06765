"""
---
title: The build
summary: The driver of the generator, python -m tools.build labml_nn tools --out docs, and how it rebuilds only what changed.
---

# The build

```bash
python -m tools.build labml_nn tools --out docs
```

builds the site in `docs/` from the sources in `labml_nn/` (the top of the site) and `tools/`
(under `docs/tools/`); `make docs` runs it. In order:

1. [find the sources](site.html), [read and split](split.html) each, and take its
   [front matter](front_matter.html);
2. work out which pages must be rendered again, and [parse](markdown.html) their notes;
3. check the links and images of the notes against the site;
4. typeset every new formula with [KaTeX, in one process](katex.html);
5. [write the pages](page.html), copy [the other files](assets.html), write
   [the sitemap](sitemap.html), and delete what the site no longer holds.

Every mistake in the sources is collected and reported at once, one `file:line: message` each,
and the build fails before it writes anything.

## Rendering only what changed

A page depends on its source, on the generator (its code, template, stylesheet, and the
versions of the libraries it uses), on the settings, and on the rest of the site: the titles of
the other pages (in its navigation and, for the home page, its list of pages) and the files its
links may point to. A digest of all of these is the page's *key*, kept with a digest of the
page written in `.build/manifest.json`. A page whose key is unchanged, and whose file in `docs/`
is the one written, is left alone: a build with nothing changed renders nothing.

The output is the same, byte for byte, for the same sources: lists are sorted, links are
relative, and nothing records a time, a random id or a path of the machine.
"""

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Dict, List
from urllib.parse import unquote, urlsplit

from markupsafe import Markup

from tools.assets import ASSET_SUFFIXES, site_files
from tools.errors import BuildError, BuildFailed, SourceError
from tools.files import write_if_changed
from tools.front_matter import take_front_matter
from tools.images import describe_images, image_sizes
from tools.katex import katex_version, typeset
from tools.markdown import ParsedNotes, Reference, parse, render
from tools.notebook import notebook_files, read_notebook
from tools.page import SiteConfig, preview_image, render_page, section_id
from tools.site import HOME, Page, find_pages, navigation, reading_order, unlinked_pages
from tools.sitemap import commit_dates, sitemap
from tools.split import read_source, split

GENERATOR = Path(__file__).resolve().parent

# Where the site is published, and where the repository shows its files; `make docs` passes
# its SITE_URL and SOURCE_URL.
SITE_URL = 'https://capsule-networks-tutorial.github.io/annotated-capsules/'
SOURCE_URL = 'https://github.com/capsule-networks-tutorial/annotated-capsules/blob/main'

# The libraries whose output ends up in the pages.
LIBRARIES = ('markdown-it-py', 'mdit-py-plugins', 'pygments', 'jinja2', 'pyyaml')


@dataclass
class Report:
    """
    What a build did: the number of pages, the pages rendered, the files written (changed) and
    removed, notes for the author, and the time it took.
    """
    pages: int = 0
    rendered: List[str] = field(default_factory=list)
    written: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0


def build(project: Path, roots: List[str], out: Path, cache: Path,
          site_url: str = SITE_URL, source_url: str = SOURCE_URL) -> Report:
    """
    ## The steps

    Builds the site of the sources in `roots` (folders relative to `project`) into `out`,
    keeping its cache in `cache`.
    """
    start = time.perf_counter()
    project, out, cache = Path(project), Path(out), Path(cache)
    _check_output_folder(out)
    report = Report()

    pages = _read_pages(project, roots)
    home = next(page for page in pages if page.output == HOME)
    config = SiteConfig(home.title, site_url, source_url, preview_image(home))
    navigations = navigation(pages)

    manifest = _load_manifest(cache)
    keys = _keys(project, roots, pages, config)
    stale = [page for page in pages if not _up_to_date(page, keys[page.output], manifest, out)]

    parsed = _parse_notes(stale)
    assets = _check_references(project, pages, stale, parsed)
    image_errors = [error for page in stale for error in describe_images(
        project, page.source, page.output, parsed[page.output], assets[page.output])]
    if image_errors:
        raise BuildFailed(image_errors)
    formulas = [f for page in stale for section in parsed[page.output] for notes in section for f in notes.formulas]
    math, errors = typeset(formulas, cache)
    if errors:
        raise BuildFailed(errors)

    written: Dict[PurePosixPath, bytes] = {}
    for page in stale:
        notes = [Markup(''.join(render(notes, math) for notes in section)) for section in parsed[page.output]]
        has_math = any(notes.formulas for section in parsed[page.output] for notes in section)
        html = render_page(page, notes, navigations[page.output], config, has_math, pages).encode()
        written[page.output] = html
        manifest[str(page.output)] = {'key': keys[page.output], 'sha': _digest(html),
                                      'assets': {str(k): str(v) for k, v in sorted(assets[page.output].items())}}
        report.rendered.append(str(page.output))
    manifest = {str(page.output): manifest[str(page.output)] for page in pages}

    # Every file of the site, by its path in it: the pages just rendered, the other files, the
    # files the notes point to, and the sitemap.
    for entry in manifest.values():
        for target, source in entry['assets'].items():
            written[PurePosixPath(target)] = (project / source).read_bytes()
    written.update(site_files())
    for page in pages:
        if page.source.suffix == '.ipynb':
            written.update(notebook_files(page.output, read_notebook(page.source, page.text)))
    dates, undated = commit_dates(project, [page.source for page in pages])
    if undated:
        report.notes.append('sitemap.xml has no lastmod for sources with uncommitted changes: ' +
                            ', '.join(map(str, undated)) + '; commit them, then run `make docs` again')
    written[PurePosixPath('sitemap.xml')] = sitemap(pages, site_url, dates).encode()

    expected = {str(page.output) for page in pages} | {str(path) for path in written}
    for path, data in sorted(written.items()):
        if write_if_changed(out / path, data):
            report.written.append(str(path))
    report.removed = _remove_others(out, expected)
    _save_manifest(cache, manifest)
    report.pages = len(pages)
    for index, left in unlinked_pages(pages):
        names = ', '.join(page.source.name for page in left)
        report.notes.append(f'{index.source} does not link to {names}, so they follow the pages '
                            'it links to, by name')
    report.seconds = time.perf_counter() - start
    return report


def _read_pages(project: Path, roots: List[str]) -> List[Page]:
    """
    ## Reading

    The pages of the sources, read, split and with their front matter taken. A source with
    nothing to show has no page; the first source folder must have a home page.
    """
    pages, errors = [], []
    for page in find_pages(project, roots):
        try:
            page.text = read_source(project / page.source, page.source)
            page.sections = split(page.source, page.text)
            meta = take_front_matter(page.source, page.sections)
        except SourceError as error:
            errors.append(error)
            continue
        if page.sections:
            page.title = meta.get('title', page.source.name)
            page.summary = meta.get('summary', '')
            pages.append(page)
    if errors:
        raise BuildFailed(errors)
    if not any(page.output == HOME for page in pages):
        raise BuildError(f'the home page comes from the docstring of {roots[0]}/__init__.py, '
                         'which is missing or empty')
    return pages


def _keys(project: Path, roots: List[str], pages: List[Page], config: SiteConfig) -> Dict[PurePosixPath, str]:
    """
    The key of each page: a digest of everything its HTML depends on.
    """
    generator = sorted((str(path.relative_to(GENERATOR)), _digest(path.read_bytes()))
                       for path in GENERATOR.rglob('*') if path.is_file() and '__pycache__' not in path.parts)
    versions = [(library, metadata.version(library)) for library in LIBRARIES] + [('katex', katex_version())]
    files = sorted(str(path.relative_to(project)) for root in roots for path in (project / root).rglob('*')
                   if path.is_file() and '__pycache__' not in path.parts)
    site = [(str(page.output), str(page.source), page.title, page.summary)
            for page in reading_order(pages)]
    images = image_sizes(project, roots)
    shared = _digest(json.dumps([generator, versions, files, site, config.__dict__, images])
                     .encode())
    return {page.output: _digest((shared + page.text).encode()) for page in pages}


def _up_to_date(page: Page, key: str, manifest: dict, out: Path) -> bool:
    """
    Whether a page's key is the one it was last written with, and `out` still holds that page.
    """
    entry = manifest.get(str(page.output))
    path = out / page.output
    return (entry is not None and entry['key'] == key and path.is_file()
            and _digest(path.read_bytes()) == entry['sha'])


def _parse_notes(pages: List[Page]) -> Dict[PurePosixPath, List[List[ParsedNotes]]]:
    """
    ## Parsing the notes

    The parsed notes of each section of each page. The ids of the headings must differ from each
    other and from the sections' ids all over the page, so one set of ids serves the page.
    """
    parsed, errors = {}, []
    for page in pages:
        ids = {section_id(number) for number in range(1, len(page.sections) + 1)}
        try:
            parsed[page.output] = [[parse(page.source, notes, ids) for notes in section.notes]
                                   for section in page.sections]
        except SourceError as error:
            errors.append(error)
    if errors:
        raise BuildFailed(errors)
    return parsed


def _check_references(project: Path, pages: List[Page], stale: List[Page],
                      parsed: Dict[PurePosixPath, List[List[ParsedNotes]]]) -> Dict[PurePosixPath, Dict]:
    """
    ## Links and images

    Every local link of the notes must lead to a page of the site or to a file beside the
    sources (an image, say), which is then copied into the site; every image must be such a
    file. Links to other sites are left as they are. Returns the files to copy for each page,
    by their path in the site.
    """
    outputs = {page.output for page in pages}
    assets, errors = {}, []
    for page in stale:
        assets[page.output] = {}
        for reference in (r for section in parsed[page.output] for notes in section for r in notes.references):
            try:
                asset = _resolve(project, page, reference, outputs)
            except SourceError as error:
                errors.append(error)
                continue
            if asset is not None:
                assets[page.output][asset[0]] = asset[1]
    if errors:
        raise BuildFailed(errors)
    return assets


def _resolve(project: Path, page: Page, reference: Reference, outputs):
    """
    Where a reference leads: `None` for another site, an anchor or a page; `(path in the site,
    path in the project)` for a file to copy. A local path is read relative to the page, which
    sits at the same place in the site as its source does among the sources.
    """
    parts = urlsplit(reference.target)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    what = 'image' if reference.image else 'link'
    if parts.path.startswith('/'):
        raise SourceError(page.source, reference.line, f'the {what} {reference.target} is absolute; make it '
                                                       'relative to this file, so that it works wherever the site is')
    path = unquote(parts.path)
    in_site = _normalise(page.output.parent / path)
    in_project = _normalise(page.source.parent / path)
    if in_site is None or in_project is None or not in_project.is_relative_to(page.root):
        raise SourceError(page.source, reference.line, f'the {what} {reference.target} leads out of '
                                                       f'{page.root}/, out of the site')
    if in_site in outputs and not reference.image:
        return None
    file = project / in_project
    if not file.is_file():
        raise SourceError(page.source, reference.line, f'the {what} {reference.target} leads to {in_project}, '
                                                       'which does not exist' +
                          ('' if reference.image else f', nor does a page {in_site}'))
    if file.suffix.lower() not in ASSET_SUFFIXES:
        raise SourceError(page.source, reference.line, f'the {what} {reference.target} leads to a file that is '
                                                       f'not part of the site; link to a page, or to a file of type '
                                                       f'{", ".join(sorted(ASSET_SUFFIXES))}')
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


def _check_output_folder(out: Path):
    """
    ## The output folder

    The build deletes from `out` whatever the site no longer holds, so it refuses a folder that
    holds files but no `sitemap.xml`: a folder not made by this generator.
    """
    if out.is_dir() and any(out.iterdir()) and not (out / 'sitemap.xml').is_file():
        raise BuildError(f'{out} holds files but no sitemap.xml, so it was not made by this generator, '
                         'and the build would delete its files; choose another folder with --out')


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


def _load_manifest(cache: Path) -> dict:
    path = cache / 'manifest.json'
    return json.loads(path.read_text()) if path.is_file() else {}


def _save_manifest(cache: Path, manifest: dict):
    write_if_changed(cache / 'manifest.json', json.dumps(manifest, indent=1, sort_keys=True).encode())


def main(arguments: List[str] = None) -> int:
    """
    ## The command

    Prints one line of what was done, or every error, one `file:line: message` a line, and
    returns the exit status.
    """
    parser = argparse.ArgumentParser(prog='python -m tools.build', description='Builds the annotated site.')
    parser.add_argument('roots', nargs='+', help='source folders; the first is the top of the site')
    parser.add_argument('--out', default='docs', help='the site folder (default: docs)')
    parser.add_argument('--cache', default='.build', help='the build cache (default: .build)')
    parser.add_argument('--site-url', default=SITE_URL, help=f'where the site is published (default: {SITE_URL})')
    parser.add_argument('--source-url', default=SOURCE_URL,
                        help=f'the address of the repository\'s files, for "view source" (default: {SOURCE_URL})')
    options = parser.parse_args(arguments)
    try:
        report = build(Path.cwd(), options.roots, Path(options.out), Path(options.cache),
                       options.site_url, options.source_url)
    except (BuildFailed, BuildError, SourceError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f'{options.out}: {report.pages} pages, {len(report.rendered)} rendered, {len(report.written)} files '
          f'written, {len(report.removed)} removed, in {report.seconds:.2f} s')
    for note in report.notes:
        print(f'note: {note}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
