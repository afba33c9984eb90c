"""The model benchmark's builds after the change (benchmarks/model.py), dbt replaced by a stub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import model


def _stub_dbt(seen: list[str]) -> Any:
    """A dbt that notes the warehouse it was given, rewrites it as a build does, and takes
    11 s, 12 s, 13 s..."""
    def build(command: str, *args: str, root: Path, warehouse: Path,
              threads: int | None = None) -> tuple[float, None]:
        seen.append(warehouse.read_text())
        warehouse.write_text("built")
        return 10.0 + len(seen), None
    return build


def test_each_build_after_the_change_starts_from_the_same_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_text("changed")
    seen: list[str] = []
    monkeypatch.setattr(model, "dbt", _stub_dbt(seen))
    figures = model.incremental_builds("model 10", tmp_path, warehouse, 100.0, 3)
    assert seen == ["changed"] * 3
    assert [(f.name, f.value, f.ratio) for f in figures] == [
        ("dbt build wall after 1% change, run 1", 11.0, 0.11),
        ("dbt build wall after 1% change, run 2", 12.0, 0.12),
        ("dbt build wall after 1% change, run 3", 13.0, 0.13),
        ("dbt build wall after 1% change (median of 3)", 12.0, 0.12)]
    assert not (tmp_path / "changed").exists()  # the kept copy is gone


def test_one_build_after_the_change_keeps_no_copy(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_text("changed")
    monkeypatch.setattr(model, "dbt", _stub_dbt([]))
    figures = model.incremental_builds("model 10", tmp_path, warehouse, 100.0, 1)
    assert [(f.name, f.value) for f in figures] == [("dbt build wall after 1% change", 11.0)]


def test_no_build_to_time_is_refused_with_the_flag_named(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        model.main(["--incremental", "--repeat", "0"])
    assert "--repeat 0: give how many builds after the change to time" in capsys.readouterr().err
