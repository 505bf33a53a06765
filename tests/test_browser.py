"""
The site in a real browser, headless Chromium (Debian's package, which `make test` installs):
the capsule page of `docs/` (or, where it does not exist yet, the page with the most math) and
the rich page of the fixture site, served from this machine, at a desktop and a phone width.

No console errors, no failed request, no request to another host, KaTeX's fonts loaded, notes
beside the code on a desktop and above it on a phone. Screenshots go to pytest's temporary
folder, to look at when a check fails.

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

from tests.conftest import build_site

DOCS = Path(__file__).resolve().parent.parent / 'docs'
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
# Chromium without the extras that would talk to other hosts or need a display.
CHROMIUM_ARGUMENTS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                      '--disable-component-update', '--disable-sync', '--no-first-run']
WIDTHS = {'desktop': (1280, 900), 'phone': (390, 844)}


@pytest.fixture(scope='module')
def browser():
    if not Path(CHROMIUM).exists():
        message = 'Chromium is not installed; `make test` installs it (apt-get install chromium)'
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


@pytest.fixture
def serve():
    """
    Serves a folder on 127.0.0.1, on a free port, for the length of a test.
    """
    servers = []

    def start(folder: Path) -> str:
        server = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f'http://127.0.0.1:{server.server_address[1]}'

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def richest_page(site: Path) -> str:
    """
    The capsule page, or until it exists the page with the most formulas.
    """
    if (site / 'capsule_networks/index.html').is_file():
        return 'capsule_networks/index.html'
    pages = sorted(site.rglob('*.html'), key=lambda path: (-path.read_text().count('class="katex"'), str(path)))
    return pages[0].relative_to(site).as_posix()


def look_at(browser, base: str, path: str, width: str, screenshots: Path) -> dict:
    """
    Opens a page at a width, and returns what went wrong and what the page looks like.
    """
    page = browser.new_page(viewport=dict(zip(('width', 'height'), WIDTHS[width])))
    errors, failed, elsewhere = [], [], []
    page.on('console', lambda message: message.type == 'error' and errors.append(message.text))
    page.on('pageerror', lambda error: errors.append(str(error)))
    page.on('requestfailed', lambda request: failed.append(f'{request.url}: {request.failure}'))
    page.on('response', lambda response: response.status >= 400 and failed.append(f'{response.url}: {response.status}'))
    page.on('request', lambda request: not request.url.startswith(base + '/') and elsewhere.append(request.url))
    page.goto(f'{base}/{path}', wait_until='load')
    fonts = page.evaluate('''async () => {
        await document.fonts.ready;
        return [...document.fonts].filter(font => font.status === 'loaded').map(font => font.family.replace(/"/g, ''));
    }''')
    # The first section with both notes and code.
    boxes = page.evaluate('''() => {
        const section = [...document.querySelectorAll('.section')].find(s => s.querySelector('.code pre'));
        const box = element => { const r = element.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
        return {notes: box(section.querySelector('.notes')), code: box(section.querySelector('.code'))};
    }''')
    overflow = page.evaluate('document.documentElement.scrollWidth - window.innerWidth')
    page.screenshot(path=str(screenshots / f'{re.sub(r"[^a-z0-9]+", "-", path)}{width}.png'))
    page.close()
    return dict(errors=errors, failed=failed, elsewhere=elsewhere, fonts=fonts, boxes=boxes, overflow=overflow)


def check(seen: dict, width: str):
    assert seen['errors'] == [], 'console errors'
    assert seen['failed'] == [], 'failed requests'
    assert seen['elsewhere'] == [], 'requests to another host'
    assert {'KaTeX_Main', 'KaTeX_Math'} <= set(seen['fonts']), f'KaTeX fonts not loaded: {seen["fonts"]}'
    notes, code = seen['boxes']['notes'], seen['boxes']['code']
    if width == 'desktop':
        assert code['left'] >= notes['right'] - 1 and abs(code['top'] - notes['top']) < 1, 'notes beside the code'
    else:
        assert code['top'] >= notes['bottom'] - 1 and code['left'] < notes['right'], 'notes above the code'
    assert seen['overflow'] <= 0, 'the page is wider than the screen'


@pytest.mark.parametrize('width', WIDTHS)
def test_the_richest_page_of_the_committed_site_in_a_browser(browser, serve, tmp_path, width):
    assert (DOCS / 'index.html').is_file(), 'docs/ is missing: run `make docs`'
    check(look_at(browser, serve(DOCS), richest_page(DOCS), width, tmp_path), width)


@pytest.mark.parametrize('width', WIDTHS)
def test_the_rich_fixture_page_in_a_browser(browser, serve, project, tmp_path, width):
    build_site(project)
    check(look_at(browser, serve(project / 'site'), 'tutorial/index.html', width, tmp_path), width)
