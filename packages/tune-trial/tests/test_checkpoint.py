from pathlib import Path

import pytest

from tune_trial import Checkpoint


def test_from_directory_refuses_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        Checkpoint.from_directory(tmp_path / "nowhere")


def test_to_directory_copies_the_files(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "weights.txt").write_text("42")
    checkpoint = Checkpoint.from_directory(source)
    copy = Path(checkpoint.to_directory(tmp_path / "copy"))
    assert (copy / "weights.txt").read_text() == "42"
    with checkpoint.as_directory() as directory:
        assert (Path(directory) / "weights.txt").exists()
    assert Checkpoint(source) == checkpoint
