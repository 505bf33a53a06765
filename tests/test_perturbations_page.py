"""
Figure 4 you can move, in headless Chromium: the page of the pictures, built as `make docs`
builds it with the decoder that `figures.py` writes for a small model, runs that decoder in
`perturbations.js`. For each setting of the digit and the 16 sliders, the canvas holds what
PyTorch's decoder draws: within `SAME_WEIGHTS` levels of 255 on the quantised weights the page
computes with, within `UNQUANTISED` on the model's own. It works from `file://` and from a
server, asks no other host for anything, logs no error, fits a phone, takes the colours of the
dark theme, and without JavaScript the page shows the static figure alone.

The model is untrained, its decoder's weights scaled up so that its pixels span black to white
and the sliders change many of them, as a trained decoder's do.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from labml_nn.capsule_networks import figures
from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
from tests.test_browser import VIEWS, browser, serve  # noqa: F401 (the fixture `browser`)
from tests.test_figures import read_decoder
from tools.build import build

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
PAGE = 'capsule_networks/figures.html'

# The largest difference of a pixel, in levels of 255, between the canvas and PyTorch: on the
# same weights only the rounding to a level may differ. On the unquantised weights the
# quantisation adds up to 1.6 levels on this model, whose pixels sit where the sigmoid is
# steepest (0.3 on a decoder trained for an epoch, whose pixels are mostly black or white).
SAME_WEIGHTS = 1
UNQUANTISED = 2

# Settings of the widget: the button of a digit, and the value of each slider moved (dimension
# from 0). The first is the capsule itself; the last moves every slider.
SETTINGS = [(0, {}), (3, {2: 0.25}), (3, {2: -0.25}), (7, {0: -0.25, 10: 0.15, 15: 0.05}),
            (9, {dimension: round(0.05 * (dimension % 11) - 0.25, 2) for dimension in range(16)})]


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    model = MNISTCapsuleNetworkModel().eval()
    with torch.no_grad():
        model.decoder[0].weight.mul_(8)
        model.decoder[4].weight.mul_(40)
    return model


@pytest.fixture(scope='module')
def site(tmp_path_factory, model) -> Path:
    """
    This project's site, built as `make docs` builds it, from a copy of its sources that holds
    the decoder of `model` and the capsules of ten test digits, one of each class.
    """
    project = tmp_path_factory.mktemp('perturbations') / 'project'
    for folder in ('labml_nn', 'tools'):
        shutil.copytree(PROJECT / folder, project / folder,
                        ignore=shutil.ignore_patterns('__pycache__'))
    (project / 'node_modules').symlink_to(PROJECT / 'node_modules')
    images, _ = figures.load_test_set(subset=10)
    # Every digit taken for a digit of its own class, 0 to 9
    classes = torch.arange(10)
    error = figures.write_decoder(model, images, classes, classes, 'a test model',
                                  project / 'labml_nn/capsule_networks/images/decoder.js')
    assert error < 1.6 / 255
    build(project, ['labml_nn', 'tools'], project / 'site', project / 'cache', allow_scripts=True)
    return project


def open_page(browser, address: str, **view):
    """
    A page, and the console errors, failed requests and requests to other hosts it makes.
    """
    context = browser.new_context(**view)
    page = context.new_page()
    seen = {'errors': [], 'failed': [], 'elsewhere': []}
    page.on('console', lambda message: message.type == 'error' and
            seen['errors'].append(message.text))
    page.on('pageerror', lambda error: seen['errors'].append(str(error)))
    page.on('requestfailed', lambda request: seen['failed'].append(request.url))
    local = address.rsplit('/', 2)[0]
    page.on('request', lambda request: not request.url.startswith((local, 'data:'))
            and seen['elsewhere'].append(request.url))
    page.goto(address, wait_until='load')
    return page, seen


# Chooses digit button `digit`, puts every slider back to 0, then moves those of `values`
SET = '''([digit, values]) => {
  const widget = document.querySelector('.capsule-sliders');
  widget.querySelectorAll('.digits button')[digit].click();
  widget.querySelector('button.reset').click();
  for (const [dimension, value] of Object.entries(values)) {
    const slider = document.getElementById(`capsule-dimension-${Number(dimension) + 1}`);
    slider.value = value;
    slider.dispatchEvent(new Event('input'));
  }
}'''
# The grey of each pixel of the reconstruction, `[784]`
PIXELS = '''() => {
  const canvas = document.querySelector('.capsule-sliders canvas.reconstruction');
  const data = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
  return Array.from({length: 784}, (_, p) => data[4 * p]);
}'''


def pytorch_pixels(model, digit: dict, values: dict) -> np.ndarray:
    """
    The levels, `[784]`, PyTorch's decoder draws from the capsule of `digit` plus `values`.
    """
    capsules = torch.zeros(1, 10, 16)
    capsules[0, digit['label']] = torch.tensor(digit['capsule'])
    for dimension, value in values.items():
        capsules[0, digit['label'], dimension] += value
    with torch.no_grad():
        decoded = model.decode(capsules, torch.tensor([digit['label']]))
    return (decoded[0] * 255).round().numpy()


def test_the_canvas_draws_what_pytorch_decodes_from_file(browser, site, model):
    stored = read_decoder(site / 'labml_nn/capsule_networks/images/decoder.js')
    assert [digit['label'] for digit in stored['digits']] == list(range(10))
    page, seen = open_page(browser, (site / 'site' / PAGE).as_uri())
    page_model = figures.dequantised(model)
    drawn, errors = [], {'same weights': 0, 'unquantised': 0}
    for digit, values in SETTINGS:
        page.evaluate(SET, [digit, {str(d): value for d, value in values.items()}])
        canvas = np.array(page.evaluate(PIXELS))
        quantised = pytorch_pixels(page_model, stored['digits'][digit], values)
        unquantised = pytorch_pixels(model, stored['digits'][digit], values)
        errors['same weights'] = max(errors['same weights'], int(np.abs(canvas - quantised).max()))
        errors['unquantised'] = max(errors['unquantised'], int(np.abs(canvas - unquantised).max()))
        drawn.append(canvas)
    print(f'largest differences of a pixel, in levels of 255: {errors}')
    assert errors['same weights'] <= SAME_WEIGHTS and errors['unquantised'] <= UNQUANTISED
    # The pixels span black to white, and each setting draws another picture
    assert min(map(np.min, drawn)) < 30 and max(map(np.max, drawn)) > 225
    for first in range(len(drawn)):
        for second in range(first):
            assert np.abs(drawn[first] - drawn[second]).max() > 20, (first, second)
    assert seen == {'errors': [], 'failed': [], 'elsewhere': []}


def test_the_keyboard_moves_a_slider_by_steps_of_0_05_to_0_25(browser, site, model):
    stored = read_decoder(site / 'labml_nn/capsule_networks/images/decoder.js')
    page, seen = open_page(browser, (site / 'site' / PAGE).as_uri())
    # The digit shown first is the first of the test set
    first = min(range(10), key=lambda k: stored['digits'][k]['test_index'])
    assert page.get_attribute(f'.capsule-sliders .digits button >> nth={first}',
                              'aria-pressed') == 'true'
    slider = page.locator('#capsule-dimension-5')
    slider.focus()
    for _ in range(7):
        page.keyboard.press('ArrowRight')
    assert slider.input_value() == '0.25'
    assert page.text_content('output[for="capsule-dimension-5"]') == '+0.25'
    canvas = np.array(page.evaluate(PIXELS))
    expected = pytorch_pixels(figures.dequantised(model), stored['digits'][first], {4: 0.25})
    assert np.abs(canvas - expected).max() <= SAME_WEIGHTS
    assert seen['errors'] == []


def test_from_a_server_no_other_host_is_asked_and_nothing_fails(browser, site):
    for address in serve(site / 'site'):
        page, seen = open_page(browser, f'{address}/{PAGE}')
        assert page.locator('.capsule-sliders input[type=range]').count() == 16
        assert seen == {'errors': [], 'failed': [], 'elsewhere': []}


@pytest.mark.parametrize('view', VIEWS)
def test_the_widget_sits_below_the_figure_fits_the_screen_and_takes_the_theme(browser, site,
                                                                              view):
    page, seen = open_page(browser, (site / 'site' / PAGE).as_uri(), **VIEWS[view])
    placed = page.evaluate('''() => {
      const widget = document.querySelector('.capsule-sliders');
      const figure = document.querySelector('img[src$="images/perturbations.png"]');
      return {below: widget.previousElementSibling.contains(figure),
              right: widget.getBoundingClientRect().right,
              overflow: document.documentElement.scrollWidth - innerWidth,
              background: getComputedStyle(widget).backgroundColor};
    }''')
    assert placed['below'] and placed['overflow'] <= 0
    assert placed['right'] <= VIEWS[view]['viewport']['width']
    # The background of code blocks, #161b22 in the dark theme, #f6f8fa in the light
    assert placed['background'] == ('rgb(22, 27, 34)' if view == 'dark' else 'rgb(246, 248, 250)')
    assert seen['errors'] == []


def test_without_javascript_the_page_shows_the_figure_alone(browser, site):
    page, seen = open_page(browser, (site / 'site' / PAGE).as_uri(), java_script_enabled=False)
    assert page.locator('img[src$="images/perturbations.png"]').count() == 1
    assert page.locator('.capsule-sliders').count() == 0
