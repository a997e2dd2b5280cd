from experiments import scaffold
from experiments.architectures import STUDY

scaffold.main(STUDY)
