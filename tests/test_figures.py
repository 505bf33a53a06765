"""
The pictures of the tutorial: each figure draws on an untrained model at the size it is read at,
light and dark; the routing view shows coupling coefficients that sum to one and sit where their
primary capsules are, the perturbation grid is Figure 4's, and a missing run says so. Each
picture of the site is shown on one page. The decoder written for the page is the model's,
quantised to a byte a weight within half a step of its row, with the capsules of the first
right digit of each class.
"""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from labml_nn.capsule_networks import figures, reconstructions
from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
from labml_nn.helpers import checkpoint, pictures, run_log
from test_run_log import epoch_line, write_log

PROJECT = Path(__file__).resolve().parent.parent
IMAGES = PROJECT / 'labml_nn/capsule_networks/images'
# The widest a picture may be and still be shown at its natural size beside the page's margins
WIDEST = 1200


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MNISTCapsuleNetworkModel().eval()


@pytest.fixture(scope='module')
def digits():
    """Twelve random images and labels."""
    generator = torch.Generator().manual_seed(0)
    return torch.rand(12, 1, 28, 28, generator=generator), torch.randint(0, 10, (12,), generator=generator)


def drawn_size(figure, path: Path):
    """The size in pixels of the PNG `figure` is saved as."""
    pictures.save(figure, path)
    with Image.open(path) as image:
        assert image.format == 'PNG'
        return image.size


def light_and_dark(draw, tmp_path: Path):
    """`draw` saved in both themes, as two RGB arrays of the same size."""
    light, dark = pictures.save_light_and_dark(draw, tmp_path / 'picture.png')
    assert dark == tmp_path / 'picture.dark.png'
    arrays = [np.asarray(Image.open(path).convert('RGB')) for path in (light, dark)]
    assert arrays[0].shape == arrays[1].shape
    return arrays


def test_reconstructions_figure_is_drawn_at_its_size(model, digits, tmp_path):
    images, labels = digits
    predictions = reconstructions.predict(model, images)
    # Some digits right, some wrong: the labels of the first half are the predictions
    labels = torch.cat([predictions[:6], (predictions[6:] + 1) % 10])
    figure = reconstructions.reconstructions_figure(model, images, labels, predictions, 'test')
    assert drawn_size(figure, tmp_path / 'r.png') == (972, 276)


def test_reconstructions_figure_without_misclassified_digits(model, digits, tmp_path):
    images, _ = digits
    predictions = reconstructions.predict(model, images)
    figure = reconstructions.reconstructions_figure(model, images, predictions, predictions)
    assert drawn_size(figure, tmp_path / 'r.png') == (706, 216)


def test_perturbations_figure_is_drawn_at_its_size(model, digits, tmp_path):
    images, _ = digits
    assert drawn_size(figures.perturbations_figure(model, images[:3]), tmp_path / "p.png") == (1176, 588)


def test_routing_figures_are_drawn_at_their_size(model, digits, tmp_path):
    images, labels = digits
    assert drawn_size(figures.routing_figure(model, images[0], labels[0].item()), tmp_path / 'r.png') == (920, 340)
    assert drawn_size(figures.routing_iterations_figure(model, images), tmp_path / 'i.png') == (920, 340)


class ConstantDecoder(MNISTCapsuleNetworkModel):
    """A CapsNet whose decoder draws every capsule as the same flat image, of brightness `value`."""

    def __init__(self, value: float):
        torch.manual_seed(0)
        super().__init__()
        self.value = value
        self.eval()

    def decode(self, digit_capsules, mask_labels):
        return torch.full((len(digit_capsules), 784), self.value)


def reconstructions_pixels(tmp_path: Path, model, images, n=10, n_wrong=5) -> np.ndarray:
    """The reconstructions figure of `images`, the last `n_wrong` misclassified, as grey pixels."""
    predictions = reconstructions.predict(model, images)
    labels = torch.cat([predictions[:-n_wrong], (predictions[-n_wrong:] + 1) % 10])
    figure = reconstructions.reconstructions_figure(model, images, labels, predictions, 'test',
                                                    n=n, n_wrong=n_wrong)
    pictures.save(figure, tmp_path / 'r.png')
    with Image.open(tmp_path / 'r.png') as image:
        return np.asarray(image.convert('L'), dtype=np.int16)


