"""Data: the IDX container, dataset specs and fetch routes, the training feed."""
