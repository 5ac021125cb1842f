"""Opening the study database when several machines start at once."""

from __future__ import annotations

import pytest

from benchmark.params import ParamError
from benchmark.tuning import study


def test_a_schema_race_on_a_server_database_is_retried(monkeypatch):
    calls = []

    def racing(url):
        calls.append(url)
        if len(calls) < 3:
            raise study.SchemaRace("duplicate key value violates unique constraint")
        return "storage"

    monkeypatch.setattr(study, "_make_storage", racing)
    monkeypatch.setattr(study.time, "sleep", lambda s: None)
    assert study.make_storage("postgresql://u:p@127.0.0.1:1/optuna") == "storage"
    assert len(calls) == 3


def test_a_race_that_never_ends_is_one_clear_error(monkeypatch):
    def always(url):
        raise study.SchemaRace("duplicate key")

    monkeypatch.setattr(study, "_make_storage", always)
    monkeypatch.setattr(study.time, "sleep", lambda s: None)
    with pytest.raises(ParamError, match="cannot create the study tables") as error:
        study.make_storage("postgresql://u:secret@127.0.0.1:1/optuna", attempts=2)
    assert "secret" not in str(error.value)
