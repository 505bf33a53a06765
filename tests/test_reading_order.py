"""
The reading order, declared once by the links of each folder's index: the pages of a folder,
and the folders of the site, in the order of the first link to each, the others by name.
"""

from pathlib import PurePosixPath
from typing import List

from tools.document import Notes, Page, Section
from tools.site import navigation, reading_order, tutorial_order, unlinked_pages


def page(output: str, docstring: str = '') -> Page:
    """
    A page of the site `output`; an index with `docstring` as its module docstring.
    """
    sections = [Section([Notes(docstring, 1, 'module')], [1])] if docstring else [Section([], [1])]
    source = PurePosixPath('src') / output
    return Page(source, PurePosixPath(output), PurePosixPath('src'), sections=sections,
                title=output)


def outputs(pages: List[Page]) -> List[str]:
    return [str(page.output) for page in pages]


def test_an_index_orders_its_pages_by_its_links_however_they_are_written():
    index = page('t/index.html', '[c](c.py), [b](b), [a](a.html#squash) and [d](./d.html)')
    pages = [page('t/a.html'), page('t/b.html'), page('t/c.html'), page('t/d.html'),
             page('t/e.html'), index]
    order = tutorial_order(pages)[PurePosixPath('t')]
    assert outputs(order) == ['t/index.html', 't/c.html', 't/b.html', 't/a.html', 't/d.html',
                              't/e.html']


def test_the_first_link_to_a_page_counts_and_links_elsewhere_do_not():
    index = page('t/index.html', '[b](b.html), [a](https://example.org/a.html), [a picture](a.png)'
                                 ', [here](#top), [up](../x.html), [c](c.html), [b again](b.html)')
    pages = [index, page('t/a.html'), page('t/b.html'), page('t/c.html'), page('x.html')]
    assert outputs(tutorial_order(pages)[PurePosixPath('t')]) == [
        't/index.html', 't/b.html', 't/c.html', 't/a.html']


def test_pages_the_index_does_not_link_to_follow_by_name_and_are_reported():
    index = page('t/index.html', '[c](c.html)')
    pages = [page('t/b.html'), page('t/a.html'), page('t/c.html'), index]
    assert outputs(tutorial_order(pages)[PurePosixPath('t')]) == [
        't/index.html', 't/c.html', 't/a.html', 't/b.html']
    [(forgetful, left)] = unlinked_pages(pages)
    assert forgetful is index and outputs(left) == ['t/a.html', 't/b.html']


def test_a_folder_whose_index_links_to_none_of_its_pages_is_in_name_order_without_a_report():
    pages = [page('t/index.html', 'No links.'), page('t/b.html'), page('t/a.html'),
             page('u/z.html'), page('u/y.html')]
    order = tutorial_order(pages)
    assert outputs(order[PurePosixPath('t')]) == ['t/index.html', 't/a.html', 't/b.html']
    assert outputs(order[PurePosixPath('u')]) == ['u/y.html', 'u/z.html']
    assert unlinked_pages(pages) == []


def test_folders_follow_the_first_link_of_the_index_above_into_each():
    home = page('index.html', '[the tools](tools/) and [the experiment](nets/experiment.html), '
                              '[the layers](nets/index.html)')
    pages = [home, page('nets/index.html', '[x](experiment.html)'), page('nets/experiment.html'),
             page('tools/index.html'), page('tools/build.html'), page('aaa/first.html'),
             page('nets/deep/index.html'), page('nets/deep/more.html')]
    assert outputs(reading_order(pages)) == [
        'index.html', 'tools/index.html', 'tools/build.html', 'nets/index.html',
        'nets/experiment.html', 'nets/deep/index.html', 'nets/deep/more.html', 'aaa/first.html']


def test_previous_and_next_follow_the_reading_order_within_a_folder():
    index = page('t/index.html', '[second](second.html), [first](first.html)')
    pages = [page('index.html', 'Home.'), page('t/first.html'), page('t/second.html'), index]
    steps = navigation(pages)
    assert steps[PurePosixPath('t/index.html')].next.output.name == 'second.html'
    assert steps[PurePosixPath('t/second.html')].next.output.name == 'first.html'
    assert steps[PurePosixPath('t/first.html')].next is None
    assert steps[PurePosixPath('t/first.html')].previous.output.name == 'second.html'