@pytest.mark.slow
def test_the_reconstructions_drawn_are_what_the_decoder_draws_not_the_inputs(tmp_path):
    # Grey test digits, decoded as black or as white: only the reconstructions may change
    grey, black = torch.full((15, 1, 28, 28), 0.5), torch.zeros(15, 1, 28, 28)
    decoded_black = reconstructions_pixels(tmp_path, ConstantDecoder(0.0), grey)
    decoded_white = reconstructions_pixels(tmp_path, ConstantDecoder(1.0), grey)
    redrawn = decoded_black != decoded_white
    # The pixels that changed are black where the decoder drew black, white where it drew white
    assert (decoded_black[redrawn] < 64).mean() > 0.95
    assert (decoded_white[redrawn] > 191).mean() > 0.95
    # The inputs' pixels, found the same way: grey digits against black ones
    inputs = reconstructions_pixels(tmp_path, ConstantDecoder(0.0), black) != decoded_black
    assert not (inputs & redrawn).any()
    # 10 digits above their reconstructions, and 5 misclassified ones above two each: 20
    # reconstructions for 15 inputs, all drawn at the same size
    assert redrawn.sum() / inputs.sum() == pytest.approx(20 / 15, rel=0.05)


def test_the_architecture_is_drawn_at_its_size_with_a_box_for_each_layer(tmp_path):
    assert drawn_size(figures.architecture_figure(), tmp_path / 'a.png') == (994, 280)
    names = [box.name for box in figures.LAYERS]
    assert names[:6] == ['Input', 'Conv1', 'PrimaryCaps', 'Predictions', 'DigitCaps', 'Lengths']
    # The shapes of the layers are those the model computes for one digit
    model = MNISTCapsuleNetworkModel()
    with torch.no_grad():
        primary = model.primary_capsules(torch.rand(1, 1, 28, 28))
        digit_capsules, reconstructions, _ = model(torch.rand(1, 1, 28, 28))
    shapes = {box.name: box.shape for box in figures.LAYERS}
    assert shapes['PrimaryCaps'] == str(list(primary.shape[1:]))
    assert shapes['DigitCaps'] == str(list(digit_capsules.shape[1:]))
    assert shapes['Predictions'] == str([10, 1152, 16])
    assert shapes['Conv1'] == str(list(model.conv1(torch.rand(1, 1, 28, 28)).shape[1:]))


def test_every_picture_is_drawn_in_a_dark_variant_whose_background_and_text_change(model, digits, tmp_path):
    images, labels = digits
    light, dark = light_and_dark(lambda: figures.routing_figure(model, images[0], labels[0].item()), tmp_path)
    # The corners are the background of each theme
    assert tuple(light[0, 0]) == (255, 255, 255)
    assert tuple(dark[0, 0]) == (0x0d, 0x11, 0x17)
    # The text: the lightest pixels of the dark picture are its text, the darkest of the light one
    assert dark.min(axis=-1).max() > 200 and light.max(axis=-1).min() < 60


def test_digits_are_drawn_the_same_way_in_both_themes(model, digits, tmp_path):
    images, _ = digits
    light, dark = light_and_dark(lambda: figures.perturbations_figure(model, images[:3]), tmp_path)
    # The first panel, pixel for pixel: where it is not a gap, the two themes agree
    panel = (slice(60, 60 + 16 * 30 - 2), slice(80, 80 + 11 * 30 - 2))
    light_panel, dark_panel = light[panel], dark[panel]
    gaps = (light_panel == 255).all(axis=-1)
    assert gaps.any() and not gaps.all()
    assert (light_panel[~gaps] == dark_panel[~gaps]).all()


def test_perturbation_grid_has_16_dimensions_by_11_perturbations_from_minus_to_plus_0_25(model, digits):
    images, _ = digits
    with torch.no_grad():
        digit_capsules, reconstructions, predictions = model(images[:1])
    digit = predictions[0].item()
    grid = figures.perturbation_grid(model, digit_capsules[0], digit)
    assert grid.shape == (16, 11, 28, 28)
    assert torch.allclose(figures.PERTURBATIONS, torch.arange(-5, 6) * 0.05)
    # The middle column is not perturbed: the reconstruction itself, in every row
    for dimension in range(16):
        assert torch.allclose(grid[dimension, 5].flatten(), reconstructions[0], atol=1e-6)
    # Row 3, column 0: dimension 3 of the predicted digit's capsule lowered by 0.25, and nothing else
    capsules = digit_capsules.clone()
    capsules[0, digit, 3] -= 0.25
    with torch.no_grad():
        expected = model.decode(capsules, predictions)
    assert torch.allclose(grid[3, 0].flatten(), expected[0], atol=1e-6)


