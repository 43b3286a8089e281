"""A class-balanced copy of a prepared file, for the validation channel ``tune`` reads.

SageMaker's tuning of BlazingText can only maximise ``validation:accuracy``,
which the always-Major answer wins on our data (69 %). On a file where every
priority has the same number of lines, accuracy *is* balanced accuracy (the
mean of per-class recall), which the always-Major answer scores 1/5 on. Each
priority's lines are repeated whole as often as they fit into the largest
priority's count, and the rest drawn without replacement (seeded), so the
counts are equal and every line counts once or twice at most as often as any
other of its class.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from training_jobs.data.readers import PreparedExample

BALANCED_FILE = "validation-balanced.txt"


def class_balanced(examples: Sequence[PreparedExample], seed: int = 42) -> list[PreparedExample]:
    """Every label's examples brought to the largest label's count, shuffled."""
    by_label: dict[str, list[PreparedExample]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    if not by_label:
        return []
    target = max(len(members) for members in by_label.values())
    rng = random.Random(seed)
    balanced: list[PreparedExample] = []
    for label in sorted(by_label):
        members = by_label[label]
        whole, rest = divmod(target, len(members))
        balanced.extend(members * whole)
        balanced.extend(rng.sample(members, rest))
    rng.shuffle(balanced)
    return balanced
