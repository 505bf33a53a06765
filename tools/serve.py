"""
---
title: Serving the site while writing
summary: make serve builds the site, serves it on localhost, and rebuilds it whenever a source or
  the generator changes.
---

# Serving the site while writing

```bash
make serve                       # http://127.0.0.1:8000
python -m tools.serve labml_nn tools --out docs --port 8000
```

builds the site, serves `docs/` on `127.0.0.1` (this machine only), and looks at the sources
and the generator once a second: when a file changed, it builds again, which renders only
[what changed](build.html). Each build prints the problems it found; a build that fails (with
`--strict`, on any problem, as `make serve` builds) leaves the last good site being served,
until the next change.

It serves the site and nothing else: the files of `docs/`, never a listing of a folder, nor a
file outside it (`/../`). Whatever a browser or a person sends, a request that names no file
of the site is answered 404 (400 for a path no file can have), and the server goes on. The
settings are [the build's](build.html#the-settings), checked before anything is served: it
does not serve a folder it would refuse to build into. A port that is taken, or that is no
port, is said in one line.
"""

import argparse
import errno
import os
import sys
import threading
import time
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Tuple

from tools.build import GENERATOR, build, check_settings, describe_os_error
from tools.errors import BuildError, BuildFailed, SourceError

# The ports a server may listen on.
PORTS = range(1, 65536)


def snapshot(folders: List[Path]) -> List[Tuple[str, int, int]]:
    """
    ## Watching the sources

    The path, modification time and size of every file under `folders`: a change to any of them
    changes the snapshot. A file deleted while it is looked at (an editor's temporary file, say)
    is left out, and so is a folder deleted meanwhile.
    """
    found = []
    for folder in folders:
        for directory, subfolders, files in os.walk(folder):
            subfolders[:] = [name for name in subfolders if name != '__pycache__']
            for name in files:
                path = os.path.join(directory, name)
                try:
                    status = os.stat(path)
                except OSError:
                    continue
                found.append((path, status.st_mtime_ns, status.st_size))
    return sorted(found)


def rebuild(project: Path, options) -> None:
    """
    One build, reported in one line, or its errors. A file the build cannot read or write (one
    deleted while it ran, say) is one line too, and the next change builds again.
    """
    try:
        report = build(project, options.roots, Path(options.out), Path(options.cache),
                       options.site_url, options.source_url, strict=options.strict,
                       allow_scripts=options.allow_scripts)
    except (BuildFailed, BuildError, SourceError) as error:
        print(error, file=sys.stderr, flush=True)
        return
    except OSError as error:
        print(f'the build stopped: {describe_os_error(error)}', file=sys.stderr, flush=True)
        return
    print(f'built: {len(report.rendered)} of {report.pages} pages rendered in '
          f'{report.seconds:.2f} s', flush=True)
    if report.problems:
        print('\n'.join(map(str, report.problems)), file=sys.stderr, flush=True)


class SiteHandler(SimpleHTTPRequestHandler):
    """
    ## Serving

    Serves the files of the site, without a log line for every request. A folder without an
    index is not listed; a path that no file can have (`/%00`) is a bad request.
    """

    def send_head(self):
        try:
            return super().send_head()
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST, 'No file of the site has such a name')
            return None

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, 'File not found')
        return None

    def log_message(self, format, *arguments):
        pass


class SiteServer(ThreadingHTTPServer):
    """
    A request that fails all the same (a browser that hangs up midway) is one line, not a
    traceback, and the server goes on.
    """
    daemon_threads = True

    def handle_error(self, request, client_address):
        print(f'a request from {client_address[0]} failed: {sys.exc_info()[1]!r}',
              file=sys.stderr, flush=True)


def listen(port: int, folder: str) -> SiteServer:
    """
    The server of `folder` on `127.0.0.1:port`; a `BuildError` that says why it cannot listen.
    """
    if port not in PORTS:
        raise BuildError(f'--port {port} is not a port: choose one from 1 to 65535')
    try:
        return SiteServer(('127.0.0.1', port), partial(SiteHandler, directory=folder))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise BuildError(f'port {port} is in use, by another `make serve` perhaps: stop it, '
                             'or choose another port (make serve PORT=8001)') from None
        raise BuildError(f'cannot listen on port {port}: {describe_os_error(error)}') from None


def main(arguments: List[str] = None) -> int:
    """
    ## The command

    Returns the exit status: 2 for a setting it refuses, as [the build](build.html#the-command)
    does, and 0 after Ctrl-C.
    """
    parser = argparse.ArgumentParser(prog='python -m tools.serve',
                                     description='Serves the site and rebuilds it.')
    parser.add_argument('roots', nargs='+', help='source folders; the first is the top of the site')
    parser.add_argument('--out', default='docs')
    parser.add_argument('--cache', default='.build')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--strict', action='store_true')
    parser.add_argument('--site-url')
    parser.add_argument('--source-url')
    parser.add_argument('--allow-scripts', action='store_true',
                        help="the build's --allow-scripts: include the pages' scripts")
    options = parser.parse_args(arguments)
    project = Path.cwd()
    watched = [project / root for root in options.roots] + [GENERATOR]
    try:
        check_settings(project, options.roots, Path(options.out), Path(options.cache),
                       {'--site-url': options.site_url, '--source-url': options.source_url})
        server = listen(options.port, options.out)
    except BuildError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        Path(options.out).mkdir(parents=True, exist_ok=True)
        rebuild(project, options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f'serving {options.out}/ on http://127.0.0.1:{options.port}/ (Ctrl-C stops)',
              flush=True)
        seen = snapshot(watched)
        while True:
            time.sleep(1)
            current = snapshot(watched)
            if current != seen:
                seen = current
                rebuild(project, options)
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(describe_os_error(error), file=sys.stderr)
        return 2
    finally:
        server.server_close()


if __name__ == '__main__':
    sys.exit(main())
