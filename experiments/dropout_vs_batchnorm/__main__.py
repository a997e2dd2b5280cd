from experiments import scaffold
from experiments.dropout_vs_batchnorm import STUDY

scaffold.main(STUDY)
