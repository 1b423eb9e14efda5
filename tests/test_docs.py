"""The Python examples in docs/ and the README run, each page in a fresh interpreter.

A page's blocks run in order in one namespace, as a reader would paste them.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text())


@pytest.mark.parametrize("page", [page for page in PAGES if python_blocks(page)], ids=lambda page: page.name)
def test_the_examples_of_a_page_run(page, tmp_path):
    program = "\n\n".join(python_blocks(page))
    environment = {**os.environ, "HOME": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, f"{page.name}:\n{completed.stderr[-4000:]}"
