"""Synthetic tasks built for one study (the adding problem, ...), not registered datasets."""
