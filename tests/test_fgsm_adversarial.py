"""Integration test of experiments/fgsm_adversarial.py on its smallest setting."""
import json
import math

from experiments import fgsm_adversarial as study
from jaxdl.data import load_dataset
from jaxdl.optim import OptimConfig


def test_study_runs_and_writes_well_formed_outputs(tmp_path):
  data = load_dataset("synthetic", n_train=128, n_test=48, shape=(8, 8, 1))
  sgd = OptimConfig(name="momentum", lr=0.05)
  maxout = {"widths": (8,), "pieces": 2}
  families = (study.Family("softmax", "mlp", {"widths": ()}, sgd),
              study.Family("maxout", "maxout", maxout, sgd),
              study.Family("cnn", "cnn", {"conv_features": (4,), "dense_widths": ()}, sgd),
              study.Family("maxout_adv", "maxout", maxout, sgd, adversarial=True))
  settings = study.StudySettings(dataset="synthetic", train_size=0, eval_size=0, epochs=1, batch_size=32,
                                 seeds=(0, 1), families=families, eps_grid=(0.0, 0.25), pgd_steps=2,
                                 pgd_step_size=0.15, eval_chunk=48)
  result = study.run_study(settings, data=data, echo=lambda _: None)
  claims = study.write_report(result, str(tmp_path), echo=lambda _: None)

  names = [f.name for f in families]
  assert list(result["families"]) == names
  for rec in result["families"].values():
    for key in ("clean", "fgsm", "pgd"):
      assert len(rec[key]["error"]) == 2 and all(0.0 <= e <= 1.0 for e in rec[key]["error"])
    assert set(rec["sweep"]) == {"0", "0.25"}
    assert rec["sweep"]["0"] == rec["clean"]
  for src in names:
    assert list(result["transfer"][src]) == names
    assert all(len(v) == 2 and all(math.isnan(e) or 0 <= e <= 1 for e in v)
               for v in result["transfer"][src].values())
  assert {p["family"] for p in result["panda"]} == {"maxout", "maxout_adv"}
  for name in ("table.md", "table.csv", "results.json", "claims.json", "eps_sweep.png",
               "adversarial_panda.png"):
    assert (tmp_path / name).stat().st_size > 0, name
  table = (tmp_path / "table.md").read_text()
  assert "Transfer" in table and "maxout_adv" in table and "eps=0.25" in table
  saved = json.loads((tmp_path / "claims.json").read_text())
  assert len(saved) == len(claims) >= 4
  assert all(c["held"] in (True, False, None) and c["measured"] for c in saved)
