"""The Prefect flows, run in-process under one Prefect test API for the session: the
tables and artifacts each publishes, subflows per site, idempotence, Dask scale-out, and
the deployments of prefect.yaml (loaded, imported, parsed, and registered on a real
``prefect server`` started on 127.0.0.1 and stopped by pid)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from cwingest.sample import write_sample
from cwingest.synthetic import write_publication
from tests.conftest import ROOT, archive_rows, table
from tests.wpserver import FakeSite, make_site, serve

COMPARED = ("posts", "post_sources", "raw_records", "rejects", "authors", "issues", "post_id_map")


def _run(flow: Any, **params: Any) -> tuple[dict[str, Any], str]:
    """Run a flow in-process; its result and its flow run id."""
    state = flow(**params, return_state=True)
    return state.result(), str(state.state_details.flow_run_id)


def _artifacts(flow_run_id: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


def _counts(artifact: Any) -> dict[str, dict[str, Any]]:
    data = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    return {row["stage"]: row for row in data}


def _snapshot(out: Path) -> dict[str, list[str]]:
    """Every curated table's rows but what differs between archives built at other times
    (fetch times, stored paths, changed_at): what one archive's content decides."""
    snap = {}
    for name in COMPARED:
        rows = archive_rows(out, name)
        for r in rows:
            for key in ("fetched_at", "first_seen_at", "last_seen_at", "stored_path", "changed_at"):
                r.pop(key, None)
            if isinstance(r.get("source_uri"), str):
                r["source_uri"] = r["source_uri"].split("/in/")[-1]
        snap[name] = sorted(map(repr, rows))
    return snap


def test_ingest_dumps_publishes_tables_and_artifacts(prefect_harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flows.cwingest_flows import ingest_dumps

    write_sample(tmp_path / "in")
    params = {"paths": [str(tmp_path / "in")], "out": str(tmp_path / "out")}
    result, run_id = _run(ingest_dumps, **params, raw=str(tmp_path / "raw"))
    posts = table(tmp_path / "out", "posts")
    assert result["posts"] == len(posts) == 5 and result["rejected"] == 4
    found = _artifacts(run_id)
    assert set(found) == {"ingest-dumps-counts", "ingest-dumps-changes"}
    counts = _counts(found["ingest-dumps-counts"])
    assert counts["parse"]["inputs"] == 15 and counts["parse"]["rejected"] == 4
    assert counts["publish"]["added"] == 5 and counts["run"]["posts"] == 5
    page = found["ingest-dumps-changes"].data
    assert "## Added (5)" in page
    assert all(p["title"] in page for p in posts)
    assert "## Rejects of this run's inputs (4)" in page and "invalid UTF-8 at byte 36" in page
    # the same flow again, nothing new: no table changes but runs, nothing listed
    before = {name: table(tmp_path / "out", name) for name in (*COMPARED, "changes")}
    again, run_id = _run(ingest_dumps, **params, raw=str(tmp_path / "raw"))
    assert again["posts_new"] == again["posts_updated"] == 0
    assert {name: table(tmp_path / "out", name) for name in before} == before
    page = _artifacts(run_id)["ingest-dumps-changes"].data
    assert "No post was added, updated, deleted or restored." in page
    assert "## Rejects of this run's inputs (0)" in page


def test_flow_options_are_the_command_lines(prefect_harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flows.cwingest_flows import ingest_dumps

    from cwingest.models import InputError
    from cwingest.pipeline import run_ingest

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "copy.txt").write_text(
        "Plot Twelve Schools Blog\n\nA Day of Portfolios\n\nPosted on May 1, 2024 by Kim Alvarez\n\n"
        "Students showed their portfolios to families this week, one table at a time, and "
        "every family left with a note from the student about what comes next.\n\n"
        "Brought to you by the Plot Twelve Committee.\n"
    )
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "plot-twelve.toml").write_text(
        'name = "plot-twelve.example"\ndomains = ["plot-twelve.example"]\n'
        "text_markers = ['^Plot Twelve Schools Blog$']\n"
        'drop_lines = ["Brought to you by the Plot Twelve Committee."]\n'
    )
    _run(
        ingest_dumps,
        paths=[str(tmp_path / "in")],
        out=str(tmp_path / "out"),
        raw=str(tmp_path / "raw"),
        near_threshold=0.7,
        canonical_rule="richest,newest",
        keep_reposts=True,
        profiles=[str(profiles)],
    )
    params = json.loads(table(tmp_path / "out", "runs")[-1]["parameters"])
    assert params["dedup"]["near_threshold"] == 0.7
    assert params["dedup"]["canonical_rule"] == ["richest", "newest"]
    assert params["dedup"]["merge_reposts"] is False
    assert params["profiles"] == [str(profiles.resolve())]
    # the run's own profile applied: the line it drops is gone, and only there
    [post] = table(tmp_path / "out", "posts")
    assert "Portfolios" in post["title"] and "Committee" not in post["content_text"]
    run_ingest([str(tmp_path / "in")], out=tmp_path / "plain", raw=tmp_path / "raw2")
    [plain] = table(tmp_path / "plain", "posts")
    assert "Brought to you by the Plot Twelve Committee." in plain["content_text"]
    with pytest.raises(InputError, match="near-threshold"):
        ingest_dumps(paths=[str(tmp_path / "in")], out=str(tmp_path / "o2"), near_threshold=2.0)


