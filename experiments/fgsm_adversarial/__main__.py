from experiments import scaffold
from experiments.fgsm_adversarial import STUDY

scaffold.main(STUDY)
