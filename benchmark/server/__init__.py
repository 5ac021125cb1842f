"""``bench server``: the shared MLflow tracking server, with MLflow's basic-auth app (:mod:`.auth`) and its users
(:mod:`.users`)."""
