"""The examples run as users run them, from the installed packages."""

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_asha_embedded_in_a_plain_loop_stops_most_models_early(run_script):
    output = run_script(EXAMPLES / "asha_without_ray.py")
    trained, budget = (int(word) for word in output.split("Epochs trained: ")[1].split()[:3:2])
    assert budget == 50 * 27
    assert trained < budget / 2  # ASHA with reduction factor 3 keeps roughly a third at each rung
    assert float(output.split("accuracy=")[1].split()[0]) > 0.9  # seeded: the same run every time
