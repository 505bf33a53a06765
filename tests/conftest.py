"""
Shared by the tests of the site generator: a copy of the fixture site to build, and a build of it.
"""

import shutil
from pathlib import Path

import pytest

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
    Builds the fixture project's site into `project/out`.
    """
    return build(project, list(roots), project / out, project / cache, **settings)
