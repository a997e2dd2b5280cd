from experiments import scaffold
from experiments.ablation_ladder import STUDY

scaffold.main(STUDY)
