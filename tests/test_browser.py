"""
The site in a real browser, headless Chromium (Debian's package, which `make test` installs),
as a reader sees it: on a desktop screen (1440 by 900) in light and in dark mode, and on a phone
(390 by 844). Two sites are looked at, each built afresh and served from this machine: the
fixture site, which holds one of everything the generator makes, and the site of this project.

On every page and in every view: no console error, no failed request, no request to another
host, no sideways scroll; KaTeX's fonts where there is math; the icon, the footer, one current
item in the breadcrumb; the notes beside the code on a desktop and above it on a phone.

* Figures: `width` and `height` are the picture's own; it is shown at its natural width, or
  as wide as the page allows; in dark mode, a figure with a dark variant shows it, and a
  picture of a notebook's outputs sits on a light card; on a phone it fits the screen and opens
  at full size on a click.
* "View source" leads to a file of the site, shown as text.
* Code: on a desktop, no line of 100 characters or fewer is cut off; the code blocks of the
  notes wrap; on a phone, a code block wider than the screen scrolls inside itself.
* A long page lists its headings, each leading to its heading.

Full-page screenshots go to pytest's temporary folder, to look at when a check fails.

Where Chromium is missing the test is skipped, except in CI (`CI` set), where a skipped browser
test would hide a broken site: there it fails.
"""

import functools
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_SITE, add_pages, build_site
from tools.build import build

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
# Chromium without the extras that would talk to other hosts or need a display.
CHROMIUM_ARGUMENTS = ['--headless', '--no-sandbox', '--disable-gpu',
                      '--disable-background-networking', '--disable-component-update',
                      '--disable-sync', '--no-first-run']
VIEWS = {'light': dict(viewport={'width': 1440, 'height': 900}, color_scheme='light'),
         'dark': dict(viewport={'width': 1440, 'height': 900}, color_scheme='dark'),
         'phone': dict(viewport={'width': 390, 'height': 844}, color_scheme='light',
                       is_mobile=True, has_touch=True)}
# The longest source line the code column must show whole on a desktop.
LINE_LENGTH = 100

FIXTURE_PAGES = ['index.html', 'tutorial/index.html', 'pages/pictures.html',
                 'pages/notebook.html', 'pages/about.html']
PROJECT_PAGES = ['index.html', 'capsule_networks/index.html', 'capsule_networks/mnist.html',
                 'capsule_networks/reconstructions.html', 'capsule_networks/figures.html',
                 'capsule_networks/notebook.html', 'tools/index.html', 'tools/build.html']


@pytest.fixture(scope='module')
def browser():
    if not Path(CHROMIUM).exists():
        message = ('Chromium is not installed; `make test` installs it, as root or with sudo '
                   '(apt-get install chromium)')
        if os.environ.get('CI'):
            pytest.fail(f'CI must run the browser test: {message}')
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        yield browser
        browser.close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *arguments):
        pass


def serve(folder: Path):
    """
    Serves a folder on 127.0.0.1, on a free port; yields its address.
    """
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='module')
def fixture_site(tmp_path_factory):
    project = Path(shutil.copytree(FIXTURE_SITE, tmp_path_factory.mktemp('fixture') / 'project'))
    add_pages(project)
    build_site(project)
    yield from serve(project / 'site')


@pytest.fixture(scope='module')
def project_site(tmp_path_factory):
    """
    This project's site, built from its sources as `make docs` builds it.
    """
    site = tmp_path_factory.mktemp('project') / 'site'
    build(PROJECT, ['labml_nn', 'tools'], site, site.parent / 'cache', strict=True,
          allow_scripts=True)
    yield from serve(site)


