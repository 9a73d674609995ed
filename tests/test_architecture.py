"""The house keeps its shape (DESIGN §3): one permission layer at the bottom, arrows one way,
modules and functions of a readable size, no codename spelled outside the permission layer."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from access.codenames import ALL_CODENAMES

ROOT = Path(__file__).resolve().parent.parent
APPS = ("croportal", "access", "staffing", "trials", "sites", "safety", "reminders",
        "dashboards")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 40


def app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def parsed():
    for path in app_modules():
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_codename_is_spelled_outside_the_permission_layer():
    found = []
    for path, tree in parsed():
        if path.parts[len(ROOT.parts)] == "access":
            continue
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in ALL_CODENAMES]
    assert found == []


def test_no_app_reaches_a_model_by_name_to_dodge_an_import():
    found = [f"{path.relative_to(ROOT)}:{node.lineno}"
             for path, tree in parsed() for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr == "get_model"]
    assert found == []


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in app_modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_over_40_lines():
    long = [f"{path.relative_to(ROOT)}:{node.name} ({node.end_lineno - node.lineno + 1})"
            for path, tree in parsed() for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def test_the_layer_contract_is_the_order_of_design_section_3():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    [layers] = [c["layers"] for c in contracts if c["type"] == "layers"]
    assert layers == ["dashboards", "safety", "sites", "trials", "staffing", "reminders",
                      "access"]
    forbidden = {c["source_modules"][0]: set(c["forbidden_modules"]) for c in contracts
                 if c["type"] == "forbidden"}
    assert forbidden["access"] >= set(APPS) - {"access"}
    assert forbidden["croportal"] >= set(APPS) - {"croportal"}


def test_the_import_contracts_hold():
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter, "import-linter is a dev dependency (pyproject.toml)"
    result = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"Contracts: 3 kept, 0 broken", result.stdout)


@pytest.mark.parametrize(("source", "target"), [
    ("reminders", "trials"), ("trials", "sites"), ("staffing", "trials"), ("safety", "dashboards"),
])
def test_the_contracts_refuse_an_arrow_against_the_design(tmp_path, source, target):
    """An upward import added to a copy of the code breaks the layer contract."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / source / "upward.py").write_text(f"import {target}.views\n")
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run([linter, "--no-cache"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0
    assert f"{source}.upward -> {target}.views" in result.stdout


# Pure helpers that happen to live beside the services (a string, a hash, a decorator).
POSITIONAL_ALLOWED = {"country_code", "calendar_secret_hash", "signing_action"}


def test_public_services_and_selectors_take_keyword_arguments():
    modules = [p for p in app_modules()
               if p.name in ("services.py", "selectors.py") or p.parent.name == "services"
               or p.relative_to(ROOT).as_posix() in ("access/checks.py",
                                                     "dashboards/enrollment.py")]
    assert len(modules) > 15
    positional = [f"{path.relative_to(ROOT)}:{node.name}"
                  for path in modules for node in ast.parse(path.read_text()).body
                  if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
                  and node.name not in POSITIONAL_ALLOWED
                  and (node.args.posonlyargs or node.args.args)]
    assert positional == []
