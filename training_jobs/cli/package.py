"""``package``: a locally trained model as the model.tar.gz a BlazingText endpoint loads."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_MODEL = Path("artifacts/model")
DEFAULT_OUTPUT = Path("build/model.tar.gz")


@click.command("package")
@click.option(
    "--model",
    type=click.Path(exists=True, path_type=Path),
    default=DEFAULT_MODEL,
    show_default=True,
    help="model directory or model.bin",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="archive to write",
)
@click.option(
    "--upload",
    metavar="S3_URI",
    help="also upload it there (s3://bucket/key, or a prefix ending in /)",
)
@click.option(
    "--region",
    envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
    show_envvar=True,
    help="AWS region for --upload",
)
def command(model: Path, output: Path, upload: str | None, region: str | None) -> int:
    """Pack model.bin and its sidecars (postprocessing.json) from a model directory (what
    train-local writes) as the model.tar.gz a BlazingText endpoint loads, optionally upload it
    to S3, and print its location: the --model-data-url of deploy, and the MODEL_URI that lets
    the Lambda in front of the endpoint read the post-processing. The model and its sidecars
    are checked as the service checks them at load; a link goes in as the file it points to."""
    from jira_priority.fasttext_format import ModelFormatError
    from jira_priority.model_files import ModelFileError
    from jira_priority.postprocessing import PostProcessingError
    from training_jobs.console import say
    from training_jobs.errors import CommandError
    from training_jobs.modelling.packaging import ARCHIVE_NAME, package_model

    try:
        members = package_model(model, output)
    except (ModelFileError, ModelFormatError, PostProcessingError) as exc:
        raise CommandError(str(exc)) from None
    say(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB): {', '.join(members)}")
    if not upload:
        print(output)
        return 0
    from training_jobs.sagemaker import aws

    bucket, key = aws.parse_s3_uri(upload)
    if not key or key.endswith("/"):
        key = f"{key}{ARCHIVE_NAME}"
    aws.Aws(aws.require_region(region)).s3.upload_file(str(output), bucket, key)
    uri = f"s3://{bucket}/{key}"
    say(f"uploaded -> {uri}; deploy it with `jira-priority deploy --model-data-url {uri}`")
    print(uri)
    return 0