def test_coupling_coefficients_of_each_primary_capsule_sum_to_one_over_the_digit_capsules(model, digits):
    images, _ = digits
    couplings, winner = figures.routing(model, images[0])
    assert couplings.shape == (3, 1152, 10)
    assert torch.allclose(couplings.sum(dim=-1), torch.ones(3, 1152), atol=1e-5)
    # The first iteration splits evenly
    assert torch.allclose(couplings[0], torch.full((1152, 10), 0.1))
    with torch.no_grad():
        assert winner == model(images[:1])[2].item()


def test_coupling_maps_put_each_coefficient_on_its_primary_capsules_map_row_and_column(model, digits):
    images, _ = digits
    couplings, winner = figures.routing(model, images[0])
    maps = figures.coupling_maps(couplings, winner)
    assert maps.shape == (3, 32, 6, 6)
    # Capsule (map 5, row 2, column 4): its vector is channels 8*5 ... 8*5+7 of PrimaryCaps at
    # (2, 4), and its coefficient is drawn at [5, 2, 4]
    with torch.no_grad():
        convolution = model.conv2(torch.relu(model.conv1(images[:1])))
        primary = model.primary_capsules(images[:1])
    index = (primary[0] - model.squash(convolution[0, 40:48, 2, 4])).norm(dim=-1).argmin().item()
    assert index == 5 * 36 + 2 * 6 + 4
    assert torch.equal(maps[:, 5, 2, 4], couplings[:, index, winner])


def test_capsule_lengths_of_the_last_iteration_are_those_of_the_model(model, digits):
    images, _ = digits
    couplings, lengths = figures.capsule_lengths(model, images[:4])
    assert couplings.shape == (3, 4, 1152, 10) and lengths.shape == (3, 4, 10)
    with torch.no_grad():
        digit_capsules, _, _ = model(images[:4])
    assert torch.allclose(lengths[-1], digit_capsules.norm(dim=-1), atol=1e-5)
    # The first iteration is an even split
    assert torch.allclose(couplings[0], torch.full((4, 1152, 10), 0.1))


def test_training_curves_are_drawn_at_their_size_by_epoch_logarithmic_within_the_first(tmp_path):
    write_log(tmp_path, [epoch_line(512, 0.5, 0.8), epoch_line(1024, 0.3, 0.85)])
    figure = figures.training_curves_figure(run_log.read_log(tmp_path), 512)
    assert drawn_size(figure, tmp_path / 'c.png') == (920, 340)
    # Epochs on a linear axis; with a record within the first epoch, on a logarithmic one
    assert figure.axes[0].get_xscale() == 'linear'
    write_log(tmp_path, [epoch_line(64, 0.9, 0.3), epoch_line(512, 0.5, 0.8)])
    figure = figures.training_curves_figure(run_log.read_log(tmp_path), 512)
    assert figure.axes[0].get_xscale() == 'log' and figure.axes[1].get_xscale() == 'log'


@pytest.mark.slow
def test_a_missing_checkpoint_gives_one_clear_message_and_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, '-m', 'labml_nn.capsule_networks.figures', str(tmp_path / 'gone')],
                            cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith(f'error: No checkpoint for "{tmp_path / "gone"}"')
    assert 'Traceback' not in result.stderr


@pytest.mark.parametrize('arguments, message', [
    ([], 'the following arguments are required: RUN'),
    (['run', '--test-subset', 'all'], "argument --test-subset: takes a number of test digits, "
                                      "not 'all'"),
    # More digits than the test set has is a mistake, not a way to say "all of them"
    (['run', '--test-subset', '10001'], 'argument --test-subset: 10001: the MNIST test set has '
                                        '10,000 digits; give at most 10000'),
    (['run', 'another-run'], 'unrecognized arguments: another-run'),
])
def test_a_command_line_that_cant_be_used_shows_the_usage_and_exits_with_2(arguments, message,
                                                                           capsys):
    with pytest.raises(SystemExit) as exit:
        figures.main(arguments)
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith('usage: python -m labml_nn.capsule_networks.figures') and message in error


