"""
---
title: The benchmark against labml-nn 0.5.1
summary: This project's CapsNet against labml-nn 0.5.1's: speed, memory and time to accuracy.
---

# The benchmark against labml-nn 0.5.1

How fast does this tutorial's capsule network train, next to the one it grew from, the
capsule network of the Python package labml-nn, version 0.5.1?
`python -m bench.run` answers on the machine at hand: it trains both, in separate processes on the
same device, and prints one table and the ratios ours/anchor.

* [`run.py`](run.html), the harness: starts both runners, prints the table.
* [`measure.py`](measure.html), what both runners share: the command line, the timing, what is
  read back from the run, the peak memory and the time-to-accuracy bookkeeping.
* [`anchor.py`](anchor.html), the *anchor*: labml-nn 0.5.1's model, trained the way its
  experiment does.
* [`ours.py`](ours.html), the runner for this project's model, with the same command line and
  output.
* [`experiment_log.py`](experiment_log.html), the time to accuracy of a run of the experiment
  itself.
* `gpu.sh`, the one script to run on a GPU machine without internet access, made of capped steps
  (`steps.sh`), installing what it lacks from a bundle of wheels (`bundle.sh`).

## The runner contract

A runner is a script, `bench/anchor.py` or `bench/ours.py`, started as
`python bench/<runner>.py --mode throughput|accuracy [options]` in its own process.
The harness sets `PYTHONPATH` so that `import labml_nn` finds the right package: the folder holding
labml-nn 0.5.1 for the anchor, the project's root for ours. This is why a runner is started as a
script and not with `python -m`, which would put the current folder first on the path.

Options (every runner accepts all of them):

| option | meaning | default |
|---|---|---|
| `--mode` | `throughput` or `accuracy` | required |
| `--device` | `auto` (CUDA when available), `cpu` or `cuda` | `auto` |
| `--data` | the folder holding `MNIST/raw/` with the four original files | `data` |
| `--batch-size` | training batch size | the runner's own |
| `--precision` | `fp32`, `tf32`, or another the runner knows (`bf16`, `auto`) | the runner's |
| `--warmup-steps`, `--steps` | throughput: untimed, then timed training steps | 5, 50 |
| `--epochs`, `--max-seconds` | accuracy: stop after these epochs or training seconds | 10, none |
| `--eval-every-steps` | accuracy: also evaluate every this many steps (0: at epoch ends only) | 0 |
| `--train-images`, `--test-images` | use only the first this many images (tiny runs) | all |
| `--seed` | seed of the model's initialisation and of the shuffling | 0 |

`fp32` means true 32-bit floats: on a GPU, TF32 is off for the matrix products and for cuDNN's
convolutions, though PyTorch lets cuDNN use it by default. `tf32` turns both on.

A runner writes its progress to standard error, and, as the last line of standard output, one JSON
object:

| key | value |
|---|---|
| `name` | who was trained, e.g. `labml-nn 0.5.1` |
| `mode` | `throughput` or `accuracy` |
| `device`, `device_name` | `cpu` or `cuda`, and the processor or GPU's name |
| `threads` | torch's intra-op threads |
| `batch_size` | as trained |
| `precision` | read back at each call of the model: `fp32`, `tf32`, `bf16`, ... |
| `compiled` | whether `torch.compile` compiled a graph in the runner's process |
| `images_per_second` | training images per second (steps and data loading; evaluation excluded) |
| `train_images`, `train_seconds` | the images and the seconds that rate is measured over |
| `steps`, `model_calls` | the training steps, and the model's calls (throughput: timed steps only) |
| `parameters_changed` | the fraction of the model's parameter tensors that training changed |
| `losses` | the loss of each timed step (`null` in accuracy mode) |
| `peak_memory_mb`, `memory_kind` | `cuda_max_allocated` (GPU) or `cpu_peak_rss` (peak resident set) |
| `time_to_accuracy` | `{"99.0": s, ..., "99.7": s}`: training seconds to each, `null` if not reached |
| `best_accuracy` | best test accuracy in percent (`null` in throughput mode) |
| `accuracy_history` | `[[train_seconds, accuracy], ...]`, one pair per evaluation |
| `epochs` | epochs trained, a fraction where a run stopped within an epoch |
| `torch` | torch's version |
| `notes` | sentences on how the runner departs from the original, and what else to know |

`measure.main` does all of this for a runner that provides a few methods; see
[`measure.py`](measure.html).
"""
