"""README's "Using the corpus" snippets run as they are written, from the folder that
holds a corpus built from the bundled sample; and README's command lines parse."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from cwingest.cli import build_parser
from cwingest.pipeline import run_ingest
from cwingest.sample import write_sample
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Using the corpus", 1)[1].split("\n## ", 1)[0]
SNIPPETS = re.findall(r"```python\n(.*?)```", SECTION, re.S)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("readme")
    write_sample(base / "sample")
    run_ingest([str(base / "sample")], out=base / "curated", raw=base / "raw")
    return base


def test_the_section_has_pandas_duckdb_and_polars_snippets() -> None:
    assert len(SNIPPETS) == 3
    assert "load_posts" in SNIPPETS[0] and "duckdb" in SNIPPETS[1] and "polars" in SNIPPETS[2]


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_readme_snippet_runs(
    number: int, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(corpus_dir)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(SNIPPETS[number], f"README snippet {number + 1}", "exec"), {})
    shown = printed.getvalue()
    # each shows what it promises, from the sample's posts
    assert "Maya Okafor" in shown or "Equity" in shown or "Assessment" in shown, shown


def test_readme_command_lines_parse() -> None:
    """Every `cwingest …` line of README's shell blocks is accepted by the parser."""
    parser = build_parser()
    lines = [
        line.split("#")[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", README, re.S)
        for line in block.splitlines()
        if line.strip().startswith("cwingest ")
    ]
    assert len(lines) >= 4
    for line in lines:
        args = shlex.split(line)[1:]
        parser.parse_args(args)  # exits (SystemExit) on a line the parser refuses
