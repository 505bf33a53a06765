"""
The pages: code escaped and numbered as in the file, anchors, metadata, navigation, contents,
footer and the home page's list, on a build of the fixture site.
"""

import re

import pytest

from tests.conftest import add_pages, build_site

SETTINGS = dict(site_url='https://example.org/capsules/',
                source_url='https://example.org/repo/blob/main')


@pytest.fixture
def site(project):
    add_pages(project)
    build_site(project, **SETTINGS)
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
    assert '---' not in html and 'title:' not in html


def test_a_page_with_an_image_is_previewed_with_its_first_image(site):
    html = page(site, 'tutorial/index.html')
    image = 'https://example.org/capsules/tutorial/images/diagram.png'
    assert f'<meta property="og:image" content="{image}">' in html
    assert f'<meta name="twitter:image" content="{image}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_a_page_without_an_image_is_previewed_with_the_first_image_of_the_home_page(project):
    home = project / 'home/__init__.py'
    picture = '\n![A diagram](tutorial/images/diagram.png)\n"""'
    home.write_text(home.read_text().replace('\n"""', picture))
    build_site(project, **SETTINGS)
    image = 'https://example.org/capsules/tutorial/images/diagram.png'
    readme = page(project / 'site', 'tutorial/readme.html')
    assert f'<meta property="og:image" content="{image}">' in readme


def test_a_site_without_images_has_no_preview_image(project):
    (project / 'home/tutorial/__init__.py').write_text('"""\n# No picture\n"""\n\nx = 1\n')
    build_site(project, **SETTINGS)
    html = page(project / 'site', 'tutorial/readme.html')
    assert 'og:image' not in html and '<meta name="twitter:card" content="summary">' in html


def test_without_the_sites_address_a_page_names_no_address_of_its_own(project):
    build_site(project)
    head = page(project / 'site', 'tutorial/index.html').split('</head>')[0]
    assert 'rel="canonical"' not in head and 'og:url' not in head and 'og:image' not in head
    assert '<meta name="twitter:card" content="summary">' in head and '//' not in head


def test_summaries_show_their_code_on_the_home_page_and_no_backticks_in_the_head(site):
    summary = ('A page with a wide figure and its <code>.dark</code> variant, a small figure, and '
               'contents.')
    assert f'<a href="pages/pictures.html">Pictures</a>: {summary}</li>' in page(site, 'index.html')
    head = page(site, 'pages/pictures.html').split('</head>')[0]
    assert '`' not in head and '<code>' not in head
    assert ('<meta name="description" content="A page with a wide figure and its .dark variant, a '
            'small figure, and contents.">') in head


def test_every_page_has_the_icon_and_a_footer(site):
    assert (site / 'static/favicon.svg').read_bytes().startswith(b'<svg')
    for path in site.rglob('*.html'):
        html = path.read_text()
        icon = '../' * (len(path.relative_to(site).parts) - 1) + 'static/favicon.svg'
        assert f'<link rel="icon" href="{icon}" type="image/svg+xml">' in html, path
        footer = html.split('<footer class="footer">')[1]
        assert '>Fixture site</a>' in footer and '>The source of this page</a>' in footer, path
        assert '<a href="#">Back to the top</a>' in footer, path


def test_a_page_with_three_headings_or_more_lists_them_after_its_first_section(site):
    html = page(site, 'pages/pictures.html')
    contents = html.split('<nav class="notes toc" id="Contents" aria-label="Contents">')[1]
    contents = contents.split('</nav>')[0]
    entries = re.findall(r'(<ol>|</ol>)|<li><a href="#([^"]+)">([^<]+)</a>', contents)
    # The heading of level 3 in a list of its own, under its heading of level 2.
    assert [tag or f'{id}:{text}' for tag, id, text in entries] == [
        '<ol>', 'first:First', 'second:Second', '<ol>', 'a-detail:A detail', '</ol>',
        'third:Third', '</ol>']
    assert html.index('id="section-1"') < html.index('id="Contents"') < html.index('id="section-2"')
    assert '<a href="#Contents">Contents</a>' in html.split('<footer')[1]
    # Two headings are not a long page.
    assert 'id="Contents"' not in page(site, 'tutorial/index.html')


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


def next_pages(site, start: str):
    """
    The pages met following the `next` links from `start`.
    """
    walk = [start]
    while True:
        found = re.search(r'<a rel="next" href="([^"]+)">', page(site, walk[-1]))
        if found is None:
            return walk
        walk.append(str((site / walk[-1]).parent.relative_to(site) / found.group(1)))


def test_the_pages_follow_the_order_of_the_links_of_their_index_then_their_names(site):
    # The index links to the pictures, the notebook, and about; the appendix, not linked, is last.
    assert next_pages(site, 'pages/index.html') == [
        'pages/index.html', 'pages/pictures.html', 'pages/notebook.html', 'pages/about.html',
        'pages/appendix.html']


def test_the_home_page_and_the_sitemap_follow_the_reading_order(site):
    listed = re.findall(r'<li><a href="pages/([^"]+)">', page(site, 'index.html'))
    assert listed == ['pictures.html', 'notebook.html', 'about.html', 'appendix.html']
    mapped = re.findall(r'<loc>https://example.org/capsules/([^<]*)</loc>',
                        page(site, 'sitemap.xml'))
    assert mapped == ['', 'tutorial/', 'tutorial/readme.html', 'pages/', 'pages/pictures.html',
                      'pages/notebook.html', 'pages/about.html', 'pages/appendix.html']


def test_a_page_the_index_does_not_link_to_is_named_in_a_note(project):
    add_pages(project)
    report = build_site(project)
    assert report.notes == ['home/pages/__init__.py does not link to appendix.py, so they follow '
                            'the pages it links to, by name']


def test_only_the_page_itself_is_the_current_item_of_the_breadcrumb(project):
    (project / 'home/loose').mkdir()
    (project / 'home/loose/page.py').write_text('"""\n# A page in a folder without an index\n"""\n')
    build_site(project)
    html = page(project / 'site', 'loose/page.html')
    assert html.count('aria-current') == 1
    assert '<li><span>loose</span></li>' in html
    assert '<li><span aria-current="page">page.py</span></li>' in html


def test_the_home_page_lists_every_page(site):
    html = page(site, 'index.html')
    assert '<h3><a href="tutorial/index.html">Softmax, annotated</a></h3>' in html
    assert '<h3><a href="pages/index.html">Pages in order</a></h3>' in html
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
