"""
---
title: The addresses a page may hold
summary: Only http, https, mailto, or relative to the page; never an address that runs a script.
---

# The addresses a page may hold

A page is read in its readers' browsers, at the site's address: a `javascript:` link written
in a source would run there, a `data:` address can hold a whole page, and `file:` leads into
the reader's own machine. So one rule holds for every address a page gets from its sources:
it is `http`, `https` or `mailto`, or it has no scheme, and is relative to the page, leading to
another page or a file of the site.

The rule is kept by each file that meets an address: the [HTML written in the
notes](sanitise.html), the links and images of Markdown that [the build](build.html) checks, the
links inside an [SVG picture](image_files.html), and the picture of a page's link previews
([the page writer](page.html)).
"""

from urllib.parse import urlsplit

# The schemes an address may have; one without a scheme is relative, to a page or a file of the
# site. `javascript:`, `vbscript:` and `data:` are not among them.
SCHEMES = frozenset({'http', 'https', 'mailto'})
ADDRESS_RULE = 'an address in the notes is http, https, mailto, or relative to the page'


def safe_address(address: str) -> bool:
    """
    Whether an address may be in a page: relative, or of one of the `SCHEMES`. The scheme is
    read as a browser reads it, whatever its case and with tabs and new lines taken out.
    """
    try:
        scheme = urlsplit(address).scheme
    except ValueError:
        return False
    return not scheme or scheme in SCHEMES
