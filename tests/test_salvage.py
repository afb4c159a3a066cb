"""Records cut off at either end keep every field that is still whole."""

from __future__ import annotations

import json

from cwingest.parse.lenient_json import salvage

RECORDS = [
    {
        "id": 1,
        "title": {"rendered": "One"},
        "content": {"rendered": "<p>First post.</p>", "protected": False},
        "excerpt": {"rendered": "<p>First</p>"},
        "author": 3,
        "issue": [7],
        "class_list": ["post-1", "issue-a"],
    },
    {
        "id": 2,
        "title": {"rendered": "Two"},
        "content": {"rendered": "<p>Second post.</p>", "protected": False},
    },
    {
        "id": 3,
        "title": {"rendered": "Three"},
        "content": {"rendered": "<p>Third post, long.</p>", "protected": False},
    },
]


def test_list_page_cut_at_both_ends() -> None:
    dump = json.dumps(RECORDS)
    start = dump.index("First post")
    end = dump.index("Third post") + len("Third")
    found = salvage(dump[start:end])
    assert found.leading_string == "First post.</p>"
    assert found.partial[0]["author"] == 3 and found.partial[0]["issue"] == [7]
    assert found.partial[0]["class_list"] == ["post-1", "issue-a"]
    assert found.complete == [RECORDS[1]]
    last = found.partial[-1]
    assert last["id"] == 3 and last["content"]["rendered"] == "<p>Third"


def test_unterminated_escape_at_the_cut() -> None:
    text = '{"id": 9, "title": {"rendered": "Caf\\u00e9"}, "content": {"rendered": "abc\\u20'
    [partial] = salvage(text).partial
    assert partial["title"]["rendered"] == "Café" and partial["content"]["rendered"] == "abc"


def test_nothing_to_salvage() -> None:
    found = salvage("just some words, no JSON at all")
    assert not found.complete and not found.partial


def test_hostile_fragments_finish_and_say_so() -> None:
    """Braces by the hundred thousand, or nesting without end, are read in bounded work."""
    from cwingest.parse.lenient_json import MAX_FAILURES

    braces_in_a_string = salvage('"id": "' + '{"' * 100_000)
    assert braces_in_a_string.gave_up and not braces_in_a_string.complete
    deep = salvage('"rendered": "x", ' + '{"a": [' * 5000)
    assert not deep.complete
    many = salvage('{"k": [' + '{"a": 1}, ' * (MAX_FAILURES + 10) + "x")
    assert (
        len(many.complete) == MAX_FAILURES + 10 and not many.gave_up
    )  # whole records are not failures


def test_deep_json_is_rejected_with_a_reason(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import table

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "deep.json").write_text(
        '{"id": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    (tmp_path / "in" / "cut.json").write_text('"rendered": "x", "id": "' + '{"' * 50_000)
    (tmp_path / "in" / "noise.txt").write_text("-- * || ## " * 500)  # no words at all
    out, summary = run(tmp_path / "in")
    details = {r["source_uri"].rsplit("/", 1)[1]: r["detail"] for r in table(out, "rejects")}
    assert "nested too deeply" in details["deep.json"]
    assert "rest is unread" in details["cut.json"] or "no salvageable" in details["cut.json"]
    assert "no readable text" in details["noise.txt"]
    assert summary.rejected == 3
