"""Business verbs of identity, one submodule per subject: orgs, users, roles, auth, tokens."""
