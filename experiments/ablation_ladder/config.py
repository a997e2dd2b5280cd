"""The ablation ladder's config: which ladder file, on which datasets, with how many seeds.

Variants: `smoke` (ladders/smoke.json: a tiny MLP, seconds; for tests), `quick`
(nielsen_ch6_quick.json: the book's rungs on 1500 MNIST images, a laptop CPU),
`cpu` (nielsen_ch6_cpu.json: the book's data split, a tenth of its SGD steps, a
CPU) and `full` (nielsen_ch6.json: the book's protocol, MNIST and
Fashion-MNIST, a GPU). The rungs live in the ladder file; `protocol` changes
its protocol (the rungs that set a key themselves keep theirs).
"""
import ml_collections
from ml_collections import config_dict

from experiments.configs import check_variant, train_section

LADDERS = {"smoke": "smoke.json", "quick": "nielsen_ch6_quick.json", "cpu": "nielsen_ch6_cpu.json",
           "full": "nielsen_ch6.json"}
# Protocol keys a run may change without editing the ladder file (--config.protocol.<key>=N).
PROTOCOL_KEYS = ("batch_size", "epochs", "val_size", "train_size", "val_subset", "test_subset")


def get_config(variant: str = "quick") -> ml_collections.ConfigDict:
  check_variant(variant, tuple(LADDERS))
  config = ml_collections.ConfigDict()
  config.ladder = LADDERS[variant]  # a file in experiments/ablation_ladder/ladders/, or a path
  # One dataset or several, comma-separated: one table column each.
  config.dataset = "mnist,fashion_mnist" if variant == "full" else "mnist"
  config.seeds = 0  # replicas per rung where the ladder's protocol gives them (0: the ladder's count)
  config.seed_offset = 0  # seeds seed_offset .. seed_offset + count - 1: another offset reruns on other seeds
  config.protocol = ml_collections.ConfigDict({k: config_dict.placeholder(int) for k in PROTOCOL_KEYS})
  # A rung "is" the book's number within this many binomial stds of the book's single-run
  # accuracy on its 10,000 test images (0.18 points at 99%), beyond the seed noise.
  config.tolerance_sigmas = 2.0
  # The engine's settings under every rung (data_dir, epoch_runner, ...); the ladder sets the rest.
  config.train = train_section()
  return config
