"""People who matter: the roster (named and generated people, their ties) and the story of a run.

`hyosan.people.roster` builds who is in a run (`build_roster`), `hyosan.people.names` draws names for
generated people, `hyosan.people.story` tells a run's story (`write_story`, `person_story`). Nothing is
imported here so that `hyosan --help` stays fast.
"""
