"""
`make chromium`, which `make test` runs: Chromium is installed with apt-get when missing, as root
or through `sudo -n`; a person who is neither is told in one line what to install, and nothing
is half-installed. Run with stand-ins for `id`, `sudo` and `apt-get` on a PATH without
Chromium, which record what they were asked.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
MAKE = shutil.which('make')

pytestmark = pytest.mark.skipif(MAKE is None, reason='make is not installed')


def stand_in(folder: Path, name: str, script: str):
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{folder}/calls"\n{script}\n')
    path.chmod(0o755)


def make_chromium(tmp_path: Path, user: int, sudo: str = None, chromium: bool = False):
    """
    `make chromium` as the user `user`, with a `sudo` that runs `sudo` (a script) if given, and
    Chromium on the PATH if `chromium`; its result, and the commands it ran.
    """
    stand_in(tmp_path, 'id', f'echo {user}')
    stand_in(tmp_path, 'apt-get', 'exit 0')
    if sudo is not None:
        stand_in(tmp_path, 'sudo', sudo)
    if chromium:
        stand_in(tmp_path, 'chromium', 'exit 0')
    done = subprocess.run([MAKE, '--no-print-directory', 'chromium'], cwd=REPOSITORY,
                          env={'PATH': str(tmp_path)}, capture_output=True, text=True)
    calls = (tmp_path / 'calls').read_text().splitlines() if (tmp_path / 'calls').exists() else []
    return done, [call for call in calls if not call.startswith('id')]


# A sudo that runs the command it is given without asking for a password.
PASSWORDLESS = '[ "$1" = -n ] || exit 1\nshift\n[ "$1" = true ] && exit 0\nexec "$@"'


def test_without_root_or_sudo_make_says_in_one_line_what_to_install_and_installs_nothing(tmp_path):
    done, calls = make_chromium(tmp_path, user=1000)
    assert done.returncode != 0 and calls == []
    assert done.stderr.splitlines()[0] == (
        'make test needs Chromium, for its browser test: install it (sudo apt-get install '
        'chromium), then run make test again')


def test_a_sudo_that_would_ask_for_a_password_is_not_used(tmp_path):
    done, calls = make_chromium(tmp_path, user=1000, sudo='exit 1')
    assert done.returncode != 0 and calls == ['sudo -n true']
    assert 'install it (sudo apt-get install chromium)' in done.stderr


def test_a_user_with_sudo_installs_chromium_through_sudo_without_a_prompt(tmp_path):
    done, calls = make_chromium(tmp_path, user=1000, sudo=PASSWORDLESS)
    assert done.returncode == 0
    assert calls == ['sudo -n true', 'sudo -n apt-get update', 'apt-get update',
                     'sudo -n apt-get install -y chromium', 'apt-get install -y chromium']


def test_root_installs_chromium_with_apt_get(tmp_path):
    done, calls = make_chromium(tmp_path, user=0)
    assert done.returncode == 0 and calls == ['apt-get update', 'apt-get install -y chromium']


def test_nothing_is_installed_where_chromium_is_there(tmp_path):
    done, calls = make_chromium(tmp_path, user=1000, chromium=True)
    assert done.returncode == 0 and calls == []
