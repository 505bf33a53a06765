"""
The pictures of the tutorial: each figure draws on an untrained model at the size it is laid out
for, the routing view shows coupling coefficients that sum to one and sit where their primary
capsules are, the perturbation grid is Figure 4's, and a missing run says so.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from labml_nn.capsule_networks import figures
from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
from labml_nn.helpers import checkpoint, run_log
from test_run_log import epoch_line, write_log

PROJECT = Path(__file__).resolve().parent.parent


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
    figures.save(figure, path)
    with Image.open(path) as image:
        assert image.format == 'PNG'
        return image.size


def test_reconstructions_figure_is_drawn_at_its_size(model, digits, tmp_path):
    images, labels = digits
    predictions = figures.predict(model, images)
    # Some digits right, some wrong: the labels of the first half are the predictions
    labels = torch.cat([predictions[:6], (predictions[6:] + 1) % 10])
    figure = figures.reconstructions_figure(model, images, labels, predictions, 'test', n=10, n_wrong=5)
    assert drawn_size(figure, tmp_path / 'r.png') == (1060, 260)


def test_reconstructions_figure_without_misclassified_digits(model, digits, tmp_path):
    images, _ = digits
    predictions = figures.predict(model, images)
    figure = figures.reconstructions_figure(model, images, predictions, predictions, n=10, n_wrong=5)
    assert drawn_size(figure, tmp_path / 'r.png') == (760, 260)


def test_perturbations_figure_is_drawn_at_its_size(model, digits, tmp_path):
    images, _ = digits
    assert drawn_size(figures.perturbations_figure(model, images[:3]), tmp_path / "p.png") == (2078, 1076)


def test_routing_figures_are_drawn_at_their_size(model, digits, tmp_path):
    images, labels = digits
    assert drawn_size(figures.routing_figure(model, images[0], labels[0].item()), tmp_path / 'r.png') == (840, 290)
    assert drawn_size(figures.routing_iterations_figure(model, images), tmp_path / 'i.png') == (840, 290)


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
    predictions = figures.predict(model, images)
    labels = torch.cat([predictions[:-n_wrong], (predictions[-n_wrong:] + 1) % 10])
    figure = figures.reconstructions_figure(model, images, labels, predictions, 'test', n=n,
                                            n_wrong=n_wrong)
    figures.save(figure, tmp_path / 'r.png')
    with Image.open(tmp_path / 'r.png') as image:
        return np.asarray(image.convert('L'), dtype=np.int16)


def test_the_reconstructions_drawn_are_what_the_decoder_draws_not_the_inputs(tmp_path):
    # Grey test digits, decoded as black or as white: only the reconstructions may change
    grey, black = torch.full((15, 1, 28, 28), 0.5), torch.zeros(15, 1, 28, 28)
    decoded_black = reconstructions_pixels(tmp_path, ConstantDecoder(0.0), grey)
    decoded_white = reconstructions_pixels(tmp_path, ConstantDecoder(1.0), grey)
    reconstructions = decoded_black != decoded_white
    # The pixels that changed are black where the decoder drew black, white where it drew white
    assert (decoded_black[reconstructions] < 64).mean() > 0.95
    assert (decoded_white[reconstructions] > 191).mean() > 0.95
    # The inputs' pixels, found the same way: grey digits against black ones
    inputs = reconstructions_pixels(tmp_path, ConstantDecoder(0.0), black) != decoded_black
    assert not (inputs & reconstructions).any()
    # 10 digits above their reconstructions, and 5 misclassified ones above two each: 20
    # reconstructions for 15 inputs, all drawn at the same size
    assert reconstructions.sum() / inputs.sum() == pytest.approx(20 / 15, rel=0.05)


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


def test_training_curves_are_drawn_at_their_size(tmp_path):
    write_log(tmp_path, [epoch_line(512, 0.5, 0.8), epoch_line(1024, 0.3, 0.85)])
    figure = figures.training_curves_figure(run_log.read_log(tmp_path))
    assert drawn_size(figure, tmp_path / 'c.png') == (840, 290)


def test_a_missing_checkpoint_gives_one_clear_message_and_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, '-m', 'labml_nn.capsule_networks.figures', str(tmp_path / 'gone')],
                            cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith(f'error: No checkpoint for "{tmp_path / "gone"}"')
    assert 'Traceback' not in result.stderr


def test_a_command_line_without_a_run_shows_the_usage():
    with pytest.raises(figures.UsageError, match='which run'):
        figures.main([])
    with pytest.raises(figures.UsageError, match='--test-subset takes a number'):
        figures.main(['run', '--test-subset', 'all'])


@pytest.fixture
def run_folder(tmp_path, model):
    """A run folder with an untrained model's checkpoint and a log of two epochs."""
    folder = tmp_path / 'run'
    write_log(folder, [epoch_line(512, 0.5, 0.8), epoch_line(1024, 0.3, 0.85)])
    checkpoint.save(folder / checkpoint.FILE_NAME, {'epoch': 2, 'global_step': 1024, 'train_seconds': 1.0,
                                                    'overrides': {'routing_iterations': 2},
                                                    'state': {'model': model.state_dict()}})
    return folder


def test_the_command_draws_every_picture_from_a_run_folder(run_folder, tmp_path, capsys):
    written = figures.main([str(run_folder), '--out', str(tmp_path / 'out'), '--test-subset', '200'])
    assert sorted(written) == ['perturbations', 'reconstructions', 'routing', 'routing_iterations',
                               'training_curves']
    for path in written.values():
        assert path.parent == tmp_path / 'out' and path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # The run's configs build the model: two routing iterations
    assert figures.load_run(str(run_folder)).model.digit_capsules.iterations == 2
    assert 'after 2 epochs: ' in capsys.readouterr().out


def test_the_pictures_go_into_the_run_folder_and_a_missing_log_leaves_out_the_curves(run_folder, capsys):
    (run_folder / 'log.jsonl').unlink()
    written = figures.main([str(run_folder / checkpoint.FILE_NAME), '--test-subset', '50'])
    assert 'training_curves' not in written and len(written) == 4
    assert all(path.parent == run_folder / 'figures' for path in written.values())
    assert 'training_curves is left out: ' in capsys.readouterr().err


def test_every_picture_is_shown_in_the_site():
    images = PROJECT / 'labml_nn/capsule_networks/images'
    pages = ''.join((PROJECT / 'docs/capsule_networks' / page).read_text(encoding='utf-8')
                    for page in ('index.html', 'mnist.html', 'figures.html', 'readme.html'))
    for picture in ('reconstructions', 'perturbations', 'routing', 'routing_iterations', 'training_curves'):
        assert (images / f'{picture}.png').is_file(), picture
        assert f'<img src="images/{picture}.png"' in pages, picture
        assert (PROJECT / f'docs/capsule_networks/images/{picture}.png').read_bytes() == \
            (images / f'{picture}.png').read_bytes(), picture
    # The notebook is linked from the readme and copied beside it
    assert '<a href="mnist.ipynb">' in pages
    assert (PROJECT / 'docs/capsule_networks/mnist.ipynb').read_bytes() == \
        (PROJECT / 'labml_nn/capsule_networks/mnist.ipynb').read_bytes()


def test_the_pictures_weigh_a_few_hundred_kilobytes_in_all():
    sizes = {path.name: path.stat().st_size for path in (PROJECT / 'labml_nn/capsule_networks/images').glob('*')}
    assert sum(sizes.values()) < 400_000, sizes
