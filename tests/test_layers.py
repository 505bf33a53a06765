"""
The files of the generator stand in layers without cycles: each imports only files of the
layers below its own. The layers, and every file's imports, are declared once, in the graph on
the generator's index page (the docstring of `tools/__init__.py`); these tests read the imports
of the code with `ast` and hold the two to each other. The modules of the tutorial, `labml_nn/`,
import each other without cycles too.
"""

import ast
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

import tools

TOOLS = Path(tools.__file__).resolve().parent


def imports_of(path: Path) -> Set[str]:
    """
    The files of the generator that a file imports, by name (`split` for `tools/split.py`),
    wherever the import is: at the top, inside a function, or under `if TYPE_CHECKING`.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom) and node.module == 'tools':
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith('tools.'):
            found.add(node.module.split('.')[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split('.')[1] for alias in node.names
                         if alias.name.startswith('tools.'))
    return found


def graph_in_code(folder: Path = TOOLS) -> Dict[str, Set[str]]:
    """
    Every file of the generator but its index, with the files it imports.
    """
    return {path.stem: imports_of(path) for path in sorted(folder.glob('*.py'))
            if path.name != '__init__.py'}


def graph_on_the_index_page(folder: Path = TOOLS) -> Tuple[Dict[str, Tuple[int, str]],
                                                           Dict[str, Set[str]]]:
    """
    The layer of each file, as `(number, name)`, and the imports of each file, as the index
    page's graph declares them. A line of the graph names a layer (`3 readers`) where a layer
    starts, then a file, then what it imports; a line holding only names goes on with the
    imports of the file above it.
    """
    docstring = ast.get_docstring(ast.parse((folder / '__init__.py').read_text()))
    block = re.search(r'```text\nlayer +file +imports\n(.*?)```', docstring or '', re.S)
    assert block, 'tools/__init__.py has no graph of the layers (```text, then "layer file imports")'
    layers: Dict[str, Tuple[int, str]] = {}
    imports: Dict[str, Set[str]] = {}
    layer, file = None, None
    for line in block.group(1).splitlines():
        fields = re.split(r' {2,}', line.strip())
        if not fields[0].endswith('.py') and len(fields) == 1 and file is not None:
            imports[file].update(fields[0].split())
            continue
        if not fields[0].endswith('.py'):
            number, name = fields.pop(0).split(' ', 1)
            layer = (int(number), name)
        file = fields[0].removesuffix('.py')
        assert file not in layers, f'{file}.py is in the graph twice'
        layers[file] = layer
        imports[file] = set(fields[1].split()) if len(fields) > 1 else set()
    return layers, imports


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """
    A cycle of imports through each file that is on one, as the files in order, the first
    again at the end: `['images', 'markdown', 'images']`.
    """
    found = []
    for start in sorted(graph):
        # Depth first from `start`, along imports, looking for `start` again.
        stack = [(start, [start])]
        seen = set()
        while stack:
            file, path = stack.pop()
            for imported in sorted(graph.get(file, ())):
                if imported == start:
                    found.append(path + [start])
                    stack = []
                    break
                if imported not in seen:
                    seen.add(imported)
                    stack.append((imported, path + [imported]))
    return found


def test_every_file_of_the_generator_stands_in_one_layer_of_the_index_page():
    layers, _ = graph_on_the_index_page()
    files = set(graph_in_code())
    assert not files - set(layers), ('files in no layer of the graph on tools/__init__.py: add '
                                     'them to the layer below everything that imports them')
    assert not set(layers) - files, 'the graph on tools/__init__.py names files that do not exist'


def test_the_graph_on_the_index_page_is_the_one_the_code_imports():
    _, declared = graph_on_the_index_page()
    code = graph_in_code()
    wrong = {file: f'the page says {sorted(declared[file])}, the code imports '
                   f'{sorted(code[file])}'
             for file in sorted(set(code) & set(declared)) if declared[file] != code[file]}
    assert wrong == {}


def test_each_file_imports_only_files_of_the_layers_below_its_own():
    layers, _ = graph_on_the_index_page()
    upward = [f'tools/{file}.py, of layer {layers[file][0]} ({layers[file][1]}), imports '
              f'tools/{imported}.py, of layer {layers[imported][0]} ({layers[imported][1]})'
              for file, imported_files in sorted(graph_in_code().items())
              for imported in sorted(imported_files)
              if file in layers and imported in layers and layers[imported][0] >= layers[file][0]]
    assert upward == [], ('a file imports only files of the layers below its own: move what it '
                          'needs down, or the file up')


def test_no_file_of_the_generator_imports_itself_through_others():
    assert cycles(graph_in_code()) == []


def test_the_cycle_check_finds_every_file_on_a_cycle():
    graph = {'images': {'markdown', 'site'}, 'markdown': {'images'}, 'site': set()}
    assert cycles(graph) == [['images', 'markdown', 'images'], ['markdown', 'images', 'markdown']]
    assert cycles({'site': {'document'}, 'document': set()}) == []


def package_graph(package: Path) -> Dict[str, Set[str]]:
    """
    Every module of the Python package in `package`, by dotted name (`helpers.runner`, and
    `capsule_networks` for its `__init__.py`), with the modules of the package it imports,
    wherever the import is.
    """
    root = package.name

    def name_of(path: Path) -> str:
        parts = path.relative_to(package).with_suffix('').parts
        return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)

    modules = {name_of(path): path for path in sorted(package.rglob('*.py'))}

    def module(dotted: str) -> str:
        # `labml_nn.helpers.runner` is `helpers.runner`; a name in no file is not the package's
        name = dotted.removeprefix(root).lstrip('.')
        return name if name in modules else ''

    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[0] == root:
                for alias in node.names:
                    # `from labml_nn.x import y`: the module `x.y`, or a name of the module `x`
                    found.add(module(f'{node.module}.{alias.name}') or module(node.module))
            elif isinstance(node, ast.Import):
                found.update(module(alias.name) for alias in node.names
                             if alias.name.split('.')[0] == root)
        graph[name] = found - {'', name}
    return graph


def test_no_module_of_the_tutorial_imports_itself_through_others():
    labml_nn = TOOLS.parent / 'labml_nn'
    graph = package_graph(labml_nn)
    assert {'capsule_networks.mnist', 'capsule_networks.figures', 'helpers.runner'} <= set(graph)
    assert 'capsule_networks.mnist' in graph['capsule_networks.figures']
    assert cycles(graph) == []


def test_the_package_graph_finds_imports_anywhere_in_a_module(tmp_path):
    package = tmp_path / 'pkg'
    (package / 'sub').mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'sub' / '__init__.py').write_text('from pkg.sub.b import x\n')
    (package / 'sub' / 'a.py').write_text('from pkg.sub import b\n')
    (package / 'sub' / 'b.py').write_text('def f():\n    import pkg.sub.a\n')
    (package / 'c.py').write_text('from pkg.sub import thing\nimport os\n')
    graph = package_graph(package)
    assert graph == {'': set(), 'sub': {'sub.b'}, 'sub.a': {'sub.b'}, 'sub.b': {'sub.a'},
                     'c': {'sub'}}
    assert cycles(graph) == [['sub.a', 'sub.b', 'sub.a'], ['sub.b', 'sub.a', 'sub.b']]
