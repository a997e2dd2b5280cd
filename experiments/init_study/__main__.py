from experiments import scaffold
from experiments.init_study import STUDY

scaffold.main(STUDY)
