"""
---
title: Images
summary: Each picture of the notes shown at its own size, wide ones across the page, with a dark
  variant for dark screens.
---

# Images

A picture is there to be read: its labels must be legible, which a figure squeezed into the
notes column is not. So every image of the notes gets:

* **its size**, `width` and `height`, read from the file: the header of a PNG, GIF or JPEG,
  the `width` and `height` of an SVG (in pixels, points or other absolute units) or else its
  `viewBox`. The browser keeps the room for the picture before it loads, so that the text does
  not jump, and shows it at that size, down to the width of its column and no further.
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
import re
import struct
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

from markdown_it.common.utils import escapeHtml

from tools.errors import SourceError
from tools.sanitise import ADDRESS_RULE, safe_address
from tools.site import OUTSIDE, Page, outside

if TYPE_CHECKING:
    # The Markdown renderer calls `picture`, below, so this module cannot import it in turn.
    from tools.markdown import ParsedNotes

# The types of image whose size is read.
SIZED_SUFFIXES = ('.png', '.gif', '.jpg', '.jpeg', '.svg')

# The widest figure that the notes column holds at its natural size, in CSS pixels, on a
# desktop screen 1440 pixels wide (see the stylesheet); a wider one is a wide figure.
NOTES_WIDTH = 500
# The same for a picture of a notebook's outputs, in the code column.
CODE_WIDTH = 790

# CSS pixels in one of each absolute unit an SVG may give its size in.
SVG_UNITS = {'': 1, 'px': 1, 'pt': 4 / 3, 'pc': 16, 'in': 96, 'cm': 96 / 2.54, 'mm': 96 / 25.4}
SVG_LENGTH = re.compile(r'\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]{1,2})?)\s*([a-z]*)\s*')


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


def image_size(data: bytes) -> Tuple[int, int]:
    """
    ## Reading the size

    The width and height of an image, from the bytes of its file; a `ValueError` that says what
    is wrong with it otherwise. The formats are told apart by their first bytes, not by the
    file's name.
    """
    if data.startswith(b'\x89PNG\r\n\x1a\n') and data[12:16] == b'IHDR' and len(data) >= 24:
        # The first chunk, IHDR, starts with the width and the height, 4 bytes each.
        return _plausible(struct.unpack('>II', data[16:24]))
    # A GIF's size follows its signature, in 2 bytes each, the other way round.
    if data[:6] in (b'GIF87a', b'GIF89a') and len(data) >= 10:
        return _plausible(struct.unpack('<HH', data[6:10]))
    if data.startswith(b'\xff\xd8'):
        return _plausible(_jpeg_size(data))
    if data.lstrip().startswith((b'<?xml', b'<svg', b'<!--', b'<!DOCTYPE svg')):
        return _plausible(_svg_size(data))
    if data.startswith(b'\x89PNG\r\n\x1a\n'):
        raise ValueError('is a PNG without its header (IHDR): it is damaged, or cut short')
    # What a clone without Git LFS holds in place of a large file.
    if data.startswith(b'version https://git-lfs'):
        raise ValueError('is a Git LFS pointer, not the image: run `git lfs pull`')
    raise ValueError(f'is not a PNG, GIF, JPEG or SVG image (it starts with {data[:8]!r})')


# The largest width or height of a picture, in pixels: a size beyond it is a damaged header.
LARGEST = 100_000


def _plausible(size: Tuple[int, int]) -> Tuple[int, int]:
    """
    The size read, if a picture can have it.
    """
    if not all(1 <= length <= LARGEST for length in size):
        raise ValueError(f'claims to be {size[0]}x{size[1]} pixels, which is no size for a '
                         f'picture (1 to {LARGEST} pixels each way): it is damaged')
    return size


def _jpeg_size(data: bytes) -> Tuple[int, int]:
    """
    A JPEG is a series of segments, each a marker `FF xx` and a 2-byte length; the size is in
    the first *start of frame* segment (markers C0 to CF, except C4, C8 and CC).
    """
    # After the `FF D8` that opens the file, segment after segment.
    position = 2
    while position + 9 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        length, = struct.unpack('>H', data[position + 2:position + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack('>HH', data[position + 5:position + 9])
            return width, height
        position += 2 + length
    raise ValueError('is a JPEG without a frame header, so it has no size')


def _svg_size(data: bytes) -> Tuple[int, int]:
    """
    The size an SVG asks for: its `width` and `height` in absolute units (matplotlib writes
    points), or else the width and height of its `viewBox`.
    """
    root = read_svg(data)
    # `width="460.8pt"`, say; a relative width (`100%`) leaves the size to the view box.
    lengths = [_svg_length(root.get(name, '')) for name in ('width', 'height')]
    if None not in lengths:
        return lengths[0], lengths[1]
    box = root.get('viewBox', '').replace(',', ' ').split()
    if len(box) == 4 and all(SVG_NUMBER.fullmatch(number) for number in box):
        return round(float(box[2])), round(float(box[3]))
    raise ValueError('is an SVG without a size: give its <svg> a viewBox, or a width and height '
                     'in pixels')


# What an SVG may not hold: a script, HTML inside it, or a plug-in; and where a link inside it
# may lead besides the addresses of a page: a picture embedded in it, as matplotlib writes one.
SVG_REFUSED = {'script', 'foreignObject', 'iframe', 'embed', 'object', 'handler'}
SVG_PICTURE = re.compile(r'data:image/(png|jpeg|gif|webp);', re.I)
SVG_NUMBER = re.compile(r'[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]{1,2})?')


def read_svg(data: bytes) -> ElementTree.Element:
    """
    ## Scripts in an SVG

    A click on a picture opens its file, and an SVG opened on its own is a document of the
    site, whose scripts run: a `<script>`, an `onload=` or a `javascript:` link in it is a
    script in the site, as it would be in the notes. So an SVG with any of them, shown or
    linked to, is refused; the allow-list of addresses is [the notes'](sanitise.html).
    Returns the root element of the SVG; a `ValueError` that says what is wrong otherwise.
    """
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise ValueError(f'is not valid SVG: {error}') from None
    for element in root.iter():
        name = element.tag.rsplit('}', 1)[-1]
        if name in SVG_REFUSED:
            raise ValueError(f'holds a <{name}>, which would run in the site when the picture '
                             'is opened: draw it without one')
        for attribute, value in element.attrib.items():
            attribute = attribute.rsplit('}', 1)[-1]
            if attribute.lower().startswith('on'):
                raise ValueError(f'has an event handler, `{attribute}` on <{name}>, which would '
                                 'run in the site when the picture is opened: take it out')
            leads = attribute == 'href' or (attribute == 'attributeName' and 'href' in value)
            if leads and not (safe_address(value) or SVG_PICTURE.match(value)):
                raise ValueError(f'links to `{value[:60]}` from <{name}>: {ADDRESS_RULE}')
    return root


def _svg_length(value: str) -> Optional[int]:
    """
    An SVG length in CSS pixels; `None` for none, or a relative one (`100%`, `2em`).
    """
    match = SVG_LENGTH.fullmatch(value)
    if match is None or match.group(2) not in SVG_UNITS:
        return None
    return round(float(match.group(1)) * SVG_UNITS[match.group(2)])


def dark_variant(address: str) -> str:
    """
    The name of an image's dark variant: `images/x.png` becomes `images/x.dark.png`.
    """
    root, suffix = posixpath.splitext(address)
    return f'{root}.dark{suffix}'


def describe_images(project: Path, page: Page, sections: List[List['ParsedNotes']],
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
