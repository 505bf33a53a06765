"""
The pages: code escaped and numbered as in the file, anchors, metadata, navigation and the
home page's list, on a build of the fixture site.
"""

import re

import pytest

from tests.conftest import build_site


@pytest.fixture
def site(project):
    build_site(project, site_url='https://example.org/capsules/', source_url='https://example.org/repo/blob/main')
    return project / 'site'


def page(site, name: str) -> str:
    return (site / name).read_text(encoding='utf-8')


def test_code_is_escaped_so_that_it_is_shown_and_never_run(site):
    html = page(site, 'tutorial/index.html')
    assert '<script' not in html and '</script>' not in html
    # `return "</script>" + ...` and `f"<td>{value} &lt; {n}</td>"` in the code column.
    assert '&lt;/script&gt;' in html and '&lt;td&gt;' in html and '&amp;lt;' in html


def test_code_lines_show_their_numbers_in_the_file(site):
    html = page(site, 'tutorial/index.html')
    line = re.search(r'<span class="line" data-line="(\d+)">.*?HASH', html).group(1)
    source = (site.parent / 'home/tutorial/__init__.py').read_text().splitlines()
    assert source[int(line) - 1].startswith('HASH = ')


def test_docstrings_leave_the_code_column_and_trailing_comments_stay(site):
    html = page(site, 'tutorial/index.html')
    code = ''.join(re.findall(r'<div class="code">(.*?)</div>', html, re.S))
    assert 'Numerical stability' not in code and 'a trailing comment stays in the code' in code


def test_every_section_has_an_anchor_and_a_link_to_it(site):
    html = page(site, 'tutorial/index.html')
    ids = re.findall(r'<section class="section" id="(section-\d+)">', html)
    assert ids == [f'section-{n}' for n in range(1, len(ids) + 1)] and len(ids) > 3
    for anchor in ids:
        assert f'<a class="section-link" href="#{anchor}"' in html


def test_front_matter_feeds_the_title_description_and_link_previews(site):
    html = page(site, 'tutorial/index.html')
    summary = 'A page with everything the generator renders (math, a table, an image, code blocks and nested code).'
    assert '<title>Softmax, annotated · Fixture site</title>' in html
    assert f'<meta name="description" content="{summary}">' in html
    assert '<meta property="og:title" content="Softmax, annotated">' in html
    assert f'<meta property="og:description" content="{summary}">' in html
    assert '<meta property="og:url" content="https://example.org/capsules/tutorial/">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '---' not in html and 'title:' not in html


def test_each_page_links_to_its_source_under_the_configured_address(site):
    assert '<a class="source" href="https://example.org/repo/blob/main/home/tutorial/__init__.py">View source</a>' \
        in page(site, 'tutorial/index.html')


def test_the_pages_of_a_tutorial_lead_to_each_other_and_up(site):
    index, readme = page(site, 'tutorial/index.html'), page(site, 'tutorial/readme.html')
    assert '<a rel="next" href="readme.html">' in index and 'rel="prev"' not in index
    assert '<a rel="up" href="../index.html">' in index
    assert '<a rel="prev" href="index.html">' in readme and 'rel="next"' not in readme
    assert '<li><a href="../index.html">Home</a></li>' in readme
    assert '<li><a href="index.html">tutorial</a></li>' in readme
    assert '<span aria-current="page">readme.md</span>' in readme


def test_the_home_page_lists_every_page(site):
    html = page(site, 'index.html')
    assert '<h3><a href="tutorial/index.html">Softmax, annotated</a></h3>' in html
    assert '<li><a href="tutorial/readme.html">Readme of the tutorial</a>: A Markdown page, notes only.</li>' in html


def test_a_page_without_code_is_one_column_and_a_page_without_math_loads_no_katex(site):
    assert '<main class="page notes-only">' in page(site, 'tutorial/readme.html')
    assert '<main class="page">' in page(site, 'tutorial/index.html')
    assert 'katex.min.css' in page(site, 'tutorial/index.html')
    assert 'katex.min.css' not in page(site, 'index.html')


def test_math_is_typeset_on_the_server_and_no_raw_tex_is_left(site):
    html = page(site, 'tutorial/index.html')
    assert html.count('class="katex"') >= 10 and '<math xmlns=' in html
    text = re.sub(r'<annotation[^>]*>.*?</annotation>', '', html, flags=re.S)
    assert '\\frac' not in text and '$$' not in text


def test_pages_load_nothing_from_another_host(site):
    # What a browser fetches on opening a page: stylesheets and icons, scripts, images. The
    # canonical link names the published address, which no browser fetches.
    for path in site.rglob('*.html'):
        html = path.read_text()
        fetched = [re.search(r'href="([^"]*)"', tag).group(1) for tag in re.findall(r'<link\b[^>]*>', html)
                   if 'rel="canonical"' not in tag]
        fetched += re.findall(r'<(?:script|img)\b[^>]*\bsrc="([^"]*)"', html)
        assert fetched and all('//' not in url for url in fetched), (path, fetched)


def test_pages_start_with_the_doctype(site):
    for path in site.rglob('*.html'):
        assert path.read_bytes().startswith(b'<!DOCTYPE html>\n'), path
