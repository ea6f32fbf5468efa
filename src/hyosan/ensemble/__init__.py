"""Many runs: sweeps, sensitivity analysis and what-if forks, locally or on a Dask cluster."""
