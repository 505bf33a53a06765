"""
The notebook `labml_nn/capsule_networks/mnist.ipynb` runs from top to bottom: it trains on a few
hundred digits and shows every picture. It is committed without outputs.
"""

from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / 'labml_nn' / 'capsule_networks' / 'mnist.ipynb'
# The pictures the notebook shows, one per figure function
PICTURES = 5


def test_the_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == 'code':
            assert cell.outputs == [] and cell.execution_count is None, cell.source


def test_the_notebook_trains_a_small_capsnet_and_shows_every_picture(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # A smaller run than the notebook's own, written to a temporary folder
    parameters = next(cell for cell in notebook.cells if 'parameters' in cell.metadata.get('tags', []))
    parameters.source += (f'\nTRAIN_SUBSET = 256\nTEST_SUBSET = 200\nEPOCHS = 1\n'
                          f'LOGS = {str(tmp_path / "logs")!r}\n')
    # A kernel of this very interpreter, whatever other kernels named python3 are installed
    write_kernel_spec(str(tmp_path / 'jupyter' / 'kernels' / 'this-python'))
    monkeypatch.setenv('JUPYTER_PATH', str(tmp_path / 'jupyter'))
    NotebookClient(notebook, timeout=600, kernel_name='this-python',
                   resources={'metadata': {'path': str(NOTEBOOK.parent)}}).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == 'code' for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == 'error']
    assert sum('image/png' in output.get('data', {}) for output in outputs) == PICTURES
    assert list((tmp_path / 'logs' / 'capsule_network_mnist').glob('*/checkpoint.pt'))
