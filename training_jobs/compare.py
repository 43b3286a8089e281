"""``compare``: the tutorial's settings, the previous default, the best recipe, a TF-IDF +
logistic regression reference and the majority baseline, within the 20 % split and
leaving each project out, on the same data and seeds.

Writes ``compare.json`` (every run), ``compare.md`` (the tables the README shows) and
reliability plots to ``--output-dir``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from training_jobs.console import doc_summary, fail, say
from training_jobs.datasets import DatasetError

DEFAULT_DATA = Path("../shared/data/jira/apache_bugs.csv.gz")
DEFAULT_OUTPUT_DIR = Path("docs/evaluation")


def run(args: argparse.Namespace) -> int:
    from training_jobs.evaluation import comparison
    from training_jobs.evaluation.reliability_plot import reliability_plot

    if not args.seeds or any(seed < 0 for seed in args.seeds):
        return fail("compare", "give at least one seed, none negative", 2)
    recipes = [r for r in comparison.RECIPES if not args.recipe or r.name in args.recipe]
    if not recipes:
        known = ", ".join(r.name for r in comparison.RECIPES)
        return fail("compare", f"no such recipe; known: {known}", 2)
    started = time.perf_counter()
    try:
        runs = comparison.run_all(
            Path(args.data), recipes, args.seeds, threads=args.threads, progress=say
        )
    except DatasetError as exc:
        return fail("compare", str(exc))
    elapsed = time.perf_counter() - started
    summary = comparison.summarise(runs)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "data": str(args.data),
        "seeds": list(args.seeds),
        "threads": args.threads,
        "seconds": round(elapsed, 1),
        "recipes": {r.name: r.description for r in recipes},
        "summary": summary,
        "runs": [run.as_dict() for run in runs],
    }
    (output / "compare.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = comparison.markdown_table(summary)
    confidence = comparison.confidence_table(summary)
    described = "\n".join(f"- **{r.name}**: {r.description}" for r in recipes)
    # the served (post-processed) recipe first: its ECE is the table's last column
    scored = sorted((r for r in recipes if r.kind != "majority"), key=lambda r: not r.postprocess)
    projects = comparison.per_project_table(
        [run.as_dict() for run in runs], [r.name for r in scored]
    )
    (output / "compare.md").write_text(
        f"Macro-F1 etc.: mean of seeds {', '.join(map(str, args.seeds))} (range over seeds in "
        "brackets); LOPO: mean over the projects left out. Made by `make compare` in "
        f"{elapsed / 60:.1f} min.\n\n{table}\nConfidence flag (answers with "
        f"`confident: true`): how often right, and what share of tickets.\n\n{confidence}\n"
        f"Leaving each project out (mean over seeds):\n\n{projects}\n{described}\n",
        encoding="utf-8",
    )
    for scope, title in (("within", "20 % split"), ("lopo", "leave one project out, pooled")):
        curves = {}
        for recipe in recipes:
            if recipe.kind == "majority":
                continue
            chosen = [
                r for r in runs
                if r.recipe == recipe.name
                and (r.evaluation == "within" if scope == "within" else r.evaluation != "within")
            ]  # fmt: skip
            curves[recipe.name] = (
                [c for r in chosen for c in r.confidence],
                [c for r in chosen for c in r.correct],
            )
        reliability_plot(curves, f"Reliability, {title}", output / f"reliability-{scope}.png")
    print(table)
    print(confidence)
    say(f"wrote {output / 'compare.md'}, compare.json and reliability-*.png in {elapsed:.0f} s")
    return 0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "compare",
        help="train and score every recipe within the split and leaving each project out",
        description=doc_summary(__doc__),
    )
    parser.add_argument(
        "data", nargs="?", default=str(DEFAULT_DATA), help=f"tickets (default: {DEFAULT_DATA})"
    )
    parser.add_argument(
        "-o", "--output-dir", default=str(DEFAULT_OUTPUT_DIR),
        help=f"where compare.md, compare.json and the plots go (default: {DEFAULT_OUTPUT_DIR})",
    )  # fmt: skip
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2, 3], help="training seeds (default: 1 2 3)"
    )
    parser.add_argument(
        "--recipe", action="append", default=[],
        help="only this recipe (repeatable; default: all)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=2, help="fastText threads (default: 2)")
    parser.set_defaults(handler=run)
