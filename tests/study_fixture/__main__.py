from experiments import scaffold
from tests.study_fixture import STUDY

scaffold.main(STUDY)
