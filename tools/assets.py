"""
---
title: Files copied into the site
summary: The stylesheets, KaTeX's stylesheet and fonts, the images the notes show, and a copy of
  each source.
---

# Files copied into the site

Besides its pages, the site holds:

* `static/`: the stylesheet of the pages and the site's icon (`tools/static/`), and the
  stylesheet of the code's colours, made by [Pygments](highlight.html);
* `katex/`: the stylesheet and fonts of KaTeX, from the npm package, so that the math needs no
  other host;
* the images and other files the notes point to (a PDF, the `.ipynb` of a notebook), at the
  same place relative to the page as relative to its source, so that a link that works beside
  the source works on the site; with each image its [dark variant](images.html), if it has one;
* the pictures of the outputs of a [notebook](notebook.html), beside its page;
* unless "View source" leads to a repository (`--source-url`), a [copy of each
  source](site.html#the-copy-of-a-source) beside its page, `mnist.py.txt` beside `mnist.html`,
  as it is in the source folder, byte for byte.

GitHub Pages, where a site kept in a repository is most often published, hands the site to
Jekyll, which leaves out every file whose name starts with `_`, `__init__.py.txt` among them,
unless the site holds a file `.nojekyll`; so with the copies of the sources comes an empty
`.nojekyll`.

KaTeX's stylesheet offers each font in three formats. Every current browser reads WOFF2, and
`docs/` is committed, so only the WOFF2 files are copied, a quarter of the bytes, and the
stylesheet's font lists are cut to them.
"""

import re
from pathlib import Path, PurePosixPath
from typing import Dict, List

from tools.document import Page
from tools.errors import BuildError
from tools.highlight import stylesheet
from tools.katex import KATEX_PACKAGE
from tools.site import source_copy

STATIC = Path(__file__).resolve().parent / 'static'

# The types of file the notes may point to besides pages.
ASSET_SUFFIXES = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.pdf', '.ipynb'}

# A font in a format other than WOFF2 in KaTeX's `@font-face` lists.
OTHER_FONT_FORMATS = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')
FONT_URL = re.compile(r'url\(([^)]+)\)')


def site_files() -> Dict[PurePosixPath, bytes]:
    """
    The files of the site that do not depend on the sources, by their path in the site.
    """
    files = {PurePosixPath('static') / path.name: path.read_bytes()
             for path in sorted(STATIC.iterdir())}
    files[PurePosixPath('static/pygments.css')] = stylesheet().encode()
    files.update(_katex_files())
    return files


def source_files(project: Path, pages: List[Page]) -> Dict[PurePosixPath, bytes]:
    """
    The copy of the source of each of `pages` that has one, and `.nojekyll`, by their paths in
    the site.
    """
    files = {PurePosixPath('.nojekyll'): b''}
    for page in pages:
        copy = source_copy(page)
        if copy is not None:
            files[copy] = (project / page.source).read_bytes()
    return files


def _katex_files() -> Dict[PurePosixPath, bytes]:
    """
    ## KaTeX

    The stylesheet with WOFF2 fonts only, and those fonts. If a new KaTeX changes how its
    stylesheet lists fonts, the build stops rather than ship a stylesheet that points at fonts
    that are not there.
    """
    dist = KATEX_PACKAGE / 'dist'
    css = OTHER_FONT_FORMATS.sub('', (dist / 'katex.min.css').read_text(encoding='utf-8'))
    fonts = sorted(set(FONT_URL.findall(css)))
    if not fonts or any(not font.startswith('fonts/') or not font.endswith('.woff2')
                        for font in fonts):
        raise BuildError(f'the stylesheet of KaTeX ({dist / "katex.min.css"}) does not list its '
                         'fonts as tools/assets.py expects; update OTHER_FONT_FORMATS there')
    files = {PurePosixPath('katex/katex.min.css'): css.encode()}
    for font in fonts:
        files[PurePosixPath('katex') / font] = (dist / font).read_bytes()
    return files
