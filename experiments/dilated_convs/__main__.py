from experiments import scaffold
from experiments.dilated_convs import STUDY

scaffold.main(STUDY)