# What the page looks like, measured in the browser.
MEASURE = '''() => {
  const box = element => {
    const r = element.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width};
  };
  const inner = element => {
    const style = getComputedStyle(element);
    return element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  };
  // The first section with notes and code, and no wide figure, which would put them in one column.
  const section = [...document.querySelectorAll('.section')]
    .find(s => s.querySelector('.code pre') && !s.querySelector('img.wide'));
  const clipped = [];
  for (const code of document.querySelectorAll('.code')) {
    const style = getComputedStyle(code);
    const right = box(code).left + code.clientWidth - parseFloat(style.paddingRight);
    for (const line of code.querySelectorAll('.line')) {
      if (line.getBoundingClientRect().right > right + 1) clipped.push(line.textContent);
    }
  }
  return {
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    page: document.querySelector('main').clientWidth,
    boxes: section && {notes: box(section.querySelector('.notes')),
                       code: box(section.querySelector('.code'))},
    clipped,
    // The code blocks wider than their room, and how they show what does not fit.
    codeBlocks: [...document.querySelectorAll('.code, .notes pre')]
      .filter(block => block.scrollWidth > block.clientWidth + 1)
      .map(block => [block.className, getComputedStyle(block).overflowX]),
    images: [...document.querySelectorAll('main img')].map(img => ({
      src: img.currentSrc.split('/').pop(), natural: [img.naturalWidth, img.naturalHeight],
      attributes: [Number(img.getAttribute('width')), Number(img.getAttribute('height'))],
      shown: img.getBoundingClientRect().width, room: inner(img.closest('.notes, .output')),
      dark: !!img.closest('picture') && !!img.closest('picture').querySelector('source'),
      opens: img.closest('a') && img.closest('a').getAttribute('href'),
      written: img.getAttribute('src'),
      output: !!img.closest('.output')})),
    icon: document.querySelector('link[rel="icon"]').href,
    source: document.querySelector('a.source') && document.querySelector('a.source').href,
    // Around each picture of a notebook's outputs: its background, its corners, and the
    // narrowest of the margins between it and the picture.
    frames: [...document.querySelectorAll('.output.picture')].map(frame => {
      const style = getComputedStyle(frame), outer = box(frame);
      const picture = box(frame.querySelector('img'));
      return {background: style.backgroundColor, radius: parseFloat(style.borderTopLeftRadius),
              margin: Math.min(picture.left - outer.left, outer.right - picture.right,
                               picture.top - outer.top, outer.bottom - picture.bottom)};
    }),
    current: document.querySelectorAll('[aria-current]').length,
    footer: !!document.querySelector('footer a[href="#"]'),
    contents: [...document.querySelectorAll('#Contents a')].map(a => a.getAttribute('href')),
    ids: [...document.querySelectorAll('[id]')].map(element => element.id),
    math: !!document.querySelector('.katex'),
  };
}'''


def look_at(browser, base: str, path: str, view: str, screenshots: Path) -> dict:
    """
    Opens a page in a view, and returns what went wrong, what was fetched and what it looks
    like. Every image is loaded, lazy or not, before the page is measured.
    """
    context = browser.new_context(**VIEWS[view])
    page = context.new_page()
    errors, failed, elsewhere = [], [], []
    page.on('console', lambda message: message.type == 'error' and errors.append(message.text))
    page.on('pageerror', lambda error: errors.append(str(error)))
    page.on('requestfailed', lambda request: failed.append(f'{request.url}: {request.failure}'))
    page.on('response', lambda response: response.status >= 400
            and failed.append(f'{response.url}: {response.status}'))
    page.on('request', lambda request: not request.url.startswith((base + '/', 'data:'))
            and elsewhere.append(request.url))
    page.goto(f'{base}/{path}', wait_until='load')
    fonts = page.evaluate('''async () => {
        for (const image of document.images) image.loading = 'eager';
        await Promise.all([...document.images].map(image => image.decode().catch(() => null)));
        await document.fonts.ready;
        return [...document.fonts].filter(font => font.status === 'loaded')
                                  .map(font => font.family.replace(/"/g, ''));
    }''')
    seen = page.evaluate(MEASURE)
    # Chromium asks for the icon when it likes; the page's own request tells whether it is there.
    seen['icon'] = page.evaluate('async icon => (await fetch(icon)).headers.get("content-type")',
                                 seen['icon'])
    if seen['source']:
        seen['source'] = page.evaluate('async source => { const answer = await fetch(source); '
                                       'return [answer.status, '
                                       'answer.headers.get("content-type")]; }', seen['source'])
    name = re.sub(r'[^a-z0-9]+', '-', path)
    page.screenshot(path=str(screenshots / f'{name}{view}.png'), full_page=True)
    context.close()
    return dict(seen, errors=errors, failed=failed, elsewhere=elsewhere, fonts=fonts)


def check(seen: dict, view: str):
    """
    What holds on every page, in every view.
    """
    assert seen['errors'] == [], 'console errors'
    assert seen['failed'] == [], 'failed requests'
    assert seen['elsewhere'] == [], 'requests to another host'
    assert seen['overflow'] <= 0, 'the page scrolls sideways'
    assert seen['icon'] == 'image/svg+xml', 'no icon'
    assert seen['source'] is None or (seen['source'][0] == 200 and
                                      seen['source'][1].startswith('text/plain')), \
        f'"View source" leads to {seen["source"]}'
    assert seen['footer'] and seen['current'] == 1, 'a footer, and one current breadcrumb item'
    if seen['math']:
        assert {'KaTeX_Main', 'KaTeX_Math'} <= set(seen['fonts']), seen['fonts']
    assert set(seen['contents']) <= {f'#{id}' for id in seen['ids']}, 'contents lead nowhere'
    if seen['boxes']:
        notes, code = seen['boxes']['notes'], seen['boxes']['code']
        if view == 'phone':
            assert code['top'] >= notes['bottom'] - 1, 'notes above the code on a phone'
        else:
            assert code['left'] >= notes['right'] - 1 and abs(code['top'] - notes['top']) < 1, \
                'notes beside the code on a desktop'
    for image in seen['images']:
        check_image(image, seen['page'], view)
    if view == 'phone':
        assert {overflow for _, overflow in seen['codeBlocks']} <= {'auto'}, \
            'a code block wider than the screen that does not scroll'
    else:
        assert [line for line in seen['clipped'] if len(line) <= LINE_LENGTH] == [], 'code cut off'
        # The code of the notes wraps.
        assert [name for name, _ in seen['codeBlocks'] if name != 'code'] == [], \
            'a code block of the notes cut off'


