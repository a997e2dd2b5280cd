"""Experiments: one package per study (its config variants, cells, claims and report), the main job, the report."""

# Every study (`python -m experiments.<name>`), in the order the main job runs them and the
# report shows them.
STUDIES = ("init_study", "vanishing_gradients", "dropout_vs_batchnorm", "ablation_ladder", "fgsm_adversarial",
           "dilated_convs", "optimizers", "approximation", "losses", "char_rnn", "architectures", "visualize")
