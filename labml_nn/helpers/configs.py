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

and checks each against the class before any work starts: an unknown key, a value that is not
of the config's type or not one of its options, or outside the range the class declares for it,
stops the run with a message that names the key, the value and the valid ones. `--help` prints
every config with its default and its valid values.

### Declaring the valid values

A configs class declares the valid values of its configs in a dictionary `_valid`, beside the
configs, and a subclass inherits those of its bases:

```python
    _valid = {'epochs': Range(1), 'learning_rate': Range(0, above=True),
              'device': Check(device_problem)}
```

A [`Range`](#range) bounds a number (and refuses `nan` and `inf`); a [`Check`](#check) calls a
function that says what is wrong with a value, for what a range can't say, such as a folder that
must exist; a [`OneOf`](#oneof) lists the words a config may be, such as `precision`.

A config that an experiment computes for itself, by an `@option` function whose name starts with
`_` (the data on the device, the model as the steps call it), is not the user's: `--help` does
not list it, and the command line can't set it. labml leaves attributes whose name starts with `_` alone.
"""

import math
from typing import Callable, Dict, List, Optional, Type, Union

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


class Range:
    """
    ## Range

    The valid values of a number config: from `low` to `high`, each bound included unless
    `above` (for `low`) or `below` (for `high`) says it is excluded; `None` for no bound. A value
    that is `nan` or infinite is never in a range.
    """

    def __init__(self, low: Optional[float] = None, high: Optional[float] = None, *,
                 above: bool = False, below: bool = False):
        self.low, self.high, self.above, self.below = low, high, above, below

    def problem(self, value) -> Optional[str]:
        """
        What is wrong with `value`, as in `must be at least 1`, or `None` when it is in the range.
        """
        if isinstance(value, float) and not math.isfinite(value):
            return f'must be a finite number {self.text}'
        too_low = self.low is not None and (value <= self.low if self.above else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.below
                                              else value > self.high)
        return f'must be {self.text}' if too_low or too_high else None

    @property
    def text(self) -> str:
        """
        The range in words, such as `at least 0 and at most 4`, or `above 0`.
        """
        low = None if self.low is None else f'{"above" if self.above else "at least"} {self.low}'
        high = None if self.high is None else f'{"below" if self.below else "at most"} {self.high}'
        return ' and '.join(part for part in (low, high) if part)


class Check:
    """
    ## Check

    The valid values of a config, as a function that returns what is wrong with a value and what
    to do, in a sentence, or `None` when the value is valid. `text` is shown by `--help`.
    """

    def __init__(self, problem: Callable[[object], Optional[str]], text: str = ''):
        self.problem, self.text = problem, text


class OneOf:
    """
    ## OneOf

    The valid values of a config that is one of a few words, such as `precision`: `auto`,
    `fp32`, `tf32` or `bf16`. The config holds the word; the experiment reads it where it is
    used.
    """

    def __init__(self, *words: str):
        self.words = list(words)


class ConfigEntry:
    """
    One config: its name, type, default, the words it may be (the options offered by `@option`,
    or those of a `OneOf`) and its declared valid values (a `Range` or a `Check`, or `None`).
    """

    def __init__(self, name: str, annotation: type, default, options: List[str]):
        self.name, self.annotation, self.default, self.options = name, annotation, default, options
        self.valid: Optional[Union[Range, Check]] = None


def entries(configs_class: Type[BaseConfigs]) -> Dict[str, ConfigEntry]:
    """
    Every config of `configs_class` and its base classes that a user sets, in the order they are
    declared.

    labml keeps each annotated attribute as a config item (with `annotation` and `value`) in the
    class's `__dict__`, and the `@option` functions in `_calculators`. A config computed by a
    function whose name starts with `_`, and by no named option, is the experiment's own, such as
    the data on the device: it is neither listed nor set from the command line.
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
    # The experiment's own configs
    found = {name: entry for name, entry in found.items()
             if not (entry.options and all(option.startswith('_') for option in entry.options))}
    # The valid values each class declares, a subclass's over its bases'; the words of a `OneOf`
    # are its options
    for cls in reversed(configs_class.__mro__):
        for name, valid in cls.__dict__.get('_valid', {}).items():
            if isinstance(valid, OneOf):
                found[name].options = valid.words
            else:
                found[name].valid = valid
    # A config declared without a value takes its first option, as labml computes it
    for entry in found.values():
        if entry.default is None and entry.options:
            entry.default = entry.options[0]
    return found


def _check(entry: ConfigEntry, text: str, value: Union[int, float, str, bool]):
    """
    Raise `ConfigError` when `value`, given as `key=text`, is not among the config's declared
    valid values, saying why and what to do.
    """
    problem = entry.valid.problem(value) if entry.valid is not None else None
    if problem is None:
        return
    # A range says what the value must be; a check says all, what to do included
    if isinstance(entry.valid, Range):
        problem = (f'{entry.name} {problem}; give a value in this range, such as the default '
                   f'{entry.name}={entry.default}')
    # A sentence that begins with the key and value already says which value it is about
    if not problem.startswith(f'{entry.name}='):
        problem = f'{entry.name}={text}: {problem}'
    raise ConfigError(problem)


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
        _check(known[key], text, overrides[key])
    return overrides


def describe(configs_class: Type[BaseConfigs], usage: str) -> str:
    """
    The `--help` text: usage, then each config with its default, its type or options, and its
    valid values.
    """
    lines = [usage, '', 'Configs (set any of them as key=value):']
    for entry in entries(configs_class).values():
        kind = (' | '.join(entry.options) if entry.options
                else getattr(entry.annotation, '__name__', '?'))
        if entry.valid is not None and entry.valid.text:
            kind += f', {entry.valid.text}'
        lines.append(f'  {entry.name}={entry.default}    [{kind}]')
    return '\n'.join(lines)
