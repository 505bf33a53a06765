"""
---
title: Front matter
summary: The YAML block at the top of a module docstring that gives a page its title and summary;
  without it, the first heading names the page.
---

# Front matter

A module docstring (or a Markdown file) may open with a block of YAML between two `---` lines:

```yaml
---
title: Capsule Networks
summary: Squash, routing by agreement and the margin loss.
---
```

The `title` names the page in the browser's tab, in the site's lists and in previews of shared
links; the `summary` is its meta description and the text of those previews. The block is taken
out of the notes, so the reader sees it only through its effects.

A page without a `title` or a `summary` is named by its notes, its first heading and its first
paragraph, as [Markdown](markdown.html#a-page-without-front-matter) reads them.

A third key, `scripts`, lists the JavaScript files beside the source that the page runs, such
as `scripts: [widget.js]`: the notes cannot hold a script, and [the build](build.html#scripts)
includes these only when told that the sources are trusted.
"""

from pathlib import Path
from typing import Dict, List, Tuple, Union

import yaml

from tools.document import Section
from tools.errors import SourceError, SourceWarning, warn

# The keys a page may set; any other is most likely a typo, and is reported.
KEYS = ('title', 'summary', 'scripts')


def take_front_matter(path: Path, sections: List[Section],
                      problems: List[SourceError] = None
                      ) -> Dict[str, Union[str, List[Tuple[str, int]]]]:
    """
    The front matter of the module docstring (the notes of kind `module`, in the first section),
    removed from it; `{}` when there is none. An unknown key is left out, with a warning in
    `problems`.

    The removed lines are replaced by empty lines, so that the lines after them keep their
    numbers for error messages.
    """
    notes = next((n for n in sections[0].notes if n.kind == 'module'), None) if sections else None
    if notes is None:
        return {}
    lines = notes.text.split('\n')
    # The block must be the first thing in the docstring, after blank lines.
    opening = next((i for i, line in enumerate(lines) if line.strip()), None)
    if opening is None or lines[opening].rstrip() != '---':
        return {}
    closing = next((i for i in range(opening + 1, len(lines)) if lines[i].rstrip() == '---'), None)
    if closing is None:
        raise SourceError(path, notes.line + opening, 'the front matter opened here with `---` is '
                                                      'never closed: add a line `---` after its '
                                                      'last key')
    block = '\n'.join(lines[opening + 1:closing])
    try:
        # Aliases (`*name`) can make a few lines stand for billions of values; a title and a
        # summary need none, so none is read.
        alias = next((event for event in yaml.parse(block, Loader=yaml.SafeLoader)
                      if isinstance(event, yaml.AliasEvent)), None)
        if alias is not None:
            raise SourceError(path, notes.line + opening + 1 + alias.start_mark.line,
                              f'the front matter uses the YAML alias `*{alias.anchor}`: write '
                              'the value itself')
        meta = yaml.safe_load(block)
    except yaml.YAMLError as error:
        mark = getattr(error, 'problem_mark', None)
        line = notes.line + opening + 1 + (mark.line if mark else 0)
        problem = getattr(error, 'problem', None) or str(error)
        raise SourceError(path, line, f'the front matter is not valid YAML: {problem}') from None
    meta = {} if meta is None else meta
    first = notes.line + opening + 1
    keys = {line.split(':', 1)[0].strip(): first + number
            for number, line in enumerate(lines[opening + 1:closing]) if ':' in line}
    if not isinstance(meta, dict):
        raise SourceError(path, first, 'the front matter must be `key: value` lines, with the '
                                       f'keys {", ".join(KEYS)}')
    for key, value in meta.items():
        if key not in KEYS:
            warn(problems, SourceWarning(path, keys.get(str(key), first),
                                         f'unknown front matter key `{key}`, left out; the keys '
                                         f'are {", ".join(KEYS)}'))
        elif key == 'scripts':
            if not (isinstance(value, list) and all(isinstance(name, str) for name in value)):
                raise SourceError(path, keys.get(key, first),
                                  'the front matter `scripts` must be a list of file names, '
                                  'such as `scripts: [widget.js]`')
        elif not isinstance(value, str):
            raise SourceError(path, first, f'the front matter `{key}` must be text')
    notes.text = '\n' * (closing + 1) + '\n'.join(lines[closing + 1:])
    taken = {key: ' '.join(value.split()) for key, value in meta.items()
             if key in ('title', 'summary')}
    if 'scripts' in meta:
        taken['scripts'] = [(name, keys.get('scripts', first)) for name in meta['scripts']]
    return taken