def _other_site(n: int) -> FakeSite:
    """A second site with posts of its own (not copies of the first one's)."""
    site = make_site(n)
    for i, p in enumerate(site.posts):
        p.title = f"Garden Log {i}: Tomatoes and Beans in Plot {i + 3}"
        p.paragraphs = [
            f"Plot {i + 3} of the community garden got {i + 2} rows of beans this spring, "
            f"and the volunteers watered them every morning before work.",
            f"By week {i + 4} the tomatoes needed stakes; {i + 7} plants were tied up with "
            f"old cloth strips donated by the library.",
        ]
    return site


def _sites_file(path: Path, *urls: str) -> Path:
    lines = ["[defaults]", "rate = 100", 'contact = "mailto:tests@example.org"', ""]
    for url in urls:
        lines += ["[[site]]", f'url = "{url}"', ""]
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def refusing_site() -> Iterator[str]:
    """A host that answers 403 to everything (no API, no sitemap: it cannot be crawled)."""

    class Refuse(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(403)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"forbidden")

        do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _flow_runs(name: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )


def test_nightly_crawl_runs_a_subflow_per_site_then_one_build(  # type: ignore[no-untyped-def]
    prefect_harness, tmp_path: Path, refusing_site: str
) -> None:
    from flows.cwingest_flows import SitesFailed, nightly_crawl

    one, two = make_site(6), _other_site(4)
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(one) as base1, serve(two) as base2:
        sites = _sites_file(tmp_path / "sites.toml", base1, base2)
        result, run_id = _run(nightly_crawl, sites_file=str(sites), out=str(out), raw=str(raw))
        for base in (base1, base2):
            [sub] = _flow_runs(f"crawl {base}/")
            assert sub.state.is_completed() and str(sub.parent_task_run_id)
        posts = table(out, "posts")
        assert len(posts) == result["posts"] == 10
        assert {p["site"] for p in posts} == {base1[7:], base2[7:]}
        # one build for both sites: one run, one WARC per site
        [run] = table(out, "runs")
        assert run["command"] == "crawl" and run["crawl_records"] == 10
        assert len(table(out, "raw_records")) == 2
        page = _artifacts(run_id)["nightly-crawl-changes"].data
        assert "## Added (10)" in page and "Garden Log 2" in page
        before = {name: table(out, name) for name in (*COMPARED, "changes")}

        # the next night, nothing new upstream: no row changes (runs records the crawl)
        again, run_id = _run(nightly_crawl, sites_file=str(sites), out=str(out), raw=str(raw))
        assert {name: table(out, name) for name in before} == before
        assert again["posts_new"] == again["posts_updated"] == 0 and len(table(out, "runs")) == 2

        # an edit on one site, and a third site that refuses us: the edit is published,
        # then the flow fails loudly naming the site
        one.posts[2].title = "Field Note 2, Revised"
        one.posts[2].modified_gmt = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        sites = _sites_file(tmp_path / "sites.toml", base1, base2, refusing_site)
        state = nightly_crawl(sites_file=str(sites), out=str(out), raw=str(raw), return_state=True)
    assert state.is_failed()
    with pytest.raises(SitesFailed, match="1 of 3 sites could not be crawled"):
        state.result()
    titles = {p["wp_id"]: p["title"] for p in table(out, "posts") if p["site"] == base1[7:]}
    assert titles[102] == "Field Note 2, Revised"
    [edit] = [c for c in table(out, "changes") if c["change"] != "added"]
    assert edit["change"] == "updated" and edit["fields"] == ["title", "modified_at"]
    page = _artifacts(str(state.state_details.flow_run_id))["nightly-crawl-changes"].data
    assert "## Sites that could not be crawled" in page and refusing_site in page
    assert "## Updated (1)" in page and "title, modified_at" in page


