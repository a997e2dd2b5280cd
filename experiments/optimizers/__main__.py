from experiments import scaffold
from experiments.optimizers import STUDY

scaffold.main(STUDY)
