"""Imports every module that registers a labelled-data loader."""
