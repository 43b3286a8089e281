"""The model: BlazingText hyperparameters and local fastText training."""
