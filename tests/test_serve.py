"""
`make serve`: the site is served on this machine, and built again when a source changes.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def wait_for(condition, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def test_the_served_site_is_rebuilt_when_a_source_changes(project):
    port = free_port()
    url = f'http://127.0.0.1:{port}/tutorial/readme.html'
    server = subprocess.Popen([sys.executable, '-m', 'tools.serve', 'home', '--out', 'site', '--cache', 'cache',
                               '--port', str(port)], cwd=project, env=dict(os.environ, PYTHONPATH=str(REPOSITORY)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: 'The tutorial' in fetch(url)), 'the site was not served'
        readme = project / 'home/tutorial/readme.md'
        readme.write_text(readme.read_text() + '\nA line written while serving.\n')
        assert wait_for(lambda: 'A line written while serving.' in fetch(url)), 'the change was not rebuilt'
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert 'built: 1 of 3 pages rendered' in output
