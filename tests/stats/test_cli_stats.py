"""`qa-audit stats`: the issue's command lines, with published reference values."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from audits.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["stats", *args])
    return result.exit_code, result.output


def test_sample_size_json():
    """AICPA Audit Sampling guide, attribute sampling table at 95% confidence:
    tolerable 5%, expected 0% -> 59; tolerable 5%, expected 1% -> 93 (1 deviation allowed)."""
    code, out = run("sample-size", "--tolerable", "0.05", "--expected", "0", "--confidence", "0.95", "--json")
    assert code == 0 and json.loads(out)["n"] == 59
    code, out = run("sample-size", "--tolerable", "0.05", "--expected", "0.01", "--json")
    assert code == 0 and (json.loads(out)["n"], json.loads(out)["k_allowed"]) == (93, 1)


def test_sample_size_for_a_margin():
    """Krejcie & Morgan (1970), Table 1: N = 1000 -> 278 (95%, +/-5%, p = 0.5)."""
    code, out = run("sample-size", "--margin", "0.05", "--population", "1000", "--json")
    assert code == 0 and json.loads(out)["n"] == 278


def test_interval_json():
    """Newcombe (1998), Statistics in Medicine 17:857-872, Table I: 81/263, Wilson 0.2553-0.3662,
    exact (Clopper-Pearson) 0.2527-0.3676."""
    code, out = run("interval", "--failures", "81", "--n", "263", "--method", "wilson", "--json")
    data = json.loads(out)
    assert code == 0 and (round(data["lower"], 4), round(data["upper"], 4)) == (0.2553, 0.3662)
    code, out = run("interval", "--failures", "81", "--n", "263", "--method", "clopper-pearson", "--json")
    data = json.loads(out)
    assert code == 0 and (round(data["lower"], 4), round(data["upper"], 4)) == (0.2527, 0.3676)


@pytest.mark.parametrize(
    "args",
    [
        ["sample-size", "--tolerable", "0.05", "--expected", "0.06"],
        ["sample-size", "--tolerable", "0.05", "--margin", "0.05"],
        ["sample-size", "--tolerable", "0.05", "--method", "hypergeometric"],
        ["interval", "--failures", "5", "--n", "3"],
    ],
)
def test_bad_arguments_are_clear_errors(args):
    code, out = run(*args)
    assert code == 1 and out.startswith("Error: ")
