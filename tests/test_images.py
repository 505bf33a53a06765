"""
The images of the notes: their size read from the file, wide figures marked as such, dark
variants shown on dark screens, and the mistakes reported at the image's line.
"""

import io

import pytest
from PIL import Image

from tests.conftest import add_pages, build_site
from tests.test_build import failure
from tools.image_files import image_size
from tools.images import NOTES_WIDTH


def encoded(width: int, height: int, format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new('RGB', (width, height), 'white').save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize('format', ['PNG', 'GIF', 'JPEG'])
def test_the_size_of_a_bitmap_is_read_from_its_header(format):
    assert image_size(encoded(123, 45, format)) == (123, 45)


@pytest.mark.parametrize('attributes, size', [
    ('width="640" height="480"', (640, 480)),
    ('width="640px" height="480px" viewBox="0 0 10 10"', (640, 480)),
    # Matplotlib's SVGs give their size in points, 4/3 of a CSS pixel each.
    ('width="460.8pt" height="345.6pt" viewBox="0 0 460.8 345.6"', (614, 461)),
    ('width="100%" viewBox="0,0,300,150"', (300, 150)),
    ('viewBox="0 0 300 150"', (300, 150)),
])
def test_the_size_of_an_svg_is_its_width_and_height_in_pixels_or_else_its_view_box(attributes,
                                                                                  size):
    svg = f'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" {attributes}></svg>'
    assert image_size(svg.encode()) == size


@pytest.mark.parametrize('data, message', [
    (b'version https://git-lfs.github.com/spec/v1\n', 'Git LFS pointer'),
    (b'GIF88 nonsense', 'is not a PNG, GIF, JPEG or SVG image'),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10%"></svg>', 'an SVG without a size'),
])
def test_a_file_that_is_no_image_says_what_it_is(data, message):
    with pytest.raises(ValueError, match=message):
        image_size(data)


@pytest.fixture
def pictures(project) -> str:
    add_pages(project)
    build_site(project)
    return (project / 'site/pages/pictures.html').read_text()


def test_every_image_has_its_size_and_one_wider_than_the_notes_column_is_wide(pictures):
    assert NOTES_WIDTH < 900
    assert ('<img src="images/wide.png" alt="A wide figure" width="900" height="300" '
            'class="wide" loading="lazy">') in pictures
    # 180 by 90 points.
    assert ('<img src="images/small.svg" alt="A small figure" width="240" height="120" '
            'loading="lazy">') in pictures


def test_an_image_with_a_dark_variant_shows_it_on_dark_screens(project, pictures):
    assert ('<a class="image" href="images/wide.png"><picture><source media="(prefers-color-'
            'scheme: dark)" srcset="images/wide.dark.png" width="900" height="300"><img '
            'src="images/wide.png"') in pictures
    for name in ('wide.png', 'wide.dark.png'):
        assert (project / 'site/pages/images' / name).read_bytes() == \
            (project / 'home/pages/images' / name).read_bytes()
    # The small figure has no dark variant.
    assert pictures.count('<picture>') == 1


def test_a_dark_variant_of_another_size_stops_the_build_at_the_image(project):
    add_pages(project)
    dark = encoded(899, 300, 'PNG')
    message = failure(project, 'home/pages/images/wide.dark.png', dark)
    problem = ('the image images/wide.png: home/pages/images/wide.png is 900x300 pixels, and its '
               'dark variant home/pages/images/wide.dark.png is not: draw both at one size')
    # Both pages that show it.
    assert message.splitlines() == [f'home/pages/about.md:11: {problem}',
                                    f'home/pages/pictures.py:11: {problem}']


def test_an_image_that_is_no_image_stops_the_build_at_its_line(project):
    add_pages(project)
    pointer = 'version https://git-lfs.github.com/spec/v1\n'
    message = failure(project, 'home/pages/images/small.svg', pointer)
    assert message == ('home/pages/pictures.py:15: the image images/small.svg: '
                       'home/pages/images/small.svg is a Git LFS pointer, not the image: run '
                       '`git lfs pull`')


def test_an_image_drawn_again_at_another_size_renders_its_page_again(project):
    build_site(project)
    (project / 'home/tutorial/images/diagram.png').write_bytes(encoded(200, 100, 'PNG'))
    report = build_site(project)
    assert 'tutorial/index.html' in report.rendered
    html = (project / 'site/tutorial/index.html').read_text()
    assert 'alt="A diagram of the softmax" width="200" height="100"' in html
