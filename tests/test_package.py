"""
The tutorial is a package: its wheel, under a name of its own, holds the `labml_nn` package and
nothing else of the checkout, and declares what the experiment needs; installed anywhere, or in
editable mode as `make setup` installs it, the experiment runs from any folder.
"""

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout's package files, without downloads."""
    source = tmp_path_factory.mktemp('source')
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(PROJECT / name, source)
    shutil.copytree(PROJECT / 'labml_nn', source / 'labml_nn',
                    ignore=shutil.ignore_patterns('__pycache__'))
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
                    '--no-build-isolation', '-w', str(out), str(source)], check=True)
    [built] = out.glob('*.whl')
    return built


def test_the_wheel_has_a_name_of_its_own_and_declares_what_the_experiment_needs(wheel):
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith('.dist-info/METADATA')]
        fields = Parser().parsestr(archive.read(metadata).decode())
    assert fields['Name'] == 'annotated-capsule-networks'
    needs = {requirement.split('>')[0].split('=')[0]
             for requirement in fields.get_all('Requires-Dist')}
    assert needs == {'torch', 'torchvision', 'labml', 'numpy', 'matplotlib', 'pyyaml'}


def test_the_wheel_holds_the_package_its_scripts_and_pictures_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    packaged = {name.split('/')[0] for name in names if '.dist-info/' not in name}
    assert packaged == {'labml_nn'}
    for name in ('labml_nn/capsule_networks/mnist.py', 'labml_nn/helpers/runner.py',
                 'labml_nn/capsule_networks/perturbations.js',
                 'labml_nn/capsule_networks/images/architecture.png'):
        assert name in names


def test_installed_from_its_wheel_the_experiment_runs_from_any_folder(wheel, tmp_path):
    site = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps', '--target',
                    str(site), str(wheel)], check=True)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    environment = {'PYTHONPATH': str(site), 'PATH': '/usr/bin:/bin'}
    shown = subprocess.run([sys.executable, '-m', 'labml_nn.capsule_networks.mnist', '--help'],
                           cwd=elsewhere, env=environment, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith('usage: python -m labml_nn.capsule_networks.mnist')
    # The package is the installed one, and it keeps its data in the folder it is run from
    found = subprocess.run([sys.executable, '-c', 'import labml_nn.helpers.mnist as m; '
                            'print(m.__file__); print(m.DEFAULT_ROOT)'],
                           cwd=elsewhere, env=environment, capture_output=True, text=True,
                           check=True).stdout.split('\n')
    assert found[0].startswith(str(site)) and found[1] == str(elsewhere / 'data')


def test_in_the_checkouts_environment_the_experiment_runs_from_any_folder(tmp_path):
    # `make setup` installs the checkout in editable mode: no PYTHONPATH, another folder
    shown = subprocess.run([sys.executable, '-m', 'labml_nn.capsule_networks.mnist', '--help'],
                           cwd=tmp_path, env={'PATH': '/usr/bin:/bin'}, capture_output=True,
                           text=True)
    assert shown.returncode == 0, shown.stderr
    found = subprocess.run([sys.executable, '-c', 'import labml_nn.helpers.mnist as m; '
                            'print(m.DEFAULT_ROOT)'], cwd=tmp_path, env={'PATH': '/usr/bin:/bin'},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert found == str(PROJECT / 'data')
