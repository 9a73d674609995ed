"""The README's environment table and .env.example name every variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "croportal" / "settings.py").read_text()
    return set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source))


def test_settings_read_the_expected_kind_of_names():
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= variables_read_by_settings()


def test_every_variable_is_in_the_readme_table_and_env_example():
    readme_rows = set(re.findall(r"^\| `([A-Z_]+)` \|", (ROOT / "README.md").read_text(), re.M))
    example = set(re.findall(r"^#? ?([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    wanted = variables_read_by_settings()
    assert wanted - readme_rows == set(), "missing from the README table"
    assert readme_rows - wanted == set(), "README documents variables the settings never read"
    assert wanted - example == set(), "missing from .env.example"
