"""
---
title: Image files
summary: The size of a PNG, GIF, JPEG or SVG, read from the bytes of its file; and no script in an
  SVG.
---

# Image files

A page shows each picture at its own size, so the size is read from the file itself, whether
it is an image of the notes or a picture among a notebook's outputs:

* a PNG, GIF or JPEG gives its width and height in its header;
* an SVG gives them in its `width` and `height`, in pixels, points or other absolute units,
  or else in its `viewBox`.

A size no picture can have (0, or more than `LARGEST` pixels either way) is a damaged header,
and an error at the place of the picture; so is a file that is no image at all, such as the
pointer a clone without Git LFS holds in its place.

An SVG is also a document that runs scripts when it is opened on its own, as a click on a
picture does: [scripts in an SVG](#scripts-in-an-svg) keep it out of the site.
"""

import re
import struct
import xml.etree.ElementTree as ElementTree
from typing import Optional, Tuple

from tools.addresses import ADDRESS_RULE, safe_address

# The types of image whose size is read.
SIZED_SUFFIXES = ('.png', '.gif', '.jpg', '.jpeg', '.svg')

# CSS pixels in one of each absolute unit an SVG may give its size in.
SVG_UNITS = {'': 1, 'px': 1, 'pt': 4 / 3, 'pc': 16, 'in': 96, 'cm': 96 / 2.54, 'mm': 96 / 25.4}
SVG_LENGTH = re.compile(r'\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]{1,2})?)\s*([a-z]*)\s*')


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
    linked to, is refused; the allow-list of addresses is [the notes'](addresses.html).
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
