"""The README documents every setting, exactly as the Settings class defines it."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_readme_configuration_table_matches_the_settings() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from settings_table import table
    finally:
        sys.path.pop(0)
    readme = (REPO / "README.md").read_text()
    assert table() in readme, "regenerate it: python scripts/settings_table.py"


def test_readme_starts_with_the_two_commands() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert [line.split()[0:2] for line in block] == [["make", "run"], ["make", "test"]]
    assert "make test" in (REPO / ".ci" / "run").read_text()