@pytest.fixture
def run_folder(tmp_path, model):
    """A run folder with an untrained model's checkpoint and a log of two epochs."""
    folder = tmp_path / 'run'
    write_log(folder, [epoch_line(512, 0.5, 0.8), epoch_line(1024, 0.3, 0.85)])
    checkpoint.save(folder / checkpoint.FILE_NAME, {'epoch': 2, 'global_step': 1024, 'train_seconds': 1.0,
                                                    'overrides': {'routing_iterations': 2},
                                                    'state': {'model': model.state_dict()}})
    return folder


@pytest.mark.slow
def test_the_command_draws_every_picture_from_a_run_folder(run_folder, tmp_path, capsys):
    written = figures.main([str(run_folder), '--out', str(tmp_path / 'out'), '--test-subset', '200'])
    assert sorted(written) == ['architecture', 'decoder', 'perturbations', 'reconstructions',
                               'routing', 'routing_iterations', 'training_curves']
    assert written.pop('decoder') == tmp_path / 'out' / 'decoder.js'
    for path in written.values():
        assert path.parent == tmp_path / 'out' and path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
        assert pictures.dark_path(path).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # The run's configs build the model: two routing iterations
    assert figures.load_run(str(run_folder)).model.digit_capsules.iterations == 2
    assert 'after 2 epochs: ' in capsys.readouterr().out


@pytest.mark.slow
def test_the_pictures_go_into_the_run_folder_and_a_missing_log_leaves_out_the_curves(run_folder, capsys):
    (run_folder / 'log.jsonl').unlink()
    written = figures.main([str(run_folder / checkpoint.FILE_NAME), '--test-subset', '50'])
    assert 'training_curves' not in written and len(written) == 6
    assert all(path.parent == run_folder / 'figures' for path in written.values())
    assert 'training_curves is left out: ' in capsys.readouterr().err


def test_a_run_of_the_baseline_is_refused_with_a_message_that_names_it(tmp_path):
    checkpoint.save(tmp_path / checkpoint.FILE_NAME, {
        'epoch': 1, 'global_step': 64, 'train_seconds': 1.0, 'overrides': {'model': 'baseline'},
        'state': {'model': {}}})
    with pytest.raises(checkpoint.CheckpointError, match='is a run of model=baseline, not '
                                                         'model=capsnet: give a run of '
                                                         'model=capsnet'):
        figures.load_run(str(tmp_path))


def picture_references():
    """Each `images/x.png` shown in the notes of the sources, with the files that show it."""
    shown = {}
    for source in sorted((PROJECT / 'labml_nn').rglob('*.py')):
        for name in re.findall(r'!\[[^\]]*\]\(images/([^)]+)\)', source.read_text(encoding='utf-8')):
            shown.setdefault(name, []).append(source.name)
    return shown


def test_every_picture_of_the_site_is_shown_on_exactly_one_page_and_the_home_page_shows_one():
    light = sorted(path.name for path in IMAGES.glob('*.png') if not path.name.endswith('.dark.png'))
    assert light == ['affine.png', 'architecture.png', 'learning_curves_affine.png',
                     'learning_curves_multi_mnist.png', 'multi_mnist.png',
                     'perturbations.png', 'reconstructions.png', 'routing.png',
                     'routing_iterations.png', 'training_curves.png']
    shown = picture_references()
    assert sorted(shown) == light
    for name, sources in shown.items():
        assert len(sources) == 1, (name, sources)
    # The landing page shows the first picture of the tutorial, and no other
    home = (PROJECT / 'labml_nn' / '__init__.py').read_text(encoding='utf-8')
    assert re.findall(r'!\[[^\]]*\]\(([^)]+)\)', home) == ['capsule_networks/images/reconstructions.png']


def test_every_picture_has_a_dark_variant_of_its_size_and_is_narrow_enough_to_be_read_at_its_size():
    for path in IMAGES.glob('*.png'):
        if path.name.endswith('.dark.png'):
            assert path.with_name(path.name.replace('.dark', '')).is_file(), path.name
            continue
        with Image.open(path) as light, Image.open(pictures.dark_path(path)) as dark:
            assert light.size == dark.size, path.name
            assert light.size[0] <= WIDEST, path.name


def test_the_pictures_weigh_a_few_hundred_kilobytes_in_all():
    sizes = {path.name: path.stat().st_size for path in IMAGES.glob('*.png')}
    # Ten pictures, each drawn light and dark
    assert sum(sizes.values()) < 900_000, sizes


