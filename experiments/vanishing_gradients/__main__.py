from experiments import scaffold
from experiments.vanishing_gradients import STUDY

scaffold.main(STUDY)
