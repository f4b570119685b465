"""Hostile ONNX files: custom operator domains and external data never reach a session."""

from __future__ import annotations

import pytest

from driftline.runtime.onnx_models import OnnxModelError, checked_onnx, load_onnx

onnx = pytest.importorskip("onnx")
helper, TensorProto = onnx.helper, onnx.TensorProto


def _model(node: object, initializers: list[object] | None = None,
           opsets: list[object] | None = None) -> bytes:
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, 1])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None, 1])],
        initializer=initializers or [],
    )
    model = helper.make_model(graph, opset_imports=opsets or [helper.make_opsetid("", 18)])
    return model.SerializeToString()


def test_a_custom_operator_domain_is_refused() -> None:
    node = helper.make_node("Exec", ["x"], ["y"], domain="com.evil")
    data = _model(node, opsets=[helper.make_opsetid("", 18), helper.make_opsetid("com.evil", 1)])
    with pytest.raises(OnnxModelError, match=r"custom operator domains are refused: com\.evil"):
        load_onnx(data)


def test_external_tensor_data_is_refused() -> None:
    weight = helper.make_tensor("w", TensorProto.DOUBLE, [1, 1], [1.0])
    weight.data_location = TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    del weight.double_data[:]
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    with pytest.raises(OnnxModelError, match="external data"):
        load_onnx(_model(node, [weight]))


def test_garbage_is_not_an_onnx_model() -> None:
    with pytest.raises(OnnxModelError, match="not an ONNX model"):
        checked_onnx(b"\xff\xfe garbage")


def test_a_plain_graph_without_driftline_metadata_is_refused() -> None:
    node = helper.make_node("Identity", ["x"], ["y"])
    with pytest.raises(OnnxModelError, match="not a Driftline ONNX export"):
        load_onnx(_model(node))
