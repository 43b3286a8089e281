"""The plots are real PNGs of the documented size, drawn from the metrics."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from matplotlib import image as mpimg
from training_jobs.evaluation.metrics import compute_metrics
from training_jobs.evaluation.plots import FIGURE_PIXELS, row_normalised, write_plots

from jira_priority.labels import Priority

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAJ, MIN, BLO = Priority.MAJOR, Priority.MINOR, Priority.BLOCKER


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    assert data[:8] == PNG_MAGIC
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def plots(tmp_path_factory):
    metrics = compute_metrics([MAJ, MAJ, MAJ, MIN, BLO], [(MAJ,), (MIN,), (MAJ,), (MIN,), (MAJ,)])
    return write_plots(metrics, tmp_path_factory.mktemp("plots"), "unit test")


def test_three_plots_are_written_with_fixed_names(plots):
    assert {kind: path.name for kind, path in plots.items()} == {
        "confusion_counts": "confusion_counts.png",
        "confusion_normalised": "confusion_normalised.png",
        "per_class": "per_class.png",
    }


@pytest.mark.parametrize("kind", ["confusion_counts", "confusion_normalised", "per_class"])
def test_each_plot_is_a_png_of_the_documented_pixel_size(plots, kind):
    assert png_size(plots[kind].read_bytes()) == FIGURE_PIXELS == (800, 650)


@pytest.mark.parametrize("kind", ["confusion_counts", "confusion_normalised", "per_class"])
def test_each_plot_decodes_to_a_drawn_image(plots, kind):
    pixels = mpimg.imread(plots[kind])

    assert pixels.shape[:2] == (650, 800)
    rgba = (pixels * 255).astype(np.uint32).reshape(-1, pixels.shape[-1])
    packed = (rgba[:, 0] << 16) | (rgba[:, 1] << 8) | rgba[:, 2]
    assert len(np.unique(packed)) > 50  # text, axes and cells, not a blank canvas


def test_normalised_heatmap_greys_out_classes_absent_from_the_data(plots):
    pixels = mpimg.imread(plots["confusion_normalised"])[:, :, :3]
    grey = np.array([0xDD, 0xDD, 0xDD]) / 255

    grey_share = np.mean(np.all(np.abs(pixels - grey) < 0.01, axis=-1))
    # Optional, Trivial and Critical rows (3 of 6) are grey: a large part of the image.
    assert grey_share > 0.15


def test_counts_heatmap_has_no_grey_cells(plots):
    pixels = mpimg.imread(plots["confusion_counts"])[:, :, :3]
    grey = np.array([0xDD, 0xDD, 0xDD]) / 255

    assert np.mean(np.all(np.abs(pixels - grey) < 0.01, axis=-1)) < 0.01


def test_row_normalised_divides_each_row_and_leaves_empty_rows_undefined():
    counts = np.array([[1, 3], [0, 0]], dtype=np.int64)

    result = row_normalised(counts)

    assert result[0].tolist() == [0.25, 0.75]
    assert all(math.isnan(v) for v in result[1])
