from experiments import scaffold
from experiments.visualize import STUDY

scaffold.main(STUDY)
