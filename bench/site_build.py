"""
---
title: How fast the site generator builds
summary: Times python -m tools.build on labml-nn 0.5.1's annotated sources, from a cold cache and
  with nothing changed, beside the project's own site built by this generator and by another
  version of it.
---

# How fast the site generator builds

```bash
python -m bench.site_build                    # labml-nn 0.5.1's tree, and the project's own site
python -m bench.site_build --baseline <rev>   # also the generator of git revision <rev>
```

The tree is the `labml_nn/` package of the labml-nn 0.5.1 wheel that `make test` downloads into
`.build/wheels/`, about 220 annotated sources, unpacked under the name `labml_nn_up`. Each
build is the command a user runs, `python -m tools.build ... --keep-going`, in a process of its
own, so its time includes starting Python and importing the generator. It is timed twice:

* *cold*: a new output folder and a new cache, so that every page is split, parsed, typeset by
  KaTeX and written;
* *rebuild*: the same command again, with nothing changed.

Each is given as wall-clock seconds, what a user waits, and as CPU seconds (the build's process
and KaTeX's, user and system), which other jobs on a shared machine change far less. On an idle
2-core machine the wall-clock time lies between half the CPU time and all of it (KaTeX runs
beside the build).

Beside it, the same two times for the project's own site (`labml_nn/` and `tools/`), and, with
`--baseline`, for the project's site as the generator of another git revision builds it (its
own `tools/` pages included), in the same invocation and taking turns with this generator, so
that both share whatever else the machine is doing. Each time is the median of `--repeat`
runs; the load average before and after says how busy the machine was.
"""

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
WHEEL = ROOT / '.build/wheels/labml_nn-0.5.1-py3-none-any.whl'


@dataclass
class Site:
    """
    A tree to build: a name for the table, the project folder, the source folders, the folder
    whose `tools` package is the generator, and the options it is given.
    """
    name: str
    project: Path
    roots: List[str]
    generator: Path
    options: List[str] = field(default_factory=lambda: ['--keep-going'])
    # Wall-clock and CPU seconds of each cold build and each rebuild.
    cold: List[float] = field(default_factory=list)
    rebuild: List[float] = field(default_factory=list)
    cold_cpu: List[float] = field(default_factory=list)
    rebuild_cpu: List[float] = field(default_factory=list)
    # What the last cold build and the last rebuild printed of themselves.
    said: Dict[str, str] = field(default_factory=dict)


def unpack_labml_nn(folder: Path) -> Path:
    """
    The `labml_nn/` package of the wheel, as `labml_nn_up/` in a project folder of its own.
    """
    if not WHEEL.is_file():
        sys.exit(f'{WHEEL} is missing: run `make test`, or `make {WHEEL.relative_to(ROOT)}`, '
                 'which downloads it from the package registry')
    project = folder / 'labml-nn'
    with zipfile.ZipFile(WHEEL) as wheel:
        for member in wheel.namelist():
            if member.startswith('labml_nn/') and not member.endswith('/'):
                target = project / 'labml_nn_up' / member.removeprefix('labml_nn/')
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(wheel.read(member))
    return project


