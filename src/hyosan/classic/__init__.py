"""Classic zombie models: Munz et al. 2009 ODEs, Alemi et al. 2015 mean field, exact stochastic simulation, lattice."""
