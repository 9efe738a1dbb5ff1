"""Masking a block's result: NaN outside the account, in place only for arrays the service made."""

from types import SimpleNamespace

import numpy as np
import pandas as pd

from gep.engine.compute import compute_block
from gep.services.base import Component, ServiceResult
from service_fixtures import make_context


def _service(compute):
    return SimpleNamespace(compute=compute, declaration=SimpleNamespace(whole_grid=False))


def test_an_input_layer_returned_as_a_result_is_copied_not_masked_in_place():
    rain = np.array([[1.0, 2.0], [3.0, 4.0]])
    ctx = make_context({"precipitation": rain}, pd.DataFrame(), unit_index=np.array([[0, -1], [0, 0]]))
    own = np.array([[10.0, 20.0], [30.0, 40.0]])

    def compute(c):
        layer = c.layers["precipitation"]
        return ServiceResult("x", "m3", layer, own, components=(Component("part", "m3", layer[:, :], own, ""),))

    result = compute_block(_service(compute), ctx, ())
    # the pixel at row 0, column 1 is outside the account: NaN in every result array
    assert np.isnan(result.physical[0, 1]) and np.isnan(result.components[0].physical[0, 1])
    assert result.physical[1, 1] == 4.0
    # the input layer (and a view of it) was copied: the context still holds 2.0 there
    assert ctx.layers["precipitation"][0, 1] == 2.0
    # the array the service made itself was masked in place (no copy)
    assert result.value_yuan is own and np.isnan(own[0, 1]) and own[1, 0] == 30.0


def test_scalars_booleans_and_integers_become_float64_arrays():
    ctx = make_context({"precipitation": np.ones((2, 2))}, pd.DataFrame(), unit_index=np.array([[0, 0], [-1, 0]]))

    def compute(c):
        return ServiceResult("x", "m3", np.array([[True, False], [True, True]]), np.array([[1, 2], [3, 4]]))

    result = compute_block(_service(compute), ctx, ())
    assert result.physical.dtype == np.float64 and result.value_yuan.dtype == np.float64
    assert result.physical.tolist()[0] == [1.0, 0.0] and np.isnan(result.physical[1, 0])
    assert result.value_yuan[1, 1] == 4.0 and np.isnan(result.value_yuan[1, 0])


def test_grid_buffers_keep_only_arrays_nobody_else_holds():
    from gep.engine.compute import GridBuffers

    buffers = GridBuffers((2, 3), capacity=2)
    held = np.zeros((2, 3))
    view_base = np.zeros((2, 6))
    arrays = [np.ones((2, 3)), held, view_base[:, :3], np.ones((2, 3), dtype=np.float32), np.ones((3, 2))]
    free_id = id(arrays[0])
    buffers.give(arrays)
    assert arrays == []
    # only the first array qualified: ``held`` is still referenced here, the view does not own its
    # memory, the float32 array and the transposed shape are not the grid's float64 arrays
    first = buffers.take()
    assert id(first) == free_id
    fresh = buffers.take()  # the pool is empty again: a new array
    assert fresh.shape == (2, 3) and fresh.dtype == np.float64 and id(fresh) != free_id
    held[0, 0] = 5.0  # untouched by the pool
    assert held[0, 0] == 5.0
