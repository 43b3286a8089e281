"""The model: BlazingText hyperparameters, local fastText training, the one model loader."""
