"""Gaussian-process Bayesian optimisation: the model, the acquisition, the searcher (private)."""
