"""The one way the tools load a model: the Lambda's embedded predictor and its checked loader.

Loaded and verified at once (``EmbeddedPredictor.load``), so a missing or
damaged model fails before any data is read, with one line that says why.
A command that needs fastText's own model object (its label counts, every
label's probability) uses ``load_fasttext``: the same checks of the file and its
sidecars (``jira_priority.model_files.check_model``) and the same test
prediction, never ``fasttext.load_model`` on an unchecked file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training_jobs.errors import CommandError

if TYPE_CHECKING:
    from jira_priority.model_files import CheckedModel
    from jira_priority.predictors.embedded import EmbeddedPredictor


def load_model(model_uri: str) -> EmbeddedPredictor:
    """The embedded predictor of a model.bin/.ftz/model.tar.gz path or s3:// URI, loaded now."""
    from jira_priority.errors import ServiceError
    from jira_priority.predictors import embedded

    try:
        predictor = embedded.EmbeddedPredictor(model_uri)
        predictor.load()  # loads and verifies it: one line that says why if it cannot
    except embedded.ModelLoadError as exc:
        raise CommandError(str(exc)) from exc
    except ServiceError as exc:
        raise CommandError(f"cannot load the model {model_uri}: {exc.public_message}") from exc
    return predictor


def load_fasttext(
    model: Path, extract_dir: Path | None = None, *, with_postprocessing: bool = True
) -> tuple[Any, CheckedModel]:
    """fastText's model of a model file, its directory or its model.tar.gz, checked and
    verified as the embedded backend does, with what the check found (file, scheme, sidecars).

    An archive's model is extracted into ``extract_dir``; without one, into a
    temporary directory removed once fastText has read the file (then the returned
    path no longer exists). ``with_postprocessing=False`` leaves postprocessing.json
    unread (``calibrate`` replaces it). CommandError with one line if it cannot be loaded.
    """
    if extract_dir is None:
        with tempfile.TemporaryDirectory() as tmp:
            return load_fasttext(model, Path(tmp), with_postprocessing=with_postprocessing)
    from jira_priority.model_files import check_model
    from jira_priority.predictors import embedded

    try:
        checked = check_model(model, extract_dir, with_postprocessing=with_postprocessing)
        return embedded.load_checked(checked), checked
    except embedded.LOAD_ERRORS as exc:
        reason = embedded.describe_load_error(exc)
        raise CommandError(f"cannot load the model {model}: {reason}") from exc
