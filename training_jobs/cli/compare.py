"""``compare``: every recipe within the 20 % split and leaving each project out."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from training_jobs.cli.options import output_dir_option, target_precision_option

DEFAULT_DATA = Path("../shared/data/jira/apache_bugs.csv.gz")
DEFAULT_OUTPUT_DIR = Path("docs/evaluation")


@click.command("compare")
@click.argument("data", type=click.Path(path_type=Path), default=DEFAULT_DATA, required=False)
@output_dir_option(DEFAULT_OUTPUT_DIR, "compare.md, compare.json and the reliability plots")
@click.option(
    "--seed",
    "seeds",
    type=click.IntRange(min=0),
    multiple=True,
    default=(1, 2, 3),
    show_default=True,
    help="a training seed (repeatable)",
)
@click.option("--recipe", multiple=True, help="only this recipe (repeatable; default: all)")
@click.option(
    "--threads", type=click.IntRange(min=1), default=2, show_default=True, help="fastText threads"
)
@target_precision_option("the training rows (cross-fitted by project)")
def command(
    data: Path,
    output_dir: Path,
    seeds: tuple[int, ...],
    recipe: tuple[str, ...],
    threads: int,
    target_precision: float,
) -> int:
    """Train and score the tutorial's settings, the previous default, the best recipe, a TF-IDF +
    logistic regression reference and the majority baseline, within the 20 % split and leaving
    each project out, on the same data (DATA, default ../shared/data/jira/apache_bugs.csv.gz)
    and seeds. Writes compare.json (every run), compare.md (the tables the README shows) and
    reliability plots to --output-dir."""
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "numpy", "fasttext", "sklearn", "scipy", "matplotlib")
    from training_jobs.console import say
    from training_jobs.evaluation import comparison
    from training_jobs.evaluation.reliability_plot import reliability_plot

    recipes = [r for r in comparison.RECIPES if not recipe or r.name in recipe]
    unknown = sorted(set(recipe) - {r.name for r in comparison.RECIPES})
    if unknown or not recipes:
        known = ", ".join(r.name for r in comparison.RECIPES)
        raise CommandError(f"no such recipe {', '.join(unknown)}; known: {known}", exit_code=2)
    started = time.perf_counter()
    runs = comparison.run_all(
        data,
        recipes,
        list(seeds),
        threads=threads,
        progress=say,
        target_precision=target_precision,
    )
    elapsed = time.perf_counter() - started
    summary = comparison.summarise(runs)
    output_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "data": str(data),
        "seeds": list(seeds),
        "threads": threads,
        "target_precision": target_precision,
        "seconds": round(elapsed, 1),
        "recipes": {r.name: r.description for r in recipes},
        "summary": summary,
        "runs": [run.as_dict() for run in runs],
    }
    (output_dir / "compare.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = comparison.markdown_table(summary)
    confidence = comparison.confidence_table(summary)
    urgency = comparison.urgency_table(summary)
    goals = comparison.goals_report(summary, target_precision)
    described = "\n".join(f"- **{r.name}**: {r.description}" for r in recipes)
    # the served (post-processed) recipe first: its ECE is the table's last column
    scored = sorted((r for r in recipes if r.kind != "majority"), key=lambda r: not r.postprocess)
    projects = comparison.per_project_table(
        [run.as_dict() for run in runs], [r.name for r in scored]
    )
    (output_dir / "compare.md").write_text(
        f"Macro-F1 etc.: mean of seeds {', '.join(map(str, seeds))} (range over seeds in "
        "brackets); LOPO: mean over the projects left out. Made by `make compare` in "
        f"{elapsed / 60:.1f} min.\n\n{table}\nUrgency (a priority above the default, Major): "
        f"ranking and calibration.\n\n{urgency}\nPromises (target precision "
        f"{target_precision:.0%}): the confident answers, the `set` and `keep` actions, how "
        "often right and what share of tickets; and the site's own promise (post-processing "
        "refitted on the older half of the held-out project, scored on its newer half)."
        f"\n\n{confidence}\n{goals}\nLeaving each project out (mean over seeds):\n\n"
        f"{projects}\n{described}\n",
        encoding="utf-8",
    )
    for scope, title in (("within", "20 % split"), ("lopo", "leave one project out, pooled")):
        curves = {}
        for chosen_recipe in recipes:
            if chosen_recipe.kind == "majority":
                continue
            chosen = [
                r for r in runs
                if r.recipe == chosen_recipe.name
                and (r.evaluation == "within" if scope == "within" else r.evaluation != "within")
            ]  # fmt: skip
            curves[chosen_recipe.name] = (
                [c for r in chosen for c in r.confidence],
                [c for r in chosen for c in r.correct],
            )
        reliability_plot(curves, f"Reliability, {title}", output_dir / f"reliability-{scope}.png")
    print(table)
    print(urgency)
    print(confidence)
    print(goals)
    say(f"wrote {output_dir / 'compare.md'}, compare.json and reliability-*.png in {elapsed:.0f} s")
    return 0
