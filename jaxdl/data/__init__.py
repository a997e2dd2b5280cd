"""The data layer: verified datasets by name, and on-device batching and augmentation.

`load_dataset("mnist", val_size=10000)` reads checksum-verified files (see
`locate` for where it looks); `mnist1d` and `synthetic` are generated. Batch
order comes from `epoch_permutation(key, epoch, n)`, a function of (key, epoch)
only, so resumed runs see the same batches.
"""
from jaxdl.data import generated, mnist, text  # noqa: F401  (registers the datasets)
from jaxdl.data.augment import expand_by_shifts, gaussian_noise, random_shift
from jaxdl.data.batching import batch_indices, epoch_permutation, steps_per_epoch
from jaxdl.data.dataset import DATASETS, Dataset, dataset_names, load_dataset
from jaxdl.data.errors import DataFileError

__all__ = [
    "DATASETS", "DataFileError", "Dataset", "batch_indices", "dataset_names",
    "epoch_permutation", "expand_by_shifts", "gaussian_noise", "load_dataset",
    "random_shift", "steps_per_epoch",
]
