"""The account engine on a dask.distributed LocalCluster gives the local run's results, bit for bit.

One LocalCluster of 3 worker processes (module fixture) serves every test; the fixture account is
tiny (2 counties, 10 × 20 pixels), blocks are cut to 3 rows so per-pixel items really are split over
the workers.
"""

from __future__ import annotations

import filecmp
import sys

import numpy as np
import pytest

pytest.importorskip("distributed")

from account_fixture import build, edit_spec  # noqa: E402
from gep.engine.compute import run_services  # noqa: E402
from gep.engine.run import run_account  # noqa: E402
from gep.inputs.prepare import prepare_inputs  # noqa: E402
from gep.problems import GepInputError  # noqa: E402
from gep.spec import load_spec  # noqa: E402


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GiB"
    ) as cluster:
        yield cluster.scheduler_address


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality (NaN included): same dtype, shape and bytes."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _prepared(tmp_path, overrides: dict | None = None):
    spec_path = build(tmp_path / "acc")
    if overrides:
        edit_spec(spec_path, lambda raw: raw.update(parameters=overrides))
    spec, problems = load_spec(spec_path)
    assert spec is not None, problems
    return prepare_inputs(spec)


def test_items_identical_to_local_run(tmp_path, scheduler):
    # a region override exercises the per-block merge on the workers; 3-row blocks split the
    # 10-row grid into 4 blocks (rows 0-2, 3-5, 6-8, 9)
    prepared = _prepared(tmp_path, {"regions": {"A": {"reservoir_cost": 10.0, "n_price": 5000.0}}})
    local = run_services(prepared, chunk_rows=3)
    remote = run_services(prepared, chunk_rows=3, scheduler=scheduler)
    assert [r.service.item_id for r in remote] == [r.service.item_id for r in local]
    assert "soil_retention" in {r.service.item_id for r in local}  # the derived ls_factor travels too
    for a, b in zip(local, remote, strict=True):
        assert _same(a.result.physical, b.result.physical), a.service.item_id
        assert _same(a.result.value_yuan, b.result.value_yuan), a.service.item_id
        assert a.result.notes == b.result.notes
        assert a.result.parameters_used == b.result.parameters_used
        assert sorted(a.result.extra) == sorted(b.result.extra)
        assert len(a.result.components) == len(b.result.components)
        for ca, cb in zip(a.result.components, b.result.components, strict=True):
            assert (ca.name, ca.unit) == (cb.name, cb.unit)
            assert _same(ca.physical, cb.physical) and _same(ca.value_yuan, cb.value_yuan)
    # hand check that the override reached the workers: forest pixel of county A conserves
    # (1500 - 1500 × 0.03 - 800) mm × 10,000 m² × 1e-3 = 6550 m³, valued at 10 yuan/m³ = 65,500 yuan
    water = next(r for r in remote if r.service.item_id == "water_conservation").result
    assert water.value_yuan[0, 0] == pytest.approx(65_500.0)
    assert water.value_yuan[0, 19] == pytest.approx(6550 * 7.06)  # county B keeps the default 7.06


def test_account_files_identical_to_local_run(tmp_path, scheduler):
    spec_path = build(tmp_path / "acc")
    spec, _ = load_spec(spec_path)
    run_account(spec, tmp_path / "local", reports=False)
    run_account(spec, tmp_path / "remote", reports=False, scheduler=scheduler)
    maps = sorted(p.name for p in (tmp_path / "local" / "maps").iterdir())
    names = ["account.csv", "methods.csv", "seea_supply_physical.csv", "seea_supply_monetary.csv"]
    names += [f"maps/{name}" for name in maps]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "local", tmp_path / "remote", names, shallow=False)
    assert mismatch == [] and errors == []
    assert len(maps) >= 18  # 9 items × (physical, value)


def test_scheduler_from_the_spec(tmp_path, scheduler):
    spec_path = build(tmp_path / "acc")
    edit_spec(spec_path, lambda raw: raw["account"].update(scheduler=scheduler))
    spec, problems = load_spec(spec_path)
    assert spec is not None and spec.account.scheduler == scheduler, problems
    run_account(spec, tmp_path / "out", reports=False)
    edit_spec(spec_path, lambda raw: raw["account"].pop("scheduler"))
    local_spec, _ = load_spec(spec_path)
    run_account(local_spec, tmp_path / "local", reports=False)
    assert (tmp_path / "out" / "account.csv").read_bytes() == (tmp_path / "local" / "account.csv").read_bytes()


def test_input_errors_come_back_from_the_workers(tmp_path, scheduler):
    # a negative runoff coefficient is refused by the water conservation service on the worker;
    # the GepInputError (whose problems are not picklable as such) must reach the caller intact
    prepared = _prepared(tmp_path, {"classes": {"1": {"runoff_coefficient": -0.5}}})
    with pytest.raises(GepInputError) as raised:
        run_services(prepared, chunk_rows=3, scheduler=scheduler)
    assert any("runoff_coefficient" in p.render("en") for p in raised.value.problems)


def test_local_run_does_not_import_dask(tmp_path):
    import subprocess

    spec_path = build(tmp_path / "acc")
    code = (
        "import sys\n"
        "from gep.spec import load_spec\n"
        "from gep.inputs.prepare import prepare_inputs\n"
        "from gep.engine.compute import run_services\n"
        f"spec, _ = load_spec({str(spec_path)!r})\n"
        "run_services(prepare_inputs(spec))\n"
        "print('dask' in sys.modules or 'distributed' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
