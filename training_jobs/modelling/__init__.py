"""Modelling: BlazingText hyperparameters, local training, post-processing, packaging."""
