"""What downstream apps and researchers read: the change feed, clean excerpts and names,
languages, the loaders, DuckDB views, exports and the data dictionary."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cwingest.acquire.crawl import CrawlOptions
from cwingest.cli import main
from cwingest.pipeline import run_crawl, run_ingest
from cwingest.sample import write_sample
from tests.conftest import REAL, RECORDED, need, table
from tests.wpserver import make_site, serve

FAST = CrawlOptions(per_page=10, rate=100, read_timeout=2.0, connect_timeout=2.0, sweep=True)


def _changes(out: Path, run_id: str) -> dict[int, tuple[str, list[str]]]:
    """wp_id -> (change, fields) of one run's rows of the change feed."""
    ids = {p["post_id"]: p["wp_id"] for p in table(out, "posts")}
    return {
        ids[c["post_id"]]: (c["change"], c["fields"])
        for c in table(out, "changes")
        if c["run_id"] == run_id
    }


def test_the_change_feed_over_an_edit_an_addition_a_deletion_and_a_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(6)
    out, raw = tmp_path / "out", tmp_path / "raw"
    with serve(site) as base:
        first = run_crawl(base, out=out, raw=raw, options=FAST)
        assert {c for c, _ in _changes(out, first.run_id).values()} == {"added"}
        now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
        # run 2: one post edited, one added, one trashed (401 for an anonymous visitor)
        site.posts[1].title = "Field Note 1: Revised After the Visit"
        site.posts[1].modified_gmt = now
        new = make_site(7).posts[6]
        new.date_gmt = new.modified_gmt = now
        site.posts.append(new)
        site.posts[3].status = "draft"
        second = run_crawl(base, out=out, raw=raw, options=FAST)
        # run 3: the trashed post is published again
        site.posts[3].status = "publish"
        site.posts[3].modified_gmt = now + timedelta(seconds=30)
        third = run_crawl(base, out=out, raw=raw, options=FAST)
    assert _changes(out, second.run_id) == {
        101: ("updated", ["title", "modified_at"]),
        106: ("added", []),
        103: ("deleted", ["deleted_at", "deleted_reason"]),
    }
    assert second.posts_new == 1 and second.posts_updated == 2 and second.posts_deleted == 1
    assert _changes(out, third.run_id) == {
        103: ("restored", ["modified_at", "deleted_at", "deleted_reason"])
    }
    assert third.posts_restored == 1 and table(out, "runs")[-1]["posts_restored"] == 1
    # changed_at: the run that last changed each post
    posts = {p["wp_id"]: p for p in table(out, "posts")}
    assert posts[103]["changed_at"] == third.started_at
    assert posts[101]["changed_at"] == posts[106]["changed_at"] == second.started_at
    assert posts[100]["changed_at"] == first.started_at
    # what an app that saw run 1 (or run 2) reads
    assert main(["changes", "--out", str(out), "--since", first.run_id]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted((line.split("\t")[0], line.split("\t")[1]) for line in lines) == sorted(
        [
            (second.run_id, "added"),
            (second.run_id, "deleted"),
            (second.run_id, "updated"),
            (third.run_id, "restored"),
        ]
    )
    assert all(line.split("\t")[0] in (second.run_id, third.run_id) for line in lines)
    assert main(["changes", "--out", str(out), "--since", second.run_id, "--format", "jsonl"]) == 0
    [restored] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert restored["change"] == "restored" and restored["run_id"] == third.run_id
    assert main(["changes", "--out", str(out), "--since", "no-such-run"]) == 2


def test_a_new_copy_of_a_post_is_not_an_update(tmp_path: Path) -> None:
    """A listing copy edited in one entry: only bookkeeping changes for the other posts
    (source_count, last_seen_at), so they are unchanged and the feed names none."""
    write_sample(tmp_path / "in")
    out, raw = tmp_path / "out", tmp_path / "raw"
    run_ingest([str(tmp_path / "in")], out=out, raw=raw)
    listing = next(p for p in (tmp_path / "in").rglob("*") if "listing" in p.name)
    edited = tmp_path / "edited" / listing.name
    edited.parent.mkdir()
    edited.write_bytes(listing.read_bytes().replace(b"Teachers", b"The teachers", 1))
    again = run_ingest([str(edited)], out=out, raw=raw)
    assert again.posts_updated == 0 and again.posts_new == 0
    assert not [c for c in table(out, "changes") if c["run_id"] == again.run_id]
    assert sum(p["source_count"] for p in table(out, "posts")) > 19  # the copy did join


AURORA_RECORD = {
    "id": 5801,
    "date_gmt": "2019-03-13T14:32:00",
    "modified_gmt": "2019-03-14T09:00:00",
    "slug": "calibrating-rubrics",
    "type": "cw_post",
    "link": "https://aurora-institute.org/cw_post/calibrating-rubrics/",
    "title": {"rendered": "Calibrating Rubrics"},
    "content": {
        "rendered": "<p>Author(s): Maya Okafor, Luis Ferreira</p><p>Print Friendly</p>"
        "<p>In the first year, teachers met every Thursday to score the same student work "
        "and talk about the differences.</p><p>By spring they agreed far more often.</p>"
    },
    "excerpt": {
        "rendered": "<p>Author(s): Maya Okafor, Luis Ferreira Print Friendly In the first year, "
        "teachers met every Thursday to score the same student work and talk about the "
        "differences. By spring they agreed [&hellip;]</p>"
    },
}


def test_excerpts_are_cleaned_like_the_text(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "post.json").write_text(json.dumps(AURORA_RECORD))
    own = dict(AURORA_RECORD, id=5802, slug="share-your-thoughts")
    own["link"] = "https://aurora-institute.org/cw_post/share-your-thoughts/"
    own["title"] = {"rendered": "Share Your Thoughts"}
    own["content"] = {"rendered": "<p>Share</p><p>Tell us how grading works at your school.</p>"}
    own["excerpt"] = {"rendered": "<p>Share your thoughts on grading with us.</p>"}
    (tmp_path / "in" / "own.json").write_text(json.dumps(own))
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    posts = {p["wp_id"]: p for p in table(tmp_path / "out", "posts")}
    assert posts[5801]["excerpt"].startswith("In the first year, teachers met")
    assert posts[5801]["authors"] == ["Maya Okafor", "Luis Ferreira"]
    # a word the content dropped as chrome is the excerpt's own word when no sentence
    # starts after it
    assert posts[5802]["excerpt"] == "Share your thoughts on grading with us."


def test_recorded_site_excerpts_carry_no_byline_or_chrome(tmp_path: Path) -> None:
    need(RECORDED)
    run_ingest([str(RECORDED)], out=tmp_path / "out", raw=tmp_path / "raw")
    excerpts = [p["excerpt"] for p in table(tmp_path / "out", "posts") if p["excerpt"]]
    assert len(excerpts) > 20
    assert not [e for e in excerpts if re.match(r"(?i)(author\(s\)|authors?|issues?\(s\)|by)\b", e)]
    assert not [e for e in excerpts if "Print Friendly" in e]


def test_names_show_the_spelling_most_posts_use(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for i, name in enumerate(["admin", "admin", "A̸̰̅d̴̰͝m̵͎̽i̵̱̋n̷̰̎", "Admin", "admin"]):
        rec = {
            "id": 100 + i,
            "date_gmt": f"2020-0{i + 1}-01T10:00:00",
            "link": f"https://blog.example/p{i}/",
            "title": {"rendered": f"Post {i}"},
            "content": {"rendered": f"<p>Text number {i} of the blog, about something else.</p>"},
            "_embedded": {"author": [{"id": 1, "name": name}]},
        }
        (tmp_path / "in" / f"{i}.json").write_text(json.dumps(rec))
    run_ingest([str(tmp_path / "in")], out=tmp_path / "out", raw=tmp_path / "raw")
    [author] = table(tmp_path / "out", "authors")
    assert author["name"] == "admin" and author["post_count"] == 5
    assert set(author["variants"]) == {"Admin", "A̸̰̅d̴̰͝m̵͎̽i̵̱̋n̷̰̎"}


# Written for these tests (one paragraph each, on the same subject).
LANGUAGES = {
    "en": "The teachers at our school spent the whole year writing new rubrics together. "
    "Students can now follow their own progress, and every week the families get a short "
    "note about what their children learned in class and what comes next for them.",
    "de": "Die Lehrerinnen und Lehrer unserer Schule haben im vergangenen Jahr gemeinsam neue "
    "Bewertungsraster entwickelt. Die Schülerinnen und Schüler können ihre Fortschritte "
    "jetzt selbst verfolgen, und die Eltern bekommen jede Woche eine kurze Rückmeldung.",
    "fr": "Les enseignants de notre école ont travaillé ensemble pendant toute l'année pour "
    "écrire de nouvelles grilles d'évaluation. Les élèves peuvent maintenant suivre leurs "
    "propres progrès, et les familles reçoivent chaque semaine un court message.",
    "es": "Los maestros de nuestra escuela trabajaron juntos durante todo el año para escribir "
    "nuevas rúbricas de evaluación. Ahora los estudiantes pueden seguir su propio progreso, y "
    "las familias reciben cada semana un breve mensaje sobre lo que aprendieron sus hijos.",
    "pl": "Nauczyciele w naszej szkole przez cały rok wspólnie przygotowywali nowe kryteria "
    "oceniania. Uczniowie mogą teraz sami śledzić swoje postępy, a rodzice co tydzień "
    "dostają krótką wiadomość o tym, czego ich dzieci nauczyły się na lekcjach.",
    "pt": "Os professores da nossa escola trabalharam juntos durante todo o ano para escrever "
    "novas rubricas de avaliação. Agora os alunos podem acompanhar o seu próprio progresso, e "
    "as famílias recebem todas as semanas uma breve mensagem sobre o que os filhos aprenderam.",
    "nl": "De leraren van onze school hebben het hele jaar samen gewerkt aan nieuwe "
    "beoordelingscriteria. De leerlingen kunnen nu zelf hun voortgang volgen, en de ouders "
    "krijgen elke week een kort bericht over wat hun kinderen in de klas hebben geleerd.",
}


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_language_of_a_text(lang: str) -> None:
    from cwingest.enrich.language import detect_language

    assert detect_language(LANGUAGES[lang]) == lang
    assert detect_language(" ".join([LANGUAGES[lang]] * 30)) == lang  # long texts too


def test_language_is_und_when_unsure_and_none_without_text() -> None:
    from cwingest.enrich.language import detect_language

    assert detect_language("Thanks!") == "und"
    assert detect_language("Dana Whitfield, Lee Okafor, Priya Raman, 2019, 2020, 2021") == "und"
    assert detect_language("") is None and detect_language(None) is None


def test_languages_of_the_real_pages_are_plausible(tmp_path: Path) -> None:
    """The 200 real article pages (German, English, Spanish, French): never an exotic or
    non-ISO-639-1 code for a long text, only a language or und."""
    pages = need(REAL / "trafilatura-eval-wp" / "pages")
    run_ingest([str(pages)], out=tmp_path / "out", raw=tmp_path / "raw")
    found = {p["language"] for p in table(tmp_path / "out", "posts") if p["word_count"] >= 100}
    assert found <= {"de", "en", "es", "fr", "und"}, found
    assert {"de", "en", "es", "fr"} <= found


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sample")
    write_sample(base / "in")
    run_ingest([str(base / "in")], out=base / "curated", raw=base / "raw")
    return base / "curated"


def test_pandas_loaders_keep_integers_strings_and_lists(sample_out: Path) -> None:
    import pandas as pd

    import cwingest

    posts = cwingest.load_posts(sample_out)
    assert len(posts) == 5
    assert posts["wp_id"].dtype == pd.Int64Dtype()  # never float, even with missing ids
    assert posts["title"].dtype == pd.StringDtype("pyarrow")
    assert posts["is_excerpt_only"].dtype == pd.BooleanDtype()
    assert str(posts["published_at"].dtype) == "datetime64[us, UTC]"
    assert posts["authors"].list.len().sum() > 0
    assert any("Equity" in xs for xs in posts["issues"])
    exploded = posts[["post_id", "authors"]].explode("authors")
    assert set(exploded["authors"].dropna()) == {a["name"] for a in table(sample_out, "authors")}
    sources = cwingest.load_post_sources(sample_out)
    assert len(sources) == 19 and sources["doc_index"].dtype == pd.Int64Dtype()
    assert len(cwingest.load_changes(sample_out)) == 5
    with pytest.raises(cwingest.InputError, match="no table"):
        cwingest.load_table("nope", sample_out)


def test_polars_loader_when_polars_is_installed(sample_out: Path) -> None:
    pl = pytest.importorskip("polars")
    import cwingest

    posts = cwingest.load_posts(sample_out, backend="polars")
    assert isinstance(posts, pl.DataFrame) and posts.height == 5
    assert posts.schema["wp_id"] == pl.Int64 and posts.schema["authors"] == pl.List(pl.String)


def test_duckdb_views_with_exploded_authors_and_issues(sample_out: Path) -> None:
    import duckdb

    sql = (sample_out / "corpus.sql").read_text()
    con = duckdb.connect()
    con.execute(sql)
    [(n,)] = con.sql("SELECT count(*) FROM posts").fetchall()
    assert n == 5
    authors = con.sql("SELECT author, count(*) FROM post_authors GROUP BY 1").fetchall()
    assert {a for a, _ in authors} == {a["name"] for a in table(sample_out, "authors")}
    issues = dict(con.sql("SELECT issue, count(*) FROM post_issues GROUP BY 1").fetchall())
    assert issues == {i["name"]: i["post_count"] for i in table(sample_out, "issues")}
    [(comment,)] = con.sql(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'posts' AND column_name = 'wp_id'"
    ).fetchall()
    assert comment.startswith("WordPress post id")
    # the descriptions are in the Parquet files themselves, for pyarrow and for DuckDB
    [part] = list((sample_out / "posts").glob("*.parquet"))
    field = pq.read_schema(part).field("wp_id")
    assert field.metadata[b"description"].decode() == comment
    [(value,)] = con.sql(
        f"SELECT value FROM parquet_kv_metadata('{part}') WHERE key = 'description.wp_id'"
    ).fetchall()
    assert value.decode() == comment


def test_export_jsonl_and_csv(sample_out: Path, tmp_path: Path) -> None:
    assert (
        main(
            [
                "export",
                "--out",
                str(sample_out),
                "--format",
                "jsonl",
                "--output",
                str(tmp_path / "p.jsonl"),
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and isinstance(rows[0]["authors"], list)
    assert {r["post_id"] for r in rows} == {p["post_id"] for p in table(sample_out, "posts")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cwingest",
            "export",
            "--out",
            str(sample_out),
            "--table",
            "authors",
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    got = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["name"] for r in got] == [a["name"] for a in table(sample_out, "authors")]
    assert json.loads(got[0]["variants"]) == []
    assert main(["export", "--out", str(sample_out), "--table", "nope", "--format", "csv"]) == 2


def test_the_data_dictionary_is_generated_from_the_schemas(sample_out: Path) -> None:
    from cwingest.publish.schemas import TABLES, load_schema

    text = (sample_out / "DATA_DICTIONARY.md").read_text()
    for name in TABLES:
        schema = load_schema(name)
        assert f"## `{name}`" in text
        section = text.split(f"## `{name}`")[1].split("\n## ")[0]
        for field in schema.arrow:
            assert f"| `{field.name}` | {schema.types[field.name]} |" in section, field.name
    wp_id = next(r for r in text.splitlines() if r.startswith("| `wp_id` |"))
    assert "| int64 | yes | WordPress post id" in wp_id and "`58" in wp_id  # an example value
    assert (
        "| `changed_at` |" in text and "One of: `added`, `updated`, `deleted`, `restored`" in text
    )
