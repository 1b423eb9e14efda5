"""The TensorBoard logger's event files, read back record by record (TFRecord framing, CRCs checked)."""

import importlib.util
import math
import struct
from pathlib import Path

import pytest

from tune_controller import RunConfig, TBXLoggerCallback
from tune_search import grid_search
from tune_trial import report

pytest.importorskip("tensorboardX")  # the extra tune-controller[tensorboard]
from tensorboardX.proto.event_pb2 import Event
from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
from tensorboardX.record_writer import masked_crc32c


def read_events(directory):
    events = []
    for path in sorted(Path(directory).glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            header = data[offset : offset + 8]
            (length,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", data[offset + 8 : offset + 12])[0] == masked_crc32c(header)
            body = data[offset + 12 : offset + 12 + length]
            assert struct.unpack("<I", data[offset + 12 + length : offset + 16 + length])[0] == masked_crc32c(body)
            events.append(Event.FromString(body))
            offset += 16 + length
    return events


def scalars(events):
    return {
        (value.tag, event.step): value.simple_value
        for event in events
        for value in event.summary.value
        if value.HasField("simple_value")
    }


def learning(config):
    for step in range(1, 4):
        report({"loss": config["lr"] / step, "model": {"acc": step / 4}, "note": "text", "bad": math.nan})


def test_each_trial_gets_its_scalars_and_hyperparameters(run):
    results = run(
        learning,
        {"lr": grid_search([0.5, 1.0]), "layers": [32, 32]},
        metric="loss",
        mode="min",
        run_config=RunConfig(callbacks=[TBXLoggerCallback()]),
    )
    for result in results:
        events = read_events(result.path)
        values = scalars(events)
        lr = result.config["lr"]
        assert {step: values[("tune/loss", step)] for step in (1, 2, 3)} == pytest.approx(
            {1: lr, 2: lr / 2, 3: lr / 3}, rel=1e-6
        )
        assert values[("tune/model/acc", 3)] == pytest.approx(0.75)
        tags = {tag for tag, _ in values}
        assert "tune/time_total_s" in tags
        assert not tags & {"tune/training_iteration", "tune/note", "tune/bad", "tune/timestamp"}
        hparams = [
            HParamsPluginData.FromString(value.metadata.plugin_data.content)
            for event in events
            for value in event.summary.value
            if value.tag == "_hparams_/session_start_info"
        ]
        (start,) = hparams
        assert start.session_start_info.hparams["lr"].number_value == lr
        assert "layers" not in start.session_start_info.hparams  # a list is no hyperparameter for TensorBoard


def test_a_missing_tensorboardx_is_named_with_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "tensorboardX" else real(name))
    with pytest.raises(ImportError, match=r"tensorboardX: install the extra tune-controller\[tensorboard\]"):
        TBXLoggerCallback()
