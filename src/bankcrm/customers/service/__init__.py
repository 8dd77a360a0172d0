"""Business verbs of the customers module, one submodule per subject."""
