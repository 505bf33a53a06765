"""
The notebook `labml_nn/capsule_networks/notebook.ipynb` is committed executed, its outputs those
of its code: it runs from top to bottom, trains and shows every picture, and executing it again
gives the same outputs, with no timings, progress bars or paths of the machine in them.
"""

import re
from pathlib import Path

import nbformat
import pytest

from labml_nn.helpers.notebook import execute

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOK = PROJECT / 'labml_nn' / 'capsule_networks' / 'notebook.ipynb'
# The pictures the notebook shows, one per figure function that needs a run
PICTURES = 5
# What must not be in an output: a path of this machine, a run's UUID, a duration, a progress bar
# or the control characters that draw one, a warning
MACHINE_SPECIFIC = re.compile(r'/(work|home|tmp|root|usr)/|logs/|[0-9a-f]{32}|\d ?(ms|s)\b|it/s|'
                              r'\d+%\|| \r|\x1b\[|Warning', re.IGNORECASE)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == 'code']


def texts(notebook):
    """Every text an output shows: streams, and the plain text of results."""
    for cell in code_cells(notebook):
        for output in cell.outputs:
            if output.output_type == 'stream':
                yield output.text
            elif 'data' in output:
                yield output.data.get('text/plain', '')


def shown(notebook):
    """What each code cell shows: its outputs without the counts that number them."""
    return [[{key: value for key, value in output.items() if key != 'execution_count'}
             for output in cell.outputs] for cell in code_cells(notebook)]


@pytest.fixture(scope='module')
def committed():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    return notebook


def test_the_notebook_is_committed_executed_in_order_without_an_error(committed):
    cells = code_cells(committed)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    outputs = [output for cell in cells for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == 'error']
    assert sum('image/png' in output.get('data', {}) for output in outputs) == PICTURES
    # The training cell reports each epoch, and the model's cell the line of the pictures
    assert any(re.match(r'epoch 1: training loss [\d.]+, test accuracy [\d.]+%\nepoch 2: ', text)
               for text in texts(committed))
    assert any('test accuracy on 1,000 MNIST test digits' in text for text in texts(committed))


def test_the_committed_outputs_hold_no_timings_progress_bars_or_paths(committed):
    for text in texts(committed):
        assert not MACHINE_SPECIFIC.search(text), text
    assert committed.metadata['language_info'] == {'name': 'python'}
    assert all('execution' not in cell.metadata for cell in committed.cells)


@pytest.fixture(scope='module')
def small_runs(tmp_path_factory):
    """
    The notebook executed twice, on a smaller run than its own: a few hundred digits, one epoch.
    """
    runs = []
    for number in range(2):
        logs = tmp_path_factory.mktemp('logs')
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        parameters = next(cell for cell in code_cells(notebook)
                          if 'parameters' in cell.metadata.get('tags', []))
        parameters.source += (f'\nTRAIN_SUBSET = 256\nTEST_SUBSET = 200\nEPOCHS = 2\n'
                              f'LOGS = {str(logs)!r}\n')
        execute(notebook, NOTEBOOK.parent, timeout=600)
        runs.append((notebook, logs))
    return runs


def test_the_notebook_trains_a_small_capsnet_and_shows_what_the_committed_one_shows(committed,
                                                                                  small_runs):
    notebook, logs = small_runs[0]
    assert list((logs / 'capsule_network_mnist').glob('*/checkpoint.pt'))
    # The same outputs, of the same types, in the same cells, as the committed notebook's
    types = [[(output['output_type'], sorted(output.get('data', {}))) for output in cell]
             for cell in shown(notebook)]
    assert types == [[(output['output_type'], sorted(output.get('data', {}))) for output in cell]
                     for cell in shown(committed)]
    for text in texts(notebook):
        assert not MACHINE_SPECIFIC.search(text), text


def test_executing_the_notebook_again_gives_the_same_outputs(small_runs):
    (first, _), (second, _) = small_runs
    assert shown(first) == shown(second)
