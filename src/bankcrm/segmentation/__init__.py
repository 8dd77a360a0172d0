"""Segmentation, profiling and customer value: features, tags, segments, value models, tiers."""
