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


def test_metadata_is_stored_with_the_files_and_merged_on_update(tmp_path):
    checkpoint = Checkpoint.from_directory(tmp_path)
    assert checkpoint.get_metadata() == {}
    checkpoint.set_metadata({"epoch": 3, "tags": ["a"]})
    checkpoint.update_metadata({"loss": 0.5})
    assert checkpoint.get_metadata() == {"epoch": 3, "tags": ["a"], "loss": 0.5}
    copy = Checkpoint.from_directory(checkpoint.to_directory(tmp_path.parent / "copy"))
    assert copy.get_metadata() == {"epoch": 3, "tags": ["a"], "loss": 0.5}
    checkpoint.set_metadata({"epoch": 4})
    assert checkpoint.get_metadata() == {"epoch": 4}
