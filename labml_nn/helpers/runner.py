"""
---
title: Running an experiment
summary: >
  The command line every experiment shares - train, resume an interrupted run, evaluate a
  checkpoint, list the configs.
---

# Running an experiment

An experiment module describes itself as an [`Experiment`](#experiment): its configs class, the
name of its folder under `logs/`, and the command that starts it. This module gives every
experiment the same command line:

* `key=value ...` trains a new run with these [configs](configs.html), tracked with labml in
  `logs/<name>/<uuid>/`;
* `--resume RUN` continues an interrupted run from its last [checkpoint](checkpoint.html), in the
  same run folder, with the configs it was started with;
* `--evaluate RUN` prints the test accuracy of a run's checkpoint, and those of the experiment's
  final tests, if it has any;
* `--help` lists every config with its default;
* `--pause-after SECONDS`, with a new run or `--resume`, pauses training at the first checkpoint
  after that many seconds: a long run trained over several sittings, `--resume` continuing it
  each time. The learning-rate schedule spans the whole run, not each sitting.

Started by [`torchrun`](distributed.html), training runs on all its processes as one run,
written by rank 0; `--evaluate` runs on rank 0 alone.

`RUN` is a run UUID, a run folder or a checkpoint file. The command line is read in full before
any work, so a mistake stops the run before anything is written; a mistake of the user (a config,
the data, a checkpoint) ends with one line that says what to do, never a traceback.

A run is resumed only in its own folder, `logs/<name>/<uuid>/`, where labml writes it: a copy of a
run folder elsewhere is refused, since resuming it would overwrite the run it was copied from. A
finished run, or one that stopped at its goal, is left as it is. Before a run continues, its
`log.jsonl` is made to agree with its checkpoint: a kill between the two leaves one ahead of the
other.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

import torch
from labml import experiment, lab, logger

from labml_nn.helpers import checkpoint, distributed, resuming, run_log
from labml_nn.helpers.configs import ConfigError, describe, entries, parse_arguments
from labml_nn.helpers.mnist import MNISTDataError
from labml_nn.helpers.trainer import TrainValidConfigs, TrainingDiverged, run_epoch, train

# The errors that come from what the user gave, each with a message that says what to do
USER_ERRORS = (ConfigError, MNISTDataError, checkpoint.CheckpointError, TrainingDiverged,
               distributed.DistributedError, run_log.RunLogError)


@dataclass
class TrainedRun:
    """
    ## A trained run

    The configs of a run, set as it was started, with its checkpoint's weights in the model.
    """
    conf: TrainValidConfigs
    # The checkpoint file, in the run's folder
    checkpoint_path: Path
    # The checkpoint itself: `epoch`, `global_step`, `overrides`...
    state: Dict[str, Any]

    @property
    def folder(self) -> Path:
        return self.checkpoint_path.parent

    @property
    def model(self) -> torch.nn.Module:
        return self.conf.model

    @property
    def model_name(self) -> str:
        """
        `capsnet` or `baseline`, the `model` config the run was started with.
        """
        return self.state['overrides'].get('model', entries(type(self.conf))['model'].default)

    @property
    def described(self) -> str:
        """
        How long the run was trained: its epochs, or, from a checkpoint within an epoch, its
        training examples and the epoch they reached, of those the run was started for.
        """
        epochs = self.state['epoch']
        if self.state.get('epoch_batches', 0):
            return (f'{self.state["global_step"]:,} training examples, in epoch {epochs + 1} of '
                    f'{self.conf.epochs}')
        return f'{epochs} epoch' + ('' if epochs == 1 else 's')


@dataclass
class Experiment:
    """
    ## Experiment

    An experiment as its command line sees it.
    """
    # The configs class: its step returns an `accuracy`, and it has a `model` to evaluate
    configs: Type[TrainValidConfigs]
    # The folder of its runs under `logs/`
    name: str
    # The command that starts it, such as `python -m labml_nn.capsule_networks.mnist`
    command: str
    # What it does, in a sentence, for `--help`
    about: str

    def usage(self) -> str:
        """
        The usage line of `--help`.
        """
        indent = ' ' * len('usage: ')
        return (f'usage: {self.command} [--pause-after SECONDS] [key=value ...]\n'
                f'{indent}{self.command} --resume RUN [--pause-after SECONDS]\n'
                f'{indent}{self.command} --evaluate RUN\n\n'
                f'{self.about} Each run is tracked with labml in logs/{self.name}/<uuid>/.\n'
                'RUN is a run UUID, a run folder or a checkpoint file.\n'
                '  --resume RUN     continue RUN from its last checkpoint, in the same run\n'
                '                   folder, with the configs it was started with\n'
                "  --evaluate RUN   print the test accuracy of RUN's checkpoint\n"
                '  --pause-after SECONDS\n'
                '                   pause training at the first checkpoint after SECONDS;\n'
                '                   --resume continues it')

    def parse(self, arguments: List[str]) -> Tuple[str, Optional[str], Dict[str, Any], float]:
        """
        The mode (`train`, `resume`, `evaluate` or `help`), the run it names, the overrides, and
        the seconds after which to pause (`0` for none).
        """
        if '--help' in arguments or '-h' in arguments:
            return 'help', None, {}, 0.0
        arguments, pause_after = _pause_after(arguments)
        mode, run = 'train', None
        if arguments and arguments[0] in ('--resume', '--evaluate'):
            if len(arguments) < 2 or '=' in arguments[1]:
                raise ConfigError(f'{arguments[0]} needs a run: a run UUID, a run folder or a '
                                  'checkpoint file')
            mode, run, arguments = arguments[0][2:], arguments[1], arguments[2:]
        flags = [a for a in arguments if a.startswith('-')]
        if flags:
            raise ConfigError(f'Unknown option {flags[0]}. Run with --help for the usage.')
        if mode != 'train' and arguments:
            raise ConfigError(f'A run given to --{mode} keeps the configs it was started with; '
                              f'leave out {" ".join(arguments)}, or start a new run with them.')
        if mode == 'evaluate' and pause_after:
            raise ConfigError('--pause-after pauses training; --evaluate trains nothing. '
                              'Leave out --pause-after.')
        return mode, run, parse_arguments(self.configs, arguments), pause_after

    def load(self, run: str, model: Optional[str] = None, **settings) -> 'TrainedRun':
        """
        ## Loading a run

        The run `run` (a run UUID, a run folder or a checkpoint file) as it was started, with its
        checkpoint's weights in the model, in evaluation mode; `settings` change configs that
        leave the model as it is, such as `device='cpu'` or `valid_subset=1000`. Given a `model`,
        `capsnet` or `baseline`, a run of the other one is refused. The one way every script
        (`--evaluate`, the pictures) reads a trained run.
        """
        path = checkpoint.find(run, self.name)
        state = checkpoint.load(path, torch.device('cpu'))
        found = state['overrides'].get('model', entries(self.configs)['model'].default)
        if model is not None and found != model:
            raise checkpoint.CheckpointError(f'{path} is a run of model={found}, not '
                                             f'model={model}: give a run of model={model}')
        conf = self.configs()
        for key, value in {**state['overrides'], **settings}.items():
            setattr(conf, key, value)
        conf.model.load_state_dict(state['state']['model'])
        conf.model.eval()
        return TrainedRun(conf, path, state)

    def evaluate(self, run: str) -> float:
        """
        Load a run's checkpoint and print its test accuracy, computed by the same validation step
        as during training. Nothing is recorded.
        """
        experiment.evaluate()
        trained = self.load(run)
        with torch.no_grad():
            metrics = run_epoch(trained.conf, trained.conf.valid_batches(), False, 'Test')
            finals = trained.conf.final_tests()
        correct, total = round(metrics['accuracy'] * metrics['samples']), metrics['samples']
        logger.log(f'Test accuracy of {trained.checkpoint_path}: {metrics["accuracy"]:.2%} '
                   f'({correct:,} of {total:,}), after {trained.described}')
        for key, value in finals.items():
            logger.log(f'{key}: {value:.2%}')
        return metrics['accuracy']

    def train(self, overrides: Dict[str, Any], resume: Optional[str] = None,
              pause_after: float = 0.0) -> Path:
        """
        Train a new run with `overrides`, or continue the run `resume`, pausing it after
        `pause_after` seconds when above $0$. Returns the run's folder.
        """
        # A resumed run takes the configs it was started with, and writes to the same run folder.
        resume_from, uuid = None, None
        if resume is not None:
            path, resume_from = resuming.prepare(resume, self.name, self.configs)
            if resume_from is None:
                return path.parent
            overrides = resume_from['overrides']
            uuid = path.parent.name

        conf = self.configs()
        # Under torchrun, rank 0 records the run, and the other ranks record nothing
        if distributed.is_main():
            experiment.create(uuid=uuid, name=self.name, writers={'screen', 'file'})
        else:
            experiment.evaluate()
        experiment.configs(conf, overrides)
        # The data is checked and loaded (making the batches loads it), and the objects with state
        # are made, before the run starts: a missing or corrupt file, or configs that can't go
        # together, stop it here, before anything is written.
        conf.train_batches(), conf.valid_batches(), conf.stateful()
        run_path = lab.get_experiments_path() / self.name / experiment.get_uuid()
        finished = train(conf, run_path, overrides, resume_from, pause_after)
        if not finished:
            logger.log(f'Paused after --pause-after {pause_after:g} s; continue with --resume '
                       f'{experiment.get_uuid()}')
        elif distributed.is_main():
            conf.save_results(run_path)
        return run_path

    def main(self, arguments: List[str]):
        """
        Run the command line `arguments`. Returns the run's folder after training, the accuracy
        after `--evaluate`, and nothing after `--help`.
        """
        mode, run, overrides, pause_after = self.parse(arguments)
        if mode == 'help':
            print(describe(self.configs, self.usage()))
            return None
        if mode == 'evaluate':
            # Under torchrun, on rank 0 alone
            return self.evaluate(run) if distributed.launched_rank() == 0 else None
        distributed.init()
        try:
            with distributed.quiet():
                return self.train(overrides, run if mode == 'resume' else None, pause_after)
        finally:
            distributed.close()

    def run(self, arguments: List[str]):
        """
        `main`, for `if __name__ == '__main__'`: a mistake of the user ends the process with its
        message. Under `torchrun` the process ends here, at once (`distributed.leave` says why).
        """
        try:
            self.main(arguments)
        except USER_ERRORS as error:
            distributed.leave(f'error: {error}')
        distributed.leave()


def _pause_after(arguments: List[str]) -> Tuple[List[str], float]:
    """
    The arguments without `--pause-after SECONDS`, and its seconds (`0` when it is not given).
    """
    if '--pause-after' not in arguments:
        return arguments, 0.0
    at = arguments.index('--pause-after')
    given = arguments[at + 1] if at + 1 < len(arguments) else None
    try:
        seconds = float(given)
    except (TypeError, ValueError):
        seconds = -1.0
    if not (0 < seconds < float('inf')):
        raise ConfigError(f'--pause-after needs a number of seconds above 0, such as '
                          f'--pause-after 3600; got {given!r}' if given is not None else
                          '--pause-after needs a number of seconds, such as --pause-after 3600')
    return arguments[:at] + arguments[at + 2:], seconds


def positive(text: str) -> int:
    """
    A whole number above $0$, for an `argparse` option such as `--test-subset`.
    """
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f'takes a whole number above 0, not {text!r}')
    return int(text)


def run_command(main: Callable[[List[str]], Any], arguments: List[str]):
    """
    `main(arguments)` of a script that reads runs, such as
    [the pictures](../capsule_networks/figures.html), for `if __name__ == '__main__'`: a mistake
    of the user ends the process with its message, never a traceback. A mistake in the command
    line itself is `argparse`'s to report.
    """
    try:
        main(arguments)
    except USER_ERRORS as error:
        sys.exit(f'error: {error}')
