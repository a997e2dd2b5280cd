from experiments import scaffold
from experiments.losses import STUDY

scaffold.main(STUDY)
