"""
Shared fixtures: for the site generator, a copy of the fixture site to build, and a build of it;
for the data, MNIST with nowhere to repair it from; for training, a folder for the runs.
"""

import shutil
from pathlib import Path

import pytest
from labml import lab

from labml_nn.helpers import mnist
from tools.build import build

FIXTURE_SITE = Path(__file__).resolve().parent / 'fixtures' / 'site'


@pytest.fixture
def project(tmp_path) -> Path:
    """
    A copy of `tests/fixtures/site`, free to change: `home/` is its source folder.
    """
    return Path(shutil.copytree(FIXTURE_SITE, tmp_path / 'project'))


def build_site(project: Path, roots=('home',), out='site', cache='cache', **settings):
    """
    Builds the fixture project's site into `project/out`, strictly, as `make docs` builds this
    project's site, unless `strict=False` is among the `settings`.
    """
    settings.setdefault('strict', True)
    return build(project, list(roots), project / out, project / cache, **settings)


@pytest.fixture(scope='module')
def logs(tmp_path_factory) -> Path:
    """
    A temporary folder for labml to write the runs of a module's tests to, in place of `logs/`.
    """
    path = tmp_path_factory.mktemp('logs')
    lab.configure({'experiments_path': str(path)})
    return path


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """
    No source to fetch MNIST from: no npm package, no internet.
    """
    monkeypatch.setattr(mnist, 'NPM_MNIST', tmp_path / 'nowhere')
    monkeypatch.setattr(mnist, '_download', lambda root: None)


@pytest.fixture
def mnist_copy(tmp_path) -> Path:
    """
    A data folder holding a copy of the four MNIST files, free to damage; returns its
    `MNIST/raw/` folder.
    """
    raw = mnist.raw_folder(tmp_path)
    shutil.copytree(mnist.raw_folder(mnist.DEFAULT_ROOT), raw, ignore=shutil.ignore_patterns('.*'))
    return raw


PAGES_FIXTURE = Path(__file__).resolve().parent / 'fixtures' / 'pages'


def add_pages(project: Path) -> Path:
    """
    Adds to the fixture project the tutorial `home/pages/` of `tests/fixtures/pages`: an index
    that declares its order, a wide figure with its dark variant, a notebook with its outputs.
    """
    return Path(shutil.copytree(PAGES_FIXTURE, project / 'home' / 'pages'))
