"""
---
title: Configs from the command line
summary: >
  key=value overrides of labml configs, checked before any work, and a --help that lists
  them.
---

# Configs from the command line

An experiment's hyperparameters are the annotated attributes of a
[labml `BaseConfigs`](https://github.com/labmlai/labml) class. labml computes them, lets
`@option` functions offer named choices, and records them in the run's `configs.yaml`.

This module reads overrides from the command line as `key=value`,

```bash
python -m labml_nn.capsule_networks.mnist epochs=1 routing_iterations=1 device=cpu
```

and checks each against the class before any work starts: an unknown key, or a value that is not
of the config's type or not one of its options, stops the run with a message that names the key
and lists the valid ones. `--help` prints every config with its default.
"""

from typing import Dict, List, Type, Union

from labml.configs import BaseConfigs

# The words a boolean config accepts.
BOOLEANS = {'true': True, 'yes': True, '1': True, 'false': False, 'no': False, '0': False}

# A value converter and a description for each plain type.
PARSERS = {
    int: (int, 'an integer'),
    float: (float, 'a number'),
    str: (str, 'a string'),
}


class ConfigError(ValueError):
    """
    A command-line override that can't be used; the message says which and why.
    """


class ConfigEntry:
    """
    One config: its name, type, default and the options offered by `@option`.
    """

    def __init__(self, name: str, annotation: type, default, options: List[str]):
        self.name, self.annotation, self.default, self.options = name, annotation, default, options


def entries(configs_class: Type[BaseConfigs]) -> Dict[str, ConfigEntry]:
    """
    Every config of `configs_class` and its base classes, in the order they are declared.

    labml keeps each annotated attribute as a config item (with `annotation` and `value`) in the
    class's `__dict__`, and the `@option` functions in `_calculators`.
    """
    found = {}
    for cls in reversed(configs_class.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseConfigs)):
            continue
        for name in cls.__dict__.get('__annotations__', {}):
            item = cls.__dict__.get(name)
            if name.startswith('_') or item is None or not hasattr(item, 'annotation'):
                continue
            previous = found.get(name)
            found[name] = ConfigEntry(
                name, item.annotation,
                item.value if item.has_value else (previous.default if previous else None),
                previous.options if previous else [])
        for name, functions in cls.__dict__.get('_calculators', {}).items():
            for function in functions:
                if function.option_name not in found[name].options:
                    found[name].options.append(function.option_name)
    # A config declared without a value takes its first option, as labml computes it
    for entry in found.values():
        if entry.default is None and entry.options:
            entry.default = entry.options[0]
    return found


def _convert(entry: ConfigEntry, text: str) -> Union[int, float, str, bool]:
    """
    The value of `key=text` for this config, or `ConfigError`.
    """
    if entry.options:
        if text not in entry.options:
            raise ConfigError(f'{entry.name}={text}: {entry.name} is one of '
                              f'{", ".join(entry.options)}')
        return text
    if entry.annotation is bool:
        if text.lower() not in BOOLEANS:
            raise ConfigError(f'{entry.name}={text}: {entry.name} is true or false')
        return BOOLEANS[text.lower()]
    if entry.annotation in PARSERS:
        parse, description = PARSERS[entry.annotation]
        try:
            return parse(text)
        except ValueError:
            raise ConfigError(f'{entry.name}={text}: {entry.name} must be {description}, '
                              f'for example {entry.name}={entry.default}') from None
    raise ConfigError(f'{entry.name} can not be set from the command line')


def parse_arguments(configs_class: Type[BaseConfigs], arguments: List[str]) -> Dict[str, object]:
    """
    The overrides `{key: value}` given as `key=value` arguments; raises `ConfigError` for the first
    argument that can't be used, naming it and listing the valid configs.
    """
    known = entries(configs_class)
    listing = 'Valid configs: ' + ', '.join(known) + '. Run with --help to see their defaults.'
    overrides = {}
    for argument in arguments:
        key, equals, text = argument.partition('=')
        if not equals:
            raise ConfigError(f'"{argument}" is not of the form key=value. {listing}')
        if key not in known:
            raise ConfigError(f'Unknown config "{key}" in "{argument}". {listing}')
        if key in overrides:
            raise ConfigError(f'"{key}" is given twice. {listing}')
        try:
            overrides[key] = _convert(known[key], text)
        except ConfigError as error:
            raise ConfigError(f'{error}. {listing}') from None
    return overrides


def describe(configs_class: Type[BaseConfigs], usage: str) -> str:
    """
    The `--help` text: usage, then each config with its default and its type or options.
    """
    lines = [usage, '', 'Configs (set any of them as key=value):']
    for entry in entries(configs_class).values():
        kind = (' | '.join(entry.options) if entry.options
                else getattr(entry.annotation, '__name__', '?'))
        lines.append(f'  {entry.name}={entry.default}    [{kind}]')
    return '\n'.join(lines)
