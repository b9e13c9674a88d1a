"""The provincial tier: a province's registry and its link to the national node."""
