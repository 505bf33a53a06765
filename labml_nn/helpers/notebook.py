"""
---
title: Executing the notebook
summary: >
  Runs a notebook from top to bottom with this project's Python and keeps its outputs, the same
  outputs on every execution.
---

# Executing the notebook

[The notebook](../capsule_networks/notebook.html) is committed executed, with its outputs, so that
it reads as a page of the site. This module executes it again, in place:

`python -m labml_nn.helpers.notebook labml_nn/capsule_networks/notebook.ipynb` (or
`make notebook`).

Its outputs are the same on every execution on a machine, so that the file changes only when
what it shows changes: the notebook seeds its run and prints no timings or paths, and this module
keeps no execution times and no version of Python in the file. The file is replaced only once the
execution has ended without an error.
"""

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

# The kernel the notebook is executed in: this very interpreter, whatever other kernels are
# installed
KERNEL = 'this-python'


def execute(notebook: nbformat.NotebookNode, folder: Path, timeout: int = 1200):
    """
    Execute `notebook` in place, with `folder` as the working folder of its kernel. A cell that
    fails raises `nbclient.exceptions.CellExecutionError`, with the cell and its error.
    """
    with tempfile.TemporaryDirectory() as jupyter:
        write_kernel_spec(str(Path(jupyter) / 'kernels' / KERNEL))
        previous = os.environ.get('JUPYTER_PATH')
        os.environ['JUPYTER_PATH'] = jupyter
        try:
            NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                           resources={'metadata': {'path': str(folder)}}).execute()
        finally:
            if previous is None:
                del os.environ['JUPYTER_PATH']
            else:
                os.environ['JUPYTER_PATH'] = previous
    # What the execution recorded of this machine: the kernel's name and Python's version
    notebook.metadata['kernelspec'] = {'display_name': 'Python 3 (ipykernel)',
                                       'language': 'python', 'name': 'python3'}
    notebook.metadata['language_info'] = {'name': 'python'}


def execute_file(path: Path):
    """
    Execute the notebook at `path` and write it back with its outputs, atomically.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    execute(notebook, path.parent)
    temporary = path.with_name(f'.{path.name}.tmp')
    nbformat.write(notebook, temporary)
    temporary.replace(path)


if __name__ == '__main__':
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_file():
        sys.exit('usage: python -m labml_nn.helpers.notebook NOTEBOOK.ipynb')
    try:
        execute_file(Path(sys.argv[1]))
    except CellExecutionError as error:
        sys.exit(f'error: {sys.argv[1]} was left as it was; a cell failed:\n{error}')
