"""
`make serve`: the site is served on this machine, and built again when a source changes.
"""

import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

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
    server = start(project, '--port', str(port))
    # What the server prints, read as it comes: the page is written before the build says so.
    printed = []
    reader = threading.Thread(target=lambda: printed.extend(server.stdout), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: 'The tutorial' in fetch(url)), 'the site was not served'
        readme = project / 'home/tutorial/readme.md'
        readme.write_text(readme.read_text() + '\nA line written while serving.\n')
        assert wait_for(lambda: 'A line written while serving.' in fetch(url)), 'the change was not rebuilt'
        assert wait_for(lambda: any('built: 1 of 3 pages rendered' in line for line in printed))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_strict_build_that_fails_while_serving_leaves_the_last_good_site_served(project):
    port = free_port()
    url = f'http://127.0.0.1:{port}/tutorial/readme.html'
    server = start(project, '--port', str(port), '--strict')
    printed = []
    reader = threading.Thread(target=lambda: printed.extend(server.stdout), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: 'The tutorial' in fetch(url)), 'the site was not served'
        (project / 'home/money.py').write_text('x = 1\n# It costs $5.\ny = 2\n')
        assert wait_for(lambda: any('home/money.py:2: warning: ' in line for line in printed))
        assert 'The tutorial' in fetch(url)
        assert status_of(port, '/money.html') == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


def start(project: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-m', 'tools.serve', 'home', '--out', 'site', '--cache', 'cache',
                             *options], cwd=project, env=dict(os.environ, PYTHONPATH=str(REPOSITORY)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(server: subprocess.Popen) -> str:
    server.terminate()
    output, _ = server.communicate(timeout=10)
    return output


def status_of(port: int, path: str) -> int:
    """
    The status of a GET of `path` as written, unchecked and unnormalised.
    """
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    try:
        connection.putrequest('GET', path, skip_host=True)
        connection.putheader('Host', f'127.0.0.1:{port}')
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_folder_not_made_by_the_generator_is_neither_built_into_nor_served(project):
    (project / 'site').mkdir()
    (project / 'site/notes.txt').write_text('my notes\n')
    server = start(project, '--port', str(free_port()))
    output, _ = server.communicate(timeout=30)
    assert server.returncode == 2
    assert output == ('site holds files but no static/site.css, so it was not made by this generator, and '
                      'the build would delete its files; choose another folder with --out\n')
    assert [path.name for path in (project / 'site').iterdir()] == ['notes.txt']


def test_requests_for_folders_nul_bytes_or_paths_out_of_the_site_are_answered_without_a_traceback(project):
    port = free_port()
    server = start(project, '--port', str(port))
    try:
        assert wait_for(lambda: status_of(port, '/') == 200), 'the site was not served'
        statuses = {path: status_of(port, path)
                    for path in ('/katex/', '/static/', '/tutorial/images/', '/%00', '/%00.html', '/%ed%a0%80',
                                 '/../../../etc/passwd', '/..%2f..%2f..%2fetc/passwd', '/tutorial/readme.html')}
    finally:
        output = stop(server)
    assert statuses == {'/katex/': 404, '/static/': 404, '/tutorial/images/': 404, '/%00': 400, '/%00.html': 400,
                        '/%ed%a0%80': 400, '/../../../etc/passwd': 404, '/..%2f..%2f..%2fetc/passwd': 404,
                        '/tutorial/readme.html': 200}
    assert 'Traceback' not in output


def test_serving_survives_files_created_and_deleted_while_it_looks_at_them(project):
    port = free_port()
    server = start(project, '--port', str(port))
    url = f'http://127.0.0.1:{port}/tutorial/readme.html'
    try:
        assert wait_for(lambda: 'The tutorial' in fetch(url)), 'the site was not served'
        # Files and folders that come and go for three seconds, as an editor's and a test run's do.
        deadline, count = time.monotonic() + 3, 0
        while time.monotonic() < deadline:
            folder = project / f'home/tutorial/scratch{count % 3}'
            folder.mkdir(exist_ok=True)
            for number in range(20):
                (folder / f'page{number}.md').write_text(f'# Scratch {number}\n')
            shutil.rmtree(folder)
            count += 1
        readme = project / 'home/tutorial/readme.md'
        readme.write_text(readme.read_text() + '\nWritten after the storm.\n')
        assert wait_for(lambda: 'Written after the storm.' in fetch(url)), 'the change was not rebuilt'
        assert server.poll() is None
    finally:
        output = stop(server)
    assert 'Traceback' not in output


def test_a_port_in_use_or_no_port_at_all_is_said_in_one_line(project):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = subprocess.run([sys.executable, '-m', 'tools.serve', 'home', '--out', 'site', '--cache', 'cache',
                                 '--port', str(port)], cwd=project, capture_output=True, text=True,
                                env=dict(os.environ, PYTHONPATH=str(REPOSITORY)), timeout=30)
    no_port = subprocess.run([sys.executable, '-m', 'tools.serve', 'home', '--out', 'site', '--cache', 'cache',
                              '--port', '99999'], cwd=project, capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=str(REPOSITORY)), timeout=30)
    assert (in_use.returncode, in_use.stdout, in_use.stderr) == (
        2, '', f'port {port} is in use, by another `make serve` perhaps: stop it, or choose another port '
               '(make serve PORT=8001)\n')
    assert (no_port.returncode, no_port.stdout, no_port.stderr) == (
        2, '', '--port 99999 is not a port: choose one from 1 to 65535\n')
    assert not (project / 'site').exists()
