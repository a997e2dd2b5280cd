"""The study's report, from the cell records alone: tables, verdicts and four figures."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from ml_collections import ConfigDict

from experiments.approximation import claims
from experiments.approximation.cells import deep_shapes, shape_name
from experiments.approximation.xor import GRID_LIMITS
from jaxdl import approximation as approx
from jaxdl.report import plots
from jaxdl.report.tables import Table, mean_std_text
from jaxdl.study import CellRecord, Report


def report(config: ConfigDict, records: Mapping[str, CellRecord], out: Report) -> None:
  results = {name: record.results for name, record in records.items()}
  exact, linear = results["xor_exact"], results["xor_linear"]
  starts = [results[f"xor_relu_w{n}"] for n in config.xor.widths]
  sweep = [results[f"width_w{n}"] for n in config.widths.widths]
  constructions = results["sawtooth_constructions"]
  pairs = [results[shape_name(deep)] for deep in deep_shapes(config)]
  optim = f"{config.optim.name} lr {config.optim.lr:g}, {config.optim.schedule} schedule, full batch"
  out.table("XOR: exact answers and the trained linear model", *xor_table(exact, linear))
  out.table(f"XOR: random starts of one hidden ReLU layer ({config.xor.steps} steps, {optim}; solved: all four "
            f"outputs within {config.xor.success_tol:g} of the targets)", *starts_table(starts))
  targets = list(config.widths.targets)
  out.table(f"One hidden layer: log10 MSE on [0, 1] by width ({config.widths.steps} steps, {optim}; sawtooth "
            f"k={config.widths.sawtooth_k}; mean ± std over seeds)", *width_table(sweep, targets))
  out.table("Sawtooth: exact constructions (Telgarsky 2016)", *construction_table(constructions["rows"]))
  out.table(f"Sawtooth k={config.sawtooth.k}: deep vs one hidden layer at equal parameters ({config.sawtooth.steps} "
            f"steps; MSE mean ± std over seeds; bound: a lower bound on the MSE of any net of that many units)",
            *depth_table(pairs))
  out.claims(claims.xor_claims(exact, linear, starts) + claims.width_claims(sweep, targets)
             + claims.sawtooth_claims(constructions, pairs))
  out.figure("xor_regions.png", plot_xor_regions, exact, linear, starts[0])
  out.figure("fits.png", plot_fits, sweep, targets, config.widths.sawtooth_k, config.widths.eval_level)
  out.figure("error_vs_width.png", plot_error_vs_width, sweep, targets)
  out.figure("sawtooth_depth.png", plot_sawtooth_depth, constructions, pairs, config.sawtooth.eval_level)


def _fraction(starts: dict[str, Any]) -> str:
  p, n = starts["fraction"], starts["starts"]
  return f"{100 * p:.1f} ± {100 * claims.binomial_se(p, n):.1f}"


def _log_mse(values: Sequence[float]) -> str:
  return mean_std_text(claims.log_mse(values), digits=2)


def _mse(values: Sequence[float]) -> str:
  values = np.asarray(values, float)
  return f"{values.mean():.2e} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.1e}"


def _vec(values: Sequence[float], digits: int = 3) -> str:
  return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


def xor_table(exact: dict[str, Any], linear: dict[str, Any]) -> Table:
  header = ["model", "w", "b", "outputs on (0,0), (0,1), (1,0), (1,1)", "loss (mean half squared error)"]
  ls, book = exact["least_squares"], exact["book_net"]
  body = [["linear, least squares (closed form)", _vec(ls["w"], 6), f"{ls['b']:.6f}", _vec(ls["outputs"]),
           f"{ls['loss']:.4f}"]]
  body += [[f"linear, trained (seed {r['seed']})", _vec(r["w"], 4), f"{r['b']:.4f}", _vec(r["outputs"]),
            f"{r['loss']:.4f}"] for r in linear["replicas"]]
  body.append(["ReLU net, the book's weights", "W = [[1,1],[1,1]], c = [0,-1], w = [1,-2]", "0",
               _vec(book["outputs"], 1), f"{book['loss']:g}"])
  return header, body


def starts_table(starts: Sequence[dict[str, Any]]) -> Table:
  header = ["hidden units", "starts", "solved (%) ± binomial SE", "per group of starts (%)"]
  body = [[s["width"], s["starts"], _fraction(s), mean_std_text(s["group_fractions"], scale=100, digits=1)]
          for s in starts]
  return header, body


def width_table(sweep: Sequence[dict[str, Any]], targets: Sequence[str]) -> Table:
  header = ["hidden units", "params", *targets]
  body = [[s["width"], s["params"], *(_log_mse(s["targets"][t]["mse"]) for t in targets)]
          for s in sweep]
  return header, body


def construction_table(rows: Sequence[dict[str, Any]]) -> Table:
  header = ["k", "pieces 2^k", "deep units (2k)", "deep params", "deep max error", "shallow units needed (2^k - 1)",
            "shallow construction units", "shallow params", "shallow max error"]
  body = [[r["k"], r["pieces"], r["deep_units"], r["deep_params"], f"{r['deep_max_error']:.1e}",
           r["shallow_units_needed"], r["shallow_units"], r["shallow_params"], f"{r['shallow_max_error']:.1e}"]
          for r in rows]
  return header, body


def depth_table(pairs: Sequence[dict[str, Any]]) -> Table:
  header = ["deep net (units x layers)", "deep params", "deep MSE", "shallow units", "shallow params",
            "shallow MSE", "shallow bound"]
  body = [[f"{p['deep']['widths'][0]}x{len(p['deep']['widths'])}", p["deep"]["params"],
           _mse(p["deep"]["mse"]), p["shallow"]["units"], p["shallow"]["params"],
           _mse(p["shallow"]["mse"]), f"{p['shallow']['bound']:.4f}"] for p in pairs]
  return header, body


def _region_panel(ax, region: Sequence[Sequence[float]], title: str):
  im = ax.imshow(np.asarray(region), origin="lower", extent=(*GRID_LIMITS, *GRID_LIMITS), vmin=-0.5, vmax=1.5,
                 cmap="coolwarm")
  axis = np.linspace(*GRID_LIMITS, len(region))
  values = np.asarray(region)
  if values.max() - values.min() > 1e-3:  # a (nearly) constant output has no decision boundary
    ax.contour(axis, axis, values, levels=[0.5], colors="k", linewidths=1.5)
  for (x1, x2), y in zip(approx.XOR_INPUTS, approx.XOR_TARGETS):
    ax.scatter(x1, x2, s=90, c="white" if y else "black", edgecolors="k", zorder=3)
  ax.set_xlabel("x1")
  ax.set_ylabel("x2")
  ax.set_title(title, fontsize=10)
  plots.image_axes(ax)
  return im


def plot_xor_regions(path: str, exact: dict[str, Any], linear: dict[str, Any], starts: dict[str, Any]) -> None:
  """Outputs over the plane (colour), the 0.5 level (black) and the four points (white: target 1)."""
  panels = [(linear["region"], "linear model, trained: 1/2 everywhere\n(no decision boundary)"),
            (exact["book_net"]["region"], "ReLU net, the book's weights\n(0.5 level in black)")]
  for key, word in (("solved_region", "solved"), ("failed_region", "failed")):
    if key in starts:
      panels.append((starts[key]["region"], f"{starts['width']} ReLU units, trained, seed {starts[key]['seed']}: "
                     f"{word}"))
  fig, axes = plots.plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 4))
  fig.subplots_adjust(wspace=0.35)
  for ax, (region, title) in zip(axes, panels):
    im = _region_panel(ax, region, title)
  fig.colorbar(im, ax=list(axes), label="network output", shrink=0.85)
  plots.save(fig, path, outside_legends=True)


def plot_fits(path: str, sweep: Sequence[dict[str, Any]], targets: Sequence[str], sawtooth_k: int,
              eval_level: int) -> None:
  """Per target: the target (black) and the first seed's fit at up to four widths."""
  x = approx.dyadic_grid(eval_level)[:, 0]
  shown = [sweep[i] for i in sorted({0, len(sweep) // 3, 2 * len(sweep) // 3, len(sweep) - 1})]
  fig, axes = plots.plt.subplots(1, len(targets), figsize=(4.8 * len(targets), 3.8))
  for ax, target in zip(np.atleast_1d(axes), targets):
    ax.plot(x, approx.target_function(target, sawtooth_k)(x.astype(np.float64)), "k", lw=2.5, label="target")
    for s in shown:
      ax.plot(x, s["targets"][target]["outputs"], lw=1.2, label=f"{s['width']} unit{'s' * (s['width'] > 1)}")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    name = {"sawtooth": f"sawtooth (k={sawtooth_k}, {2 ** sawtooth_k} pieces)", "smooth": "sine"}.get(target, target)
    ax.set_title(f"One hidden layer fitted to the {name} (first seed)", fontsize=10)
  plots.outside_legend(np.atleast_1d(axes)[-1], fontsize=7)  # the same widths in every panel; fits fill each
  plots.save(fig, path, outside_legends=True)


def plot_error_vs_width(path: str, sweep: Sequence[dict[str, Any]], targets: Sequence[str]) -> None:
  """MSE against width (log-log): each seed a dot, the geometric mean a line."""
  fig, ax = plots.plt.subplots(figsize=(6, 4.2))
  widths = np.array([s["width"] for s in sweep])
  for target in targets:
    mse = np.array([np.maximum(s["targets"][target]["mse"], claims.LOG_FLOOR) for s in sweep])  # [widths, seeds]
    line, = ax.plot(widths, np.exp(np.log(mse).mean(axis=1)), marker="o", label=target)
    ax.scatter(np.repeat(widths, mse.shape[1]), mse.ravel(), s=8, alpha=0.4, color=line.get_color())
  ax.set_xscale("log", base=2)
  ax.set_yscale("log")
  ax.set_xlabel("hidden units (one hidden layer)")
  ax.set_ylabel("mean squared error on [0, 1]")
  ax.set_title("Error against width: one hidden ReLU layer")
  ax.legend()
  plots.save(fig, path)


def plot_sawtooth_depth(path: str, constructions: dict[str, Any], pairs: Sequence[dict[str, Any]],
                        eval_level: int) -> None:
  """Left: MSE against parameters, trained deep and shallow nets, constructed shallow nets and the
  shallow lower bound, the exact constructions at the bottom. Right: fits at the largest budget."""
  k = constructions["k"]
  fig, (ax, fit_ax) = plots.plt.subplots(1, 2, figsize=(12, 5))
  built = constructions["constructed_shallow"]
  floor = 1e-7
  ax.plot([p["params"] for p in built], [p["mse"] for p in built], color="tab:gray",
          label="one layer, constructed (kinks + least squares)")
  ax.plot([p["params"] for p in built if p["bound"] > 0], [p["bound"] for p in built if p["bound"] > 0], "k--",
          label="one layer: lower bound (any weights)")
  for role, color, marker in (("shallow", "tab:blue", "s"), ("deep", "tab:red", "o")):
    params = np.array([p[role]["params"] for p in pairs])
    mse = np.array([np.maximum(p[role]["mse"], floor) for p in pairs])
    ax.scatter(np.repeat(params, mse.shape[1]), mse.ravel(), color=color, marker=marker, s=18, alpha=0.6,
               label=f"{'one layer' if role == 'shallow' else 'deep'}, trained (each seed)")
  row = next(r for r in constructions["rows"] if r["k"] == k)
  ax.scatter([row["deep_params"]], [floor], color="tab:red", marker="*", s=200,
             label=f"deep construction, exact ({row['deep_params']} params)")
  ax.scatter([row["shallow_params"]], [floor], color="tab:blue", marker="*", s=200,
             label=f"one-layer construction, exact ({row['shallow_params']} params)")
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("parameters")
  ax.set_ylabel(f"mean squared error (exact: plotted at {floor:g})")
  ax.set_title(f"Sawtooth with {2 ** k} pieces: deep vs one hidden layer", fontsize=10)
  ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
  x = approx.dyadic_grid(eval_level)[:, 0]
  last = pairs[-1]
  fit_ax.plot(x, approx.sawtooth(x.astype(np.float64), k), "k", lw=2.5, label="target")
  for role, color in (("deep", "tab:red"), ("shallow", "tab:blue")):
    net = last[role]
    shape = f"{net['widths'][0]}x{len(net['widths'])}" if role == "deep" else f"{net['units']} units"
    fit_ax.plot(x, net["outputs"], color=color, lw=1.2, label=f"{role} ({shape}, {net['params']} params), first seed")
  fit_ax.set_xlabel("x")
  fit_ax.set_ylabel("f(x)")
  fit_ax.set_title("Trained fits at the largest budget", fontsize=10)
  fit_ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
  fig.tight_layout()
  plots.save(fig, path, outside_legends=True)
