from experiments import scaffold
from experiments.char_rnn import STUDY

scaffold.main(STUDY)
