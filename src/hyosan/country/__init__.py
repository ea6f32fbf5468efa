"""The country model: the outbreak on a population lattice, with quarantine and the army."""
