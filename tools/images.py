"""
---
title: Images
summary: Each picture of the notes shown at its own size, wide ones across the page, with a dark
  variant for dark screens.
---

# Images

A picture is there to be read: its labels must be legible, which a figure squeezed into the
notes column is not. So every image of the notes gets:

* **its size**, `width` and `height`, read from [the file](image_files.html). The browser
  keeps the room for the picture before it loads, so that the text does not jump, and shows
  it at that size, down to the width of its column and no further.
* **room**: a figure wider than the notes column is a *wide* figure, and its section gives
  it the whole width of the page, its notes above its code, instead of the two columns;
  so it is shown at its natural size up to the width of the page. So is a picture of a
  [notebook's](notebook.html) outputs wider than the code column. A click on a picture opens
  the file itself.
* **a dark variant**: where `images/x.png` has a sibling `images/x.dark.png` (or `x.svg` an
  `x.dark.svg`), the page shows that file on screens set to dark, with a `<picture>`:

```html
<picture>
  <source media="(prefers-color-scheme: dark)" srcset="images/x.dark.png" ...>
  <img src="images/x.png" width="840" height="560" ...>
</picture>
```

The notes name only the light file; both are copied into the site. The two must be the same
size: the page keeps the room of the light one for either.
"""

import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

from markdown_it.common.utils import escapeHtml

from tools.document import Page, ParsedNotes
from tools.errors import SourceError
from tools.image_files import SIZED_SUFFIXES, image_size
from tools.site import OUTSIDE, outside

# The widest figure that the notes column holds at its natural size, in CSS pixels, on a
# desktop screen 1440 pixels wide (see the stylesheet); a wider one is a wide figure.
NOTES_WIDTH = 500
# The same for a picture of a notebook's outputs, in the code column.
CODE_WIDTH = 790


@dataclass
class Image:
    """
    What the page needs to know of an image: its size in CSS pixels, and the address of its
    dark variant as the page links to it (`None` without one).
    """
    width: int
    height: int
    dark: Optional[str] = None

    @property
    def wide(self) -> bool:
        return self.width > NOTES_WIDTH


def dark_variant(address: str) -> str:
    """
    The name of an image's dark variant: `images/x.png` becomes `images/x.dark.png`.
    """
    root, suffix = posixpath.splitext(address)
    return f'{root}.dark{suffix}'


def describe_images(project: Path, page: Page, sections: List[List[ParsedNotes]],
                    assets: Dict[PurePosixPath, PurePosixPath]) -> List[SourceError]:
    """
    ## The images of a page

    Reads the size of every local image of a page's notes, whose links the build has checked,
    and finds its dark variant, which is added to the page's `assets` (the files to copy, by
    their path in the site). What the renderer needs is left in each part's `env`, by the
    image's address as written. Returns what is wrong with the images.
    """
    source, output = page.source, page.output
    images: Dict[str, Image] = {}
    errors = []
    for notes in (notes for section in sections for notes in section):
        # One table for the page, where the renderer looks each image up by its address.
        notes.env['images'] = images
        for reference in notes.references:
            # Images of other sites are not read, nor those the build left out; an image shown
            # twice is read once.
            if not reference.image or reference.token.meta.get('unlinked') or \
                    reference.target in images:
                continue
            address = urlsplit(reference.target)
            if address.scheme or address.netloc:
                continue
            # The file, beside the source as the image is beside the page; one that is not
            # there is reported by the check of the links.
            path = unquote(address.path)
            in_project = PurePosixPath(posixpath.normpath(source.parent / path))
            if in_project.suffix.lower() not in SIZED_SUFFIXES or \
                    not (project / in_project).is_file():
                continue
            try:
                image = _read(project, page.root, in_project, reference.target)
            except ValueError as problem:
                errors.append(SourceError(source, reference.line,
                                          f'the image {reference.target}: {problem}'))
                continue
            images[reference.target] = image
            # The dark variant goes into the site beside the image.
            if image.dark is not None:
                in_site = PurePosixPath(posixpath.normpath(output.parent / path))
                assets[in_site.with_name(dark_variant(in_site.name))] = \
                    in_project.with_name(dark_variant(in_project.name))
    return errors


def _read(project: Path, root: PurePosixPath, image: PurePosixPath, address: str) -> Image:
    """
    An image of the project, with its dark variant if there is one; a `ValueError` when either
    is no image, when they differ in size, or when the dark variant is a symbolic link out of
    the source folder `root`.
    """
    width, height = _size(project, image)
    dark = image.with_name(dark_variant(image.name))
    if not (project / dark).is_file():
        return Image(width, height)
    real = outside(project, str(root), project / dark)
    if real is not None:
        raise ValueError(f'its dark variant {dark} is a symbolic link to {real}, {OUTSIDE}')
    if _size(project, dark) != (width, height):
        raise ValueError(f'{image} is {width}x{height} pixels, and its dark variant {dark} is not: '
                         'draw both at one size')
    return Image(width, height, dark_variant(address))


def _size(project: Path, image: PurePosixPath) -> Tuple[int, int]:
    """
    The size of an image of the project, or a `ValueError` that names it.
    """
    try:
        return image_size((project / image).read_bytes())
    except ValueError as problem:
        raise ValueError(f'{image} {problem}') from None


def picture(src: str, alt: str, title: str, image: Optional[Image]) -> str:
    """
    ## The HTML

    The `<img>` of an image, with its size, inside a `<picture>` with the dark variant when
    there is one. `src`, `alt` and `title` (the attribute, or nothing) come escaped; an image
    of another site has no `Image`, and no size.
    """
    if image is None:
        return f'<img src="{src}" alt="{alt}"{title} loading="lazy">'
    # The size keeps the picture's room while it loads; a wide one takes the page's width.
    size = f' width="{image.width}" height="{image.height}"'
    wide = ' class="wide"' if image.wide else ''
    img = f'<img src="{src}" alt="{alt}"{title}{size}{wide} loading="lazy">'
    if image.dark is None:
        return img
    # A comma or a space would end the address in `srcset`, a list of addresses and sizes.
    dark = escapeHtml(image.dark.replace(',', '%2C').replace(' ', '%20'))
    return (f'<picture><source media="(prefers-color-scheme: dark)" srcset="{dark}"{size}>'
            f'{img}</picture>')


def image_sizes(project: Path, roots: List[str]) -> List[Tuple[str, Optional[Tuple[int, int]]]]:
    """
    The size of every image under the source folders, by path, which the pages that show them
    depend on: a figure drawn again at another size changes their `width` and `height`. A
    symbolic link out of the source folders is not read.
    """
    sizes = []
    # The size, or `None` for a file that is no image (which stops the build of a page that
    # shows it).
    for root in roots:
        for path in sorted((project / root).rglob('*')):
            if path.suffix.lower() in SIZED_SUFFIXES and path.is_file() and \
                    outside(project, root, path) is None:
                try:
                    size = image_size(path.read_bytes())
                except ValueError:
                    size = None
                sizes.append((str(path.relative_to(project)), size))
    return sizes
