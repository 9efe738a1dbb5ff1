"""Items summarized block by block (sums and float32 maps where the blocks are computed), and the
local backend computing later items while the derived layers are still being made."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from account_fixture import build
from gep.engine import compute
from gep.engine.compute import LocalBackend, iter_item_outcomes, plan_items, run_services
from gep.engine.outputs import account_tally
from gep.engine.tally import ArraySums, Tally
from gep.inputs.prepare import prepare_inputs
from gep.spec import load_spec
from gep.zonal import rasterize_regions
from test_tally import ECOSYSTEMS, VALUES
from test_zonal import GRID, regions_fixture


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    spec, problems = load_spec(build(tmp_path_factory.mktemp("summary") / "acc"))
    assert spec is not None, problems
    return prepare_inputs(spec)


def test_block_sums_add_up_to_the_whole_grid_sums():
    index = rasterize_regions(regions_fixture(), GRID)
    tally = Tally(index, ECOSYSTEMS, 2)
    top, bottom = tally.block(slice(0, 1)), tally.block(slice(1, 2))
    # row 0 of the 2 x 4 grid: units [T, W, E, E], ecosystems [forest, water, forest, none], values
    # [1, 2, 3, 4]; the zone P (x 100-300 m, y 0-100 m) is columns 1-2 of row 1: values 6 and NaN
    e = index.codes.index("E")
    first = top.sums(VALUES[:1])
    assert first.by_unit_ecosystem[e].tolist() == [3.0, 0.0, 4.0]
    assert first.zones == {"P": 0.0}
    second = bottom.sums(VALUES[1:])
    assert second.zones == {"P": 6.0}
    combined = ArraySums.combine([first, second])
    # the whole grid, worked out by hand in test_tally: T 1, W 14, E 15, C 29
    whole = tally.sums(VALUES)
    assert combined.regions(index) == whole.regions(index) == {"C": 29.0, "W": 14.0, "E": 15.0, "T": 1.0}
    assert combined.zones == whole.zones
    assert np.array_equal(combined.by_unit_ecosystem, whole.by_unit_ecosystem)
    assert tally.block(slice(0, 2)) is tally.whole
    with pytest.raises(ValueError, match="expected 4"):
        top.sums(VALUES)


def test_sums_and_float32_in_one_pass():
    index = rasterize_regions(regions_fixture(), GRID)
    block = Tally(index, ECOSYSTEMS, 2).whole
    values = VALUES * np.pi * 1e5  # not representable in float32
    sums, rounded = block.sums_and_float32(values)
    assert rounded.dtype == np.float32 and rounded.shape == values.shape
    assert rounded.tobytes() == values.astype(np.float32).tobytes()  # NaN included
    plain = block.sums(values)
    assert sums.by_unit_ecosystem.tobytes() == plain.by_unit_ecosystem.tobytes()  # sums of the float64 values
    assert sums.zones == plain.zones


def test_outcomes_are_the_runs_summed_and_rounded(prepared):
    """The account's path (blocks of 3 rows summed where computed) against the full float64 runs summed
    on the whole grid by the plain tally: same float32 maps, same sums to rounding."""
    tally = account_tally(prepared)
    runs = {r.service.item_id: r.result for r in run_services(prepared, chunk_rows=3)}
    outcomes = list(iter_item_outcomes(prepared, tally, chunk_rows=3))
    assert [o.service.item_id for o in outcomes] == list(runs)
    assert any(len(p.blocks) > 1 for p in plan_items(prepared, 3))  # some items really are split
    for outcome in outcomes:
        run = runs[outcome.service.item_id]
        assert outcome.physical.tobytes() == run.physical.astype(np.float32).tobytes()
        assert outcome.value_yuan.tobytes() == run.value_yuan.astype(np.float32).tobytes()
        arrays = [(run.physical, run.value_yuan)] + [(c.physical, c.value_yuan) for c in run.components]
        assert [p[0] for p in outcome.sums.parts] == [""] + [c.name for c in run.components]
        for (_, _, physical, value), (p, v) in zip(outcome.sums.parts, arrays, strict=True):
            for got, array in ((physical, p), (value, v)):
                expected = tally.sums(array)
                np.testing.assert_allclose(got.by_unit_ecosystem, expected.by_unit_ecosystem, rtol=1e-12)
                assert got.zones == pytest.approx(expected.zones, rel=1e-12)
        assert outcome.result.physical.size == 0 and outcome.result.components == ()
        assert outcome.result.notes == run.notes
    # a hand check through the outcome: county A's water conservation, 100 forest pixels of
    # (1500 - 1500 × 0.03 - 800) mm × 10,000 m² × 1e-3 = 6550 m³ each
    water = next(o for o in outcomes if o.service.item_id == "water_conservation")
    a = prepared.index.codes.index("A")
    assert water.sums.parts[0][2].by_unit_ecosystem[a].sum() == pytest.approx(100 * 6550.0)


def test_demo_outcomes_match_the_masked_runs(tmp_path):
    """On the Lishui demo (2 km, every item, a city boundary that leaves pixels of the grid outside the
    account): the unmasked blocks summarized against the masked float64 runs."""
    from gep.demo.build import build_demo_inputs

    spec, problems = load_spec(build_demo_inputs(tmp_path / "demo", 2000.0, year=2020).spec_path)
    assert spec is not None, problems
    demo = prepare_inputs(spec)
    assert not demo.index.inside.all()
    tally = account_tally(demo)
    runs = {r.service.item_id: r.result for r in run_services(demo, chunk_rows=16)}
    outcomes = list(iter_item_outcomes(demo, tally, chunk_rows=16))
    assert len(outcomes) == len(runs) >= 15
    for outcome in outcomes:
        run = runs[outcome.service.item_id]
        assert outcome.physical.tobytes() == run.physical.astype(np.float32).tobytes(), outcome.service.item_id
        assert outcome.value_yuan.tobytes() == run.value_yuan.astype(np.float32).tobytes()
        expected = tally.sums(run.value_yuan)
        got = outcome.sums.parts[0][3]
        np.testing.assert_allclose(got.by_unit_ecosystem, expected.by_unit_ecosystem, rtol=1e-12, atol=1e-6)
        assert got.zones == pytest.approx(expected.zones, rel=1e-12)


def test_later_items_compute_while_the_derived_layers_are_made(prepared, monkeypatch):
    release = threading.Event()
    made = compute.derived_layers

    def slow_derived(prepared_inputs, names):
        assert release.wait(30), "the derived layers were never released"
        return made(prepared_inputs, names)

    monkeypatch.setattr(compute, "derived_layers", slow_derived)
    plans = {p.service.item_id: p for p in plan_items(prepared, 3)}
    soil, carbon = plans["soil_retention"], plans["carbon_sequestration"]
    backend = LocalBackend(workers=2)
    try:
        backend.derived(prepared, {"ls_factor"})
        waiting = backend.submit(soil)  # returns at once
        assert backend.waiting(soil) and not backend.waiting(carbon)
        later = backend.submit(carbon)
        carbon_blocks = [f.result(timeout=30) for f in later]  # done while soil retention still waits
        assert not any(f.done() for f in waiting)
        release.set()
        soil_blocks = [f.result(timeout=60) for f in waiting]
        assert not backend.waiting(soil)
    finally:
        release.set()
        backend.close()
    expected = {r.service.item_id: r.result for r in run_services(prepared, chunk_rows=3)}
    stitched = np.concatenate([b.value_yuan for b in soil_blocks])
    assert stitched.tobytes() == expected["soil_retention"].value_yuan.tobytes()
    assert np.concatenate([b.physical for b in carbon_blocks]).tobytes() == (
        expected["carbon_sequestration"].physical.tobytes()
    )


def test_a_failing_derived_layer_reaches_the_waiting_items(prepared, monkeypatch):
    release = threading.Event()

    def broken(prepared_inputs, names):
        release.wait(30)
        raise RuntimeError("no DEM today")

    monkeypatch.setattr(compute, "derived_layers", broken)
    soil = next(p for p in plan_items(prepared, 3) if p.service.item_id == "soil_retention")
    backend = LocalBackend(workers=2)
    try:
        backend.derived(prepared, {"ls_factor"})
        waiting = backend.submit(soil)
        release.set()
        for future in waiting:
            with pytest.raises(RuntimeError, match="no DEM today"):
                future.result(timeout=30)
    finally:
        release.set()
        backend.close()


def test_pixels_outside_the_account_count_nowhere_and_map_to_nan():
    """Blocks are summed before any masking: the tally must skip pixels outside the account (even in
    a zone reaching past the regions) and the float32 map must hold NaN there."""
    from shapely.geometry import box

    from gep.grid import AccountGrid
    from gep.regions import RegionSet, Zone

    base = regions_fixture()  # regions cover x 0-400 m
    wide = RegionSet(base.crs, base.regions, (Zone("Q", "reach", "park", box(300, 0, 500, 200)),))
    grid = AccountGrid.from_bounds((0, 0, 500, 200), 100.0)  # 2 x 5: column 4 is outside every region
    index = rasterize_regions(wide, grid)
    assert (index.unit_index[:, 4] == -1).all()
    ecosystems = np.zeros(grid.shape, dtype=int)
    values = np.arange(1.0, 11.0).reshape(2, 5)  # finite everywhere, outside too
    sums, rounded = Tally(index, ecosystems, 1).whole.sums_and_float32(values)
    assert np.isnan(rounded[:, 4]).all() and rounded[:, :4].tolist() == values[:, :4].tolist()
    # inside: 1 + 2 + 3 + 4 + 6 + 7 + 8 + 9 = 40; zone Q inside the account is column 3 only: 4 + 9
    assert sums.by_unit_ecosystem.sum() == 40.0
    assert sums.zones == {"Q": 13.0}