def check_image(image: dict, page_width: float, view: str):
    """
    A figure has its own size in its attributes, and is shown at it unless the page is too
    narrow; a dark variant is shown in dark mode.
    """
    assert image['attributes'] == image['natural'], f'{image["src"]}: width and height'
    if view == 'phone':
        assert image['shown'] <= page_width, f'{image["src"]} is wider than the screen'
        assert image['opens'] == image['written'], f'{image["src"]} does not open at full size'
    else:
        natural, shown = image['natural'][0], image['shown']
        # At its natural width, or as wide as its column, when that is the page's width.
        assert abs(shown - natural) < 1 or (abs(shown - image['room']) < 1 and
                                            image['room'] > page_width - 100), \
            f'{image["src"]} is shown {shown:.0f} pixels wide, of {natural}'
    assert ('.dark.' in image['src']) == (view == 'dark' and image['dark']), \
        f'{image["src"]} in the {view} view'


@pytest.mark.parametrize('view', VIEWS)
@pytest.mark.parametrize('path', FIXTURE_PAGES)
def test_the_pages_of_the_fixture_site_in_a_browser(browser, fixture_site, tmp_path, path, view):
    check(look_at(browser, fixture_site, path, view, tmp_path), view)


@pytest.mark.parametrize('view', VIEWS)
def test_a_wide_figure_is_shown_at_its_size_and_dark_on_dark_screens(browser, fixture_site,
                                                                      tmp_path, view):
    seen = look_at(browser, fixture_site, 'pages/pictures.html', view, tmp_path)
    wide, small = seen['images']
    assert small['src'] == 'small.svg' and small['shown'] == 240
    assert wide['src'] == ('wide.dark.png' if view == 'dark' else 'wide.png')
    if view == 'phone':
        assert wide['shown'] == wide['room'] < 900
    else:
        # At its own size, across the page; and the line of 100 characters, whole.
        assert wide['shown'] == 900 and wide['room'] > 900 and seen['clipped'] == []
    assert seen['contents'] == ['#first', '#second', '#a-detail', '#third']


def test_a_notebook_shows_its_outputs_in_a_browser(browser, fixture_site, tmp_path):
    seen = look_at(browser, fixture_site, 'pages/notebook.html', 'light', tmp_path)
    [picture] = seen['images']
    assert picture['output'] and picture['src'] == 'cell-4-1.png' and picture['shown'] == 320


def light(colour: str) -> bool:
    """
    Whether a CSS colour, `rgb(r, g, b)`, is light: each channel 230 or more.
    """
    return all(int(channel) >= 230 for channel in re.findall(r'\d+', colour)[:3])


def test_a_notebook_picture_sits_on_a_light_card_on_dark_screens_only(browser, fixture_site,
                                                                      tmp_path):
    dark = look_at(browser, fixture_site, 'pages/notebook.html', 'dark', tmp_path)
    [frame] = dark['frames']
    assert light(frame['background']) and frame['radius'] >= 4 and frame['margin'] >= 8, frame
    # On a light screen the output keeps the look of the other outputs: square, with its rule.
    lit = look_at(browser, fixture_site, 'pages/notebook.html', 'light', tmp_path)
    [frame] = lit['frames']
    assert frame['radius'] == 0, frame


@pytest.mark.parametrize('view', VIEWS)
@pytest.mark.parametrize('path', PROJECT_PAGES)
def test_the_pages_of_this_project_in_a_browser(browser, project_site, tmp_path, path, view):
    seen = look_at(browser, project_site, path, view, tmp_path)
    check(seen, view)
    figures = [image for image in seen['images'] if not image['output']]
    assert all(image['dark'] for image in figures), 'figures without a dark variant'


def test_the_tutorial_reads_layers_experiment_reconstructions_pictures_notebook_then_evidence(
        browser, project_site):
    page = browser.new_page()
    page.goto(f'{project_site}/capsule_networks/index.html')
    walk = [page.url.rsplit('/', 1)[1]]
    while page.query_selector('a[rel="next"]'):
        page.click('a[rel="next"] >> nth=0')
        walk.append(page.url.rsplit('/', 1)[1])
    page.close()
    assert walk == ['index.html', 'mnist.html', 'reconstructions.html', 'figures.html',
                    'notebook.html', 'baseline.html', 'canvas.html', 'multi_mnist.html',
                    'affine.html', 'evidence_figures.html']
