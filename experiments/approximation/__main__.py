from experiments import scaffold
from experiments.approximation import STUDY

scaffold.main(STUDY)