def generator_at(revision: str, folder: Path) -> Path:
    """
    A project folder holding the `tools/` of a git revision, the sources of the site
    (`labml_nn/`, as they are now) and a link to `node_modules/`, for KaTeX.
    """
    project = folder / f'at-{revision}'
    project.mkdir()
    archive = subprocess.run(['git', 'archive', revision, 'tools'], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', str(project)], input=archive, check=True)
    shutil.copytree(ROOT / 'labml_nn', project / 'labml_nn',
                    ignore=shutil.ignore_patterns('__pycache__'))
    (project / 'node_modules').symlink_to(ROOT / 'node_modules')
    return project


def run_build(site: Site, out: Path, cache: Path, kind: str) -> Tuple[float, float]:
    """
    One build of `site` into `out` with its cache in `cache`: its wall-clock and CPU seconds.
    The first line the build prints is kept, as what the build of this `kind` said.
    """
    command = [sys.executable, '-m', 'tools.build', *site.roots, '--out', str(out),
               '--cache', str(cache), *site.options]
    environment = dict(os.environ, PYTHONPATH=str(site.generator))
    start, used = time.perf_counter(), cpu_seconds()
    done = subprocess.run(command, cwd=site.project, env=environment, capture_output=True,
                          text=True)
    seconds, used = time.perf_counter() - start, cpu_seconds() - used
    printed = done.stdout.splitlines()
    if not printed or not re.search(r'\d+ pages', printed[0]):
        sys.exit(f'the build of {site.name} failed:\n{done.stdout}{done.stderr}')
    site.said[kind] = printed[0].split(': ', 1)[1]
    return seconds, used


def cpu_seconds() -> float:
    """
    The CPU time, user and system, of the processes this one started and waited for.
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def measure(sites: List[Site], repeat: int, scratch: Path):
    """
    For each repetition, each site in turn: a cold build, then a rebuild with nothing changed.
    """
    for number in range(repeat):
        for index, site in enumerate(sites):
            out, cache = scratch / f'site-{index}-{number}', scratch / f'cache-{index}-{number}'
            for kind, times, cpu in (('cold', site.cold, site.cold_cpu),
                                     ('rebuild', site.rebuild, site.rebuild_cpu)):
                seconds, used = run_build(site, out, cache, kind)
                times.append(seconds)
                cpu.append(used)


def table(sites: List[Site], baseline: Optional[Site]) -> str:
    """
    The medians and ranges of the times, and what each build printed of itself.
    """
    lines = ['| tree, generator | cold build: wall s | CPU s | it says | rebuild, nothing '
             'changed: wall s | CPU s | it says |', '|---|---|---|---|---|---|---|']
    for site in sites:
        lines.append(f'| {site.name} | {spread(site.cold)} | {spread(site.cold_cpu)} | '
                     f'{site.said["cold"]} | {spread(site.rebuild)} | '
                     f'{spread(site.rebuild_cpu)} | {site.said["rebuild"]} |')
    if baseline is not None:
        current = next(site for site in sites if site.name.startswith('this project'))
        lines.append('')
        lines.append(f'this generator / {baseline.name}, on the project\'s site: cold '
                     f'{ratio(current.cold, baseline.cold)} wall, '
                     f'{ratio(current.cold_cpu, baseline.cold_cpu)} CPU; rebuild '
                     f'{ratio(current.rebuild, baseline.rebuild)} wall, '
                     f'{ratio(current.rebuild_cpu, baseline.rebuild_cpu)} CPU')
    return '\n'.join(lines)


def spread(times: List[float]) -> str:
    return f'{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})'


def ratio(times: List[float], baseline: List[float]) -> str:
    return f'{statistics.median(times) / statistics.median(baseline):.2f}x'


def main(arguments: List[str] = None):
    parser = argparse.ArgumentParser(prog='python -m bench.site_build',
                                     description='Times the site generator.')
    parser.add_argument('--repeat', type=int, default=3, help='runs of each build (default: 3)')
    parser.add_argument('--baseline', help='a git revision whose generator builds the '
                                           "project's site too, for the ratio")
    options = parser.parse_args(arguments)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix='site-build-') as folder:
        scratch = Path(folder)
        sites = [Site('labml-nn 0.5.1 (labml_nn_up), this generator',
                      unpack_labml_nn(scratch), ['labml_nn_up'], ROOT),
                 Site("this project's site, this generator", ROOT, ['labml_nn', 'tools'], ROOT)]
        baseline = None
        if options.baseline:
            project = generator_at(options.baseline, scratch)
            # An older generator may not know --keep-going; the project's site needs none.
            baseline = Site(f"this project's site, the generator of {options.baseline}",
                            project, ['labml_nn', 'tools'], project, options=[])
            sites.append(baseline)
        measure(sites, options.repeat, scratch)
    print(table(sites, baseline))
    print(f'\nmedian (min-max) of {options.repeat} runs, wall clock, each build a process of its '
          f'own, on {os.cpu_count()} CPUs; load average before {load_before[0]:.2f}, after '
          f'{os.getloadavg()[0]:.2f}')


if __name__ == '__main__':
    main()
