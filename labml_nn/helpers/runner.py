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

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Type

import torch
from labml import experiment, lab, logger

from labml_nn.helpers import checkpoint, distributed, run_log
from labml_nn.helpers.configs import ConfigError, describe, entries, parse_arguments
from labml_nn.helpers.mnist import MNISTDataError
from labml_nn.helpers.trainer import TrainValidConfigs, TrainingDiverged, run_epoch, train

# The errors that come from what the user gave, each with a message that says what to do
USER_ERRORS = (ConfigError, MNISTDataError, checkpoint.CheckpointError, TrainingDiverged,
               distributed.DistributedError)


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

    def evaluate(self, run: str) -> float:
        """
        Load a run's checkpoint and print its test accuracy, computed by the same validation step
        as during training. Nothing is recorded.
        """
        path = checkpoint.find(run, self.name)
        state = checkpoint.load(path, torch.device('cpu'))
        conf = self.configs()
        experiment.evaluate()
        experiment.configs(conf, state['overrides'])
        conf.model.load_state_dict(state['state']['model'])
        with torch.no_grad():
            metrics = run_epoch(conf, conf.valid_batches(), False, 'Test')
            finals = conf.final_tests()
        correct, total = round(metrics['accuracy'] * metrics['samples']), metrics['samples']
        logger.log(f'Test accuracy of {path}: {metrics["accuracy"]:.2%} '
                   f'({correct:,} of {total:,}), after {state["epoch"]} epochs')
        for key, value in finals.items():
            logger.log(f'{key}: {value:.2%}')
        return metrics['accuracy']

    def resumable(self, run: str) -> Tuple[Path, Optional[Dict[str, Any]]]:
        """
        The checkpoint of `run`, and its loaded state when the run can continue in its own folder
        (`None` when the run has finished). Raises `CheckpointError` for a copy of a run folder.
        """
        path = checkpoint.find(run, self.name)
        state = checkpoint.load(path, torch.device('cpu'))
        # labml writes a run to `logs/<name>/<uuid>/`: resuming a copy would write to the original
        home = lab.get_experiments_path() / self.name / path.parent.name
        if path.parent.resolve() != home.resolve() or path.name != checkpoint.FILE_NAME:
            raise checkpoint.CheckpointError(
                f'{path} is not the checkpoint of a run in its own folder: a resumed run is '
                f'written to {home}' + (', another run' if home.exists() else '') +
                '. Resume the run in its own folder (move this run folder to '
                f'{home.parent} if that is where it came from), or --evaluate it where it is.')
        epochs = state['overrides'].get('epochs', entries(self.configs)['epochs'].default)
        if state['epoch'] >= epochs or state.get('reached_goal', False):
            done = (f'reached its goal after {state["epoch"]} of its {epochs} epochs'
                    if state['epoch'] < epochs else f'has finished all its {epochs} epochs')
            logger.log(f'{path.parent} {done}: nothing to resume, nothing changed. '
                       f'--evaluate {path.parent.name} tests its checkpoint.')
            return path, None
        return path, state

    def train(self, overrides: Dict[str, Any], resume: Optional[str] = None,
              pause_after: float = 0.0) -> Path:
        """
        Train a new run with `overrides`, or continue the run `resume`, pausing it after
        `pause_after` seconds when above $0$. Returns the run's folder.
        """
        # A resumed run takes the configs it was started with, and writes to the same run folder.
        resume_from, uuid = None, None
        if resume is not None:
            path, resume_from = self.resumable(resume)
            if resume_from is None:
                return path.parent
            overrides = resume_from['overrides']
            uuid = path.parent.name
            if distributed.is_main():
                checkpoint.reopen(path.parent)
                run_log.agree(path.parent, resume_from['global_step'],
                              resume_from.get('records', []))

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
