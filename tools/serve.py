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
[what changed](build.html). A build that fails prints its errors and leaves the last good site
being served, until the next change.
"""

import argparse
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Tuple

from tools.build import GENERATOR, SITE_URL, SOURCE_URL, build
from tools.errors import BuildError, BuildFailed, SourceError


def snapshot(folders: List[Path]) -> List[Tuple[str, int, int]]:
    """
    The path, modification time and size of every file under `folders`: a change to any of them
    changes the snapshot.
    """
    return sorted((str(path), path.stat().st_mtime_ns, path.stat().st_size)
                  for folder in folders for path in folder.rglob('*')
                  if path.is_file() and '__pycache__' not in path.parts)


def rebuild(project: Path, options) -> None:
    """
    One build, reported in one line, or its errors.
    """
    try:
        report = build(project, options.roots, Path(options.out), Path(options.cache),
                       options.site_url, options.source_url)
    except (BuildFailed, BuildError, SourceError) as error:
        print(error, file=sys.stderr, flush=True)
        return
    print(f'built: {len(report.rendered)} of {report.pages} pages rendered in '
          f'{report.seconds:.2f} s', flush=True)


class QuietHandler(SimpleHTTPRequestHandler):
    """
    Serves files without a log line for every request.
    """

    def log_message(self, format, *arguments):
        pass


def main(arguments: List[str] = None):
    parser = argparse.ArgumentParser(prog='python -m tools.serve',
                                     description='Serves the site and rebuilds it.')
    parser.add_argument('roots', nargs='+', help='source folders; the first is the top of the site')
    parser.add_argument('--out', default='docs')
    parser.add_argument('--cache', default='.build')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--site-url', default=SITE_URL)
    parser.add_argument('--source-url', default=SOURCE_URL)
    options = parser.parse_args(arguments)
    project = Path.cwd()
    watched = [project / root for root in options.roots] + [GENERATOR]

    rebuild(project, options)
    Path(options.out).mkdir(parents=True, exist_ok=True)
    handler = partial(QuietHandler, directory=options.out)
    server = ThreadingHTTPServer(('127.0.0.1', options.port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f'serving {options.out}/ on http://127.0.0.1:{options.port}/ (Ctrl-C stops)', flush=True)
    seen = snapshot(watched)
    try:
        while True:
            time.sleep(1)
            current = snapshot(watched)
            if current != seen:
                seen = current
                rebuild(project, options)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == '__main__':
    main()
