"""``upload``: the prepared train/validation files into the channels ``train`` reads."""

from __future__ import annotations

from pathlib import Path

import click

from training_jobs.cli.options import aws_options


@click.command("upload")
@click.option(
    "--train",
    "train_file",
    required=True,
    type=click.Path(path_type=Path),
    help="prepared training file (e.g. train.txt)",
)
@click.option(
    "--validation",
    type=click.Path(path_type=Path),
    help="prepared validation file; tuning and early stopping need it",
)
@click.option("--force", is_flag=True, help="replace whatever the channel prefixes already hold")
@aws_options(bucket=True)
def command(
    train_file: Path,
    validation: Path | None,
    force: bool,
    region: str | None,
    bucket: str | None,
    prefix: str,
    dry_run: bool,
) -> int:
    """Upload the prepared BlazingText files (one `__label__N tokens...` line per ticket) to
    s3://BUCKET/PREFIX/data/train/ and .../data/validation/, the channels `train` and `tune`
    read by default. Prints each channel's S3 URI."""
    from training_jobs.console import say
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.upload import channel_uri, plan_uploads, run_uploads

    region = aws.require_region(region)
    bucket = aws.require_bucket(bucket)
    files = {"train": train_file}
    if validation:
        files["validation"] = validation
    uploads = plan_uploads(files, bucket, prefix)
    if dry_run:
        return aws.print_plan(upload.call() for upload in uploads)
    run_uploads(aws.Aws(region).s3, uploads, force=force)
    if "validation" not in files:
        say("no validation file: `tune` and early stopping need one (validation:accuracy)")
    for upload in uploads:
        print(f"{upload.channel}\t{channel_uri(bucket, prefix, upload.channel)}")
    return 0
