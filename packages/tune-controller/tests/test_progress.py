import io

from tune_controller import ProgressReporter, RunConfig
from tune_search import uniform
from tune_trial import report


def test_the_table_shows_counts_best_value_parameters_and_metrics(run):
    stream = io.StringIO()
    reporter = ProgressReporter(interval_s=3600, stream=stream)
    run(
        lambda config: report({"loss": config["x"]}),
        {"x": uniform(0, 1)},
        num_samples=3,
        metric="loss",
        mode="min",
        run_config=RunConfig(callbacks=[reporter]),
    )
    text = stream.getvalue()
    assert "== Status: 3 trials (3 TERMINATED) ==" in text
    assert "Best loss so far:" in text
    header = next(line for line in text.splitlines() if line.startswith("trial"))
    assert header.split() == ["trial", "status", "x", "iter", "loss"]
