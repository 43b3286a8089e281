"""boto3: clients, job states and waiting, dry-run plans, and the SageMaker actions."""