def test_the_same_backfill_twice_gives_the_same_tables(prefect_harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flows.cwingest_flows import backfill, ingest_dumps

    from cwingest.models import InputError

    write_sample(tmp_path / "in")
    out, raw = str(tmp_path / "out"), str(tmp_path / "raw")
    _run(ingest_dumps, paths=[str(tmp_path / "in")], out=out, raw=raw)
    first, run_id = _run(backfill, out=out, raw=raw, no_cache=True)
    tables = {name: table(tmp_path / "out", name) for name in (*COMPARED, "changes")}
    second, _ = _run(backfill, out=out, raw=raw, no_cache=True)
    assert {name: table(tmp_path / "out", name) for name in tables} == tables
    assert first["posts_updated"] == second["posts_updated"] == 0
    assert set(_artifacts(run_id)) == {"backfill-counts", "backfill-changes"}
    # a window of fetch dates rebuilds that window with what the output holds
    window, _ = _run(
        backfill, out=out, raw=raw, since=datetime(2000, 1, 1, tzinfo=UTC), until=datetime.now(UTC)
    )
    assert window["posts"] == first["posts"]
    with pytest.raises(InputError, match="no raw archive"):
        backfill(out=out, raw=str(tmp_path / "nowhere"))


def test_ingest_dumps_on_a_two_worker_dask_cluster_equals_in_process(  # type: ignore[no-untyped-def]
    prefect_harness, tmp_path: Path
) -> None:
    from flows.cwingest_flows import ingest_dumps

    write_publication(tmp_path / "in", posts=40, seed=3)
    local, _ = _run(
        ingest_dumps,
        paths=[str(tmp_path / "in")],
        out=str(tmp_path / "a"),
        raw=str(tmp_path / "ra"),
    )
    dask, run_id = _run(
        ingest_dumps,
        paths=[str(tmp_path / "in")],
        out=str(tmp_path / "b"),
        raw=str(tmp_path / "rb"),
        workers=2,
    )
    assert local["posts"] == dask["posts"] > 30
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    # the inputs were parsed as tasks of this flow run, in other processes
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    parsed = [t for t in tasks if t.name.startswith("parse ")]
    assert len(parsed) == dask["inputs"] and all(t.state.is_completed() for t in parsed)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A Dask scheduler and two workers started as commands (as on real machines), in
    another directory than the tests', on 127.0.0.1; stopped by their pids."""
    from prefect.settings import get_current_settings

    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            cwd="/",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    address = f"tcp://127.0.0.1:{port}"
    procs.append(
        subprocess.Popen(
            [
                *(dask, "worker", address, "--nworkers", "2", "--nthreads", "1"),
                *("--no-dashboard", "--host", "127.0.0.1"),
            ],
            cwd="/",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    )
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_a_cluster_address_from_the_environment_parses_on_that_cluster(  # type: ignore[no-untyped-def]
    prefect_harness, dask_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.cwingest_flows import ingest_dumps

    write_sample(tmp_path / "in")
    monkeypatch.chdir(tmp_path)  # relative paths: the workers run elsewhere
    local, _ = _run(ingest_dumps, paths=["in"], out="a", raw="ra")
    monkeypatch.setenv("CWINGEST_DASK_ADDRESS", dask_cluster)
    remote, run_id = _run(ingest_dumps, paths=["in"], out="b", raw="rb")
    assert remote["posts"] == local["posts"] == 5
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    assert len([t for t in tasks if t.name.startswith("parse ")]) == 15


def test_retries_skip_bad_input_errors() -> None:
    from flows.cwingest_flows import retry_unless_bad_input
    from prefect.states import Failed

    from cwingest.acquire.crawl import CrawlError
    from cwingest.models import InputError, Refused

    for exc, retried in (
        (InputError("no such file"), False),
        (Refused("would remove 3 posts"), False),
        (CrawlError("no REST API"), False),
        (OSError(5, "Input/output error"), True),
        (TimeoutError("read timed out"), True),
    ):
        assert retry_unless_bad_input(None, None, Failed(data=exc)) is retried, exc  # type: ignore[arg-type]


def _deployments() -> list[dict[str, Any]]:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


def test_prefect_yaml_entrypoints_schedules_and_parameters() -> None:
    import inspect

    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import load_flow_from_entrypoint

    deployments = {d["name"]: d for d in _deployments()}
    assert set(deployments) == {"nightly_crawl", "ingest_dumps", "backfill"}
    for name, d in deployments.items():
        path, _, func = d["entrypoint"].partition(":")
        flow = load_flow_from_entrypoint(str(ROOT / path) + ":" + func)
        assert flow.name == name
        assert set(d.get("parameters", {})) <= set(inspect.signature(flow.fn).parameters), name
        assert d["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
        assert d["work_pool"]["name"] == "cwingest"
        for schedule in d.get("schedules", []):
            parsed = CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])
            zoneinfo.ZoneInfo(parsed.timezone)  # an explicit, real time zone
    [nightly] = deployments["nightly_crawl"]["schedules"]
    assert nightly["timezone"] != "UTC" and nightly["active"] is True
    from cwingest.acquire.site_crawl import load_sites

    [aurora] = load_sites(ROOT / deployments["nightly_crawl"]["parameters"]["sites_file"])
    assert aurora.url == "https://aurora-institute.org" and aurora.options.post_types == (
        "cw_post",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real ``prefect server start`` on 127.0.0.1, stopped by its pid afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    prefect = str(Path(sys.executable).with_name("prefect"))
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "server.log"
            ).read_text(errors="replace")[-2000:]
            time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": api, "PATH": f"{Path(prefect).parent}:{env['PATH']}"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_prefect_deploy_registers_the_deployments_and_a_worker_runs_one(  # type: ignore[no-untyped-def]
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    prefect = str(Path(sys.executable).with_name("prefect"))
    home = tmp_path / "home"
    shutil.copytree(
        ROOT, home, ignore=shutil.ignore_patterns(".venv", ".git", "curated", ".*cache")
    )
    env = {**prefect_server, "CWINGEST_HOME": str(home)}

    def prefect_cli(*args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [prefect, "--no-prompt", *args],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout

    prefect_cli("work-pool", "create", "cwingest", "--type", "process")
    prefect_cli("deploy", "--all")
    listed = subprocess.run(
        [sys.executable, "-c", _READ_DEPLOYMENTS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    deployments = json.loads(listed.stdout.strip().splitlines()[-1])
    assert set(deployments) == {"nightly_crawl", "ingest_dumps", "backfill"}
    assert deployments["nightly_crawl"]["schedules"] == [["30 2 * * *", "America/New_York", True]]
    for d in deployments.values():
        assert d["collision_strategy"] == "ENQUEUE" and d["limit"] == 1
        assert d["pull"] == str(home)
    # a worker runs a deployment as data staff would schedule it
    out = tmp_path / "out"
    prefect_cli(
        "deployment", "run", "ingest_dumps/ingest_dumps",
        "-p", 'paths=["raw/sample"]', "-p", f"out={out}", "-p", f"raw={tmp_path / 'raw'}", "-p", "workers=1",
    )  # fmt: skip
    prefect_cli("worker", "start", "--pool", "cwingest", "--run-once", timeout=300)
    assert len(table(out, "posts")) == 5 and table(out, "runs")[0]["command"] == "ingest"


_READ_DEPLOYMENTS = """
import json
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    found = {}
    for d in client.read_deployments():
        found[d.name] = {
            "schedules": [[s.schedule.cron, s.schedule.timezone, s.active] for s in d.schedules],
            "collision_strategy": d.concurrency_options.collision_strategy.value,
            "limit": d.global_concurrency_limit.limit,
            "pull": d.pull_steps[0]["prefect.deployments.steps.set_working_directory"]["directory"],
        }
print(json.dumps(found))
"""


def test_backfill_can_crawl_its_window_again_first(prefect_harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flows.cwingest_flows import backfill

    site = make_site(5)
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        sites = _sites_file(tmp_path / "sites.toml", base)
        result, run_id = _run(
            backfill, out=str(out), raw=str(raw), recrawl=True, sites_file=str(sites)
        )
        assert result["posts"] == 5 and len(table(out, "raw_records")) == 1
        # the window again: the site has nothing new, the archive and tables stay as they are
        again, _ = _run(
            backfill,
            out=str(out),
            raw=str(raw),
            recrawl=True,
            sites_file=str(sites),
            since=datetime(2024, 1, 1, tzinfo=UTC),
        )
    assert again["posts_new"] == again["posts_updated"] == 0
    assert len(table(out, "raw_records")) == 1
    commands = [r["command"] for r in table(out, "runs")]
    assert commands == ["crawl", "backfill", "crawl", "backfill"]
    assert "backfill-recrawl-counts" in _artifacts(run_id)
