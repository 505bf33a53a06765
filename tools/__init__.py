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
* [The document](document.html): notes, sections and pages, the plain data of every step.
* [From sources to pages](site.html): which file becomes which page; the reading order.
* [Splitting a source file into sections](split.html): notes and the code they describe.
* [Notebooks](notebook.html): Markdown cells as notes, code cells as code, with their outputs.
* [Front matter](front_matter.html): the title and summary of a page.
* [Markdown and math](markdown.html): the notes, with formulas between dollars.
* [The HTML allowed in the notes](sanitise.html): no script reaches a page.
* [The addresses a page may hold](addresses.html): http, https, mailto, or relative.
* [Images](images.html): each at its own size, wide ones across the page, dark on dark screens.
* [Image files](image_files.html): the size of a picture, read from its file; no script in an SVG.
* [Math with KaTeX, in one process](katex.html): formulas typeset on the server.
* [Highlighting code](highlight.html): Pygments, light and dark.
* [Writing a page](page.html): the template, its contents, footer and metadata.
* [Files copied into the site](assets.html): stylesheets, fonts, images and the sources.
* [The sitemap](sitemap.html): every page, with the date of its last change.
* [Writing files](files.html): atomically, and only when changed.
* [Errors that point at a line](errors.html): `file:line: message`.
* [Serving the site while writing](serve.html): `make serve`.

## Layers

The files stand in layers, and a file imports only files of the layers below its own: there is
no cycle, and each layer can be read knowing only those below it.

1. *The document*: notes, sections and pages as plain data, the problems found in them, and
   the addresses a page may hold. It knows nothing of any other file.
2. *Files*: the size of an image, read from its file, and the site's files, written whole.
3. *Readers*: a source made into the document: a Python or Markdown file split into sections,
   a notebook's cells, the front matter, and the folders of sources made into the pages of a
   site, in their reading order.
4. *Parts of a page*, each made into HTML: code, formulas, pictures, and the HTML written in
   the notes.
5. *Pages*: the notes, rendered with those parts, the page around them, the sitemap, and the
   files every page uses.
6. *The build*: the command that runs them all.
7. *Serving*: the site, built again on every change.

The import graph, each file with the files of the generator it imports
(`tests/test_layers.py` checks it against the code, and the layers against the graph):

```text
layer            file             imports
7 serving        serve.py         build errors
6 the build      build.py         addresses assets document errors files front_matter highlight
                                  image_files images katex markdown notebook page site sitemap
                                  split
5 pages          assets.py        document errors highlight katex site
                 markdown.py      addresses document errors highlight images sanitise
                 page.py          addresses document highlight images notebook site
                 sitemap.py       document errors site
4 parts          highlight.py
                 images.py        document errors image_files site
                 katex.py         document errors files
                 sanitise.py      addresses
3 readers        front_matter.py  document errors
                 notebook.py      document errors image_files
                 site.py          document errors
                 split.py         document errors
2 files          files.py
                 image_files.py   addresses
1 the document   addresses.py
                 document.py
                 errors.py
```
"""
