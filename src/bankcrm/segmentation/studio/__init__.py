"""The model studio: propensity models trained, described by a model card, activated and scored."""
