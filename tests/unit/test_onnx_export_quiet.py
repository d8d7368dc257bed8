"""The ONNX export shows the user none of what tracing and quantisation tell a model's developer
(``knowledge.onnx_export._quiet_tracing``/``_quiet_quantisation``), with a real torch export and a
real onnxruntime quantisation of a small module that makes the tracer warn."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
import torch

from knowledge.onnx_export import _quantise, _quiet_tracing


class Branchy(torch.nn.Module):
    """A Python condition on a tensor: what transformers' masking does, and what the tracer warns about."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > 4:  # a tensor-valued condition while tracing
            x = x * 2
        out: torch.Tensor = self.linear(x)
        return out


def export(target: Path) -> None:
    torch.onnx.export(
        Branchy().eval(),
        (torch.ones((2, 8)),),
        str(target),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def tracer_warnings(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen if w.category.__name__ == "TracerWarning"]


def test_the_tracer_warns_without_the_filter(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        export(tmp_path / "model.onnx")
    assert tracer_warnings(seen)  # else the next test proves nothing


def test_export_warnings_are_hidden_and_only_during_the_export(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with _quiet_tracing():
            export(tmp_path / "model.onnx")
        warnings.warn("a later warning still shows", UserWarning, stacklevel=1)
    assert tracer_warnings(seen) == []
    assert [str(w.message) for w in seen] == ["a later warning still shows"]


def test_quantisation_advice_is_not_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    export(tmp_path / "fp32.onnx")
    with caplog.at_level(logging.WARNING):
        _quantise(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
        logging.getLogger().warning("Please consider this other message")  # the filter is gone
    assert (tmp_path / "int8.onnx").stat().st_size > 0
    assert [r.getMessage() for r in caplog.records] == ["Please consider this other message"]


def test_onnxruntime_gives_that_advice_without_the_filter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    export(tmp_path / "fp32.onnx")
    with caplog.at_level(logging.WARNING):
        quantize_dynamic(
            str(tmp_path / "fp32.onnx"), str(tmp_path / "int8.onnx"), weight_type=QuantType.QInt8
        )
    assert any("pre-processing" in r.getMessage() for r in caplog.records)
