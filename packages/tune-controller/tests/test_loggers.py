"""The default loggers write result.json, progress.csv and params.json in each trial's directory."""

import csv
import json
import tempfile
from pathlib import Path

from tune_schedulers import TrialScheduler
from tune_search import grid_search
from tune_trial import Checkpoint, Decision, get_checkpoint, report


def three_steps(config):
    checkpoint = get_checkpoint()
    start = int((Path(checkpoint.path) / "n").read_text()) if checkpoint else 0
    for n in range(start + 1, 4):
        with tempfile.TemporaryDirectory() as directory:
            (Path(directory) / "n").write_text(str(n))
            report({"n": n, "nested": {"a": n * 2}}, checkpoint=Checkpoint.from_directory(directory))


def test_each_trial_directory_has_its_results_and_parameters(run):
    results = run(three_steps, {"lr": grid_search([0.1, 0.2])})
    for result in results:
        directory = Path(result.path)
        lines = [json.loads(line) for line in (directory / "result.json").read_text().splitlines()]
        assert [line["n"] for line in lines] == [1, 2, 3]
        rows = list(csv.DictReader((directory / "progress.csv").open()))
        assert [row["n"] for row in rows] == ["1", "2", "3"]
        assert rows[0]["nested/a"] == "2"
        assert json.loads((directory / "params.json").read_text()) == result.config


class PauseAtTwo(TrialScheduler):
    def milestones(self):
        return {2}

    def on_trial_result(self, trial, result):
        return Decision.PAUSE if result["training_iteration"] == 2 and result["n"] == 2 else Decision.CONTINUE


def test_a_resumed_trial_appends_to_its_files_without_a_second_header(run):
    (result,) = run(three_steps, scheduler=PauseAtTwo())
    directory = Path(result.path)
    assert (directory / "progress.csv").read_text().count("training_iteration") == 1
    assert len((directory / "result.json").read_text().splitlines()) == 3


def test_the_loggers_can_be_turned_off(run, monkeypatch):
    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    (result,) = run(three_steps)
    assert not (Path(result.path) / "result.json").exists()
    assert result.metrics["n"] == 3  # results come from the controller, not from these files
