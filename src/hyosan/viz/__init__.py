"""Pictures of a run: curves, floor snapshots, animations and the browser replay."""