def test_the_page_decoder_is_a_run_decoder_of_under_2_mb_or_says_that_none_is_drawn_yet():
    text = (IMAGES / 'decoder.js').read_text()
    assert len(text) < 2_000_000
    if text.rstrip().endswith('window.CAPSULE_DECODER = null;'):
        assert 'make figures RUN=' in text
    else:
        assert [layer['outputs'] for layer in read_decoder(IMAGES / 'decoder.js')['layers']] == \
            [512, 1024, 784]


def read_decoder(path: Path) -> dict:
    """What the page reads from the decoder's file: the object `window.CAPSULE_DECODER`."""
    text = path.read_text()
    prefix = 'window.CAPSULE_DECODER = '
    return json.loads(text[text.index(prefix) + len(prefix):].rstrip().removesuffix(';'))


def stored_weights(layer: dict) -> torch.Tensor:
    """A layer's weights as the page computes with them, $s_i q_{ij}$, `[outputs, inputs]`."""
    quantised = np.frombuffer(base64.b64decode(layer['weights']), dtype=np.int8)
    scales = np.frombuffer(base64.b64decode(layer['scales']), dtype='<f4')
    weights = quantised.reshape(layer['outputs'], layer['inputs']).astype(np.float32)
    return torch.from_numpy(weights * scales[:, None])


def stored_floats(encoded: str) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(base64.b64decode(encoded), dtype='<f4').copy())


def test_quantised_weights_are_bytes_within_half_a_step_of_their_row():
    weight = torch.randn(64, 300) * torch.logspace(-3, 1, 64)[:, None]
    weight[5] = 0
    quantised, scales = figures.quantise(weight)
    assert quantised.dtype == torch.int8 and scales.shape == (64,)
    # The largest weight of each row, but the row of zeros, is $\pm 127$
    largest = quantised.abs().amax(dim=1)
    assert largest[5] == 0 and (largest[torch.arange(64) != 5] == 127).all()
    # $|W_{ij} - s_i q_{ij}| \le s_i / 2$, for rows of large and of small weights alike
    error = (weight - quantised.float() * scales[:, None]).abs()
    assert (error <= scales[:, None] / 2 * (1 + 1e-5)).all()
    # A row of zeros stays zeros
    assert (quantised[5] == 0).all()


def test_the_page_offers_the_first_correctly_classified_digit_of_each_class():
    labels = torch.tensor([7, 2, 1, 7, 2, 0, 1, 3])
    predictions = torch.tensor([7, 3, 1, 7, 2, 0, 1, 5])
    # 2 is first right at index 4; 3 is never right
    assert figures.decoder_digits(labels, predictions).tolist() == [5, 2, 4, 0]
    assert figures.decoder_digits(labels, (labels + 1) % 10).tolist() == [0]


@pytest.mark.slow
def test_the_decoder_file_holds_the_decoder_quantised_and_the_digits_capsules(model, tmp_path):
    images, labels = figures.load_test_set(subset=30)
    predictions = reconstructions.predict(model, images)
    # Every digit right, so that each class the model predicts has its digit
    error = figures.write_decoder(model, images, predictions, predictions, 'a caption',
                                  tmp_path / 'decoder.js')
    stored = read_decoder(tmp_path / 'decoder.js')
    assert stored['caption'] == 'a caption'
    linears = [module for module in model.decoder if isinstance(module, torch.nn.Linear)]
    shapes = [(layer['inputs'], layer['outputs'], layer['activation'])
              for layer in stored['layers']]
    assert shapes == [(160, 512, 'relu'), (512, 1024, 'relu'), (1024, 784, 'sigmoid')]
    for layer, linear in zip(stored['layers'], linears):
        quantised, scales = figures.quantise(linear.weight)
        assert torch.equal(stored_weights(layer), quantised.float() * scales[:, None])
        assert torch.equal(stored_floats(layer['biases']), linear.bias.detach())
        assert len(base64.b64decode(layer['weights'])) == linear.weight.numel()
    chosen = figures.decoder_digits(predictions, predictions)
    assert [digit['test_index'] for digit in stored['digits']] == chosen.tolist()
    with torch.no_grad():
        digit_capsules = model(images[chosen])[0]
    for digit, capsules in zip(stored['digits'], digit_capsules):
        assert digit['capsule'] == capsules[digit['label']].tolist()
        image = np.frombuffer(base64.b64decode(digit['image']), dtype=np.uint8)
        assert (image == (images[digit['test_index'], 0] * 255).round().flatten().numpy()).all()
    # The page's decoder draws Figure 4 within a level of 255 of the model's
    assert 0 < error < 1 / 255
