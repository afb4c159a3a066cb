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
