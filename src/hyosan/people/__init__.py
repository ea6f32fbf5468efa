"""People who matter: the roster, relationships and the story of a run."""
