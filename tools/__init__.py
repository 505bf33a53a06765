"""
---
title: The site generator
summary: The generator of this site, annotated in the same style as the tutorial, and rendered
  by itself.
---

# The site generator

This site is made from the tutorial's source files by a small generator, in the spirit of
[docco](https://ashkenas.com/docco/) and [pycco](https://pycco-docs.github.io/pycco/): the
comments and docstrings of a file become the notes on the left, and the code they describe
stands on the right. Like them, it renders its own source; these pages are the result.

```bash
make docs    # builds docs/ from labml_nn/ and tools/
make serve   # serves docs/ on http://127.0.0.1:8000, and rebuilds when a source changes
```

A build goes through these files, in this order:

* [The build](build.html): the command, and rebuilding only what changed.
* [From sources to pages](site.html): which file becomes which page; the reading order.
* [Splitting a source file into sections](split.html): notes and the code they describe.
* [Notebooks](notebook.html): Markdown cells as notes, code cells as code, with their outputs.
* [Front matter](front_matter.html): the title and summary of a page.
* [Markdown and math](markdown.html): the notes, with formulas between dollars.
* [The HTML allowed in the notes](sanitise.html): no script reaches a page.
* [Images](images.html): each at its own size, wide ones across the page, dark on dark screens.
* [Math with KaTeX, in one process](katex.html): formulas typeset on the server.
* [Highlighting code](highlight.html): Pygments, light and dark.
* [Writing a page](page.html): the template, its contents, footer and metadata.
* [Files copied into the site](assets.html): stylesheets, fonts and images.
* [The sitemap](sitemap.html): every page, with the date of its last change.
* [Writing files](files.html): atomically, and only when changed.
* [Errors that point at a line](errors.html): `file:line: message`.
* [Serving the site while writing](serve.html): `make serve`.
"""
