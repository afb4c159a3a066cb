"""Memory of the streamed WXR reader: peak RSS must not grow with the export's size.

Writes WXR exports of growing size (invented posts of ~4 KB each), ingests each in a fresh
process and prints the file size, documents, seconds and peak RSS. Usage::

    python benchmarks/bench_wxr.py [N_POSTS ...]      # default: 2000 20000 (about 9 and 90 MB)
"""

from __future__ import annotations

import html
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cwingest.sample import make_posts

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><link>https://bench.example</link><wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[bench]]></wp:author_login>
<wp:author_display_name><![CDATA[Bench Writer]]></wp:author_display_name></wp:author>
"""


def write_wxr(path: Path, n: int) -> None:
    """An export of n published posts, written item by item."""
    base = make_posts()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD)
        for i in range(n):
            post = base[i % len(base)]
            body = "\n\n".join(f"Post {i}. {p}" for p in post.paragraphs * 4)
            fh.write(f"""<item><title>{html.escape(post.title)} {i}</title>
<link>https://bench.example/?p={i + 1}</link>
<dc:creator><![CDATA[bench]]></dc:creator>
<content:encoded><![CDATA[{body}]]></content:encoded><wp:post_id>{i + 1}</wp:post_id>
<wp:post_date_gmt>{post.date_gmt.replace("T", " ")}</wp:post_date_gmt>
<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>
<category domain="category" nicename="bench"><![CDATA[Bench]]></category></item>
""")
        fh.write("</channel></rss>\n")


def run_one(n: int) -> None:
    """Ingest an export of n posts in this process and print one line of figures."""
    from cwingest.pipeline import run_ingest

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "export.xml"
        write_wxr(path, n)
        size_mb = path.stat().st_size / 1e6
        t0 = time.perf_counter()
        summary = run_ingest([str(path)], out=root / "out", raw=root / "raw")
        took = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{size_mb:7.1f} MB export  {summary.documents:>7} documents  {took:7.1f} s  "
        f"{size_mb / took:5.2f} MB/s  peak RSS {peak_mb:6.0f} MB"
    )


def main(argv: list[str]) -> None:
    """Run each size in its own process."""
    if argv[:1] == ["--one"]:
        run_one(int(argv[1]))
        return
    for n in [int(a) for a in argv] or [2000, 20000]:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
