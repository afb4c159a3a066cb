"""What WordPress does to raw post content before showing it: shortcodes and wpautop.

Exports (WXR) hold ``post_content`` as stored: paragraphs are blank lines, not ``<p>``
tags, and shortcodes (``[caption]``, ``[gallery]``, page-builder tags) are still in the
text. These functions do what WordPress does on display, so the text keeps its paragraphs
and carries no shortcode residue.
"""

from __future__ import annotations

import re

# Shortcodes whose content is not prose (an image with its caption, an embed URL).
_DROP_WITH_CONTENT = ("caption", "wp_caption", "embed", "video", "audio", "playlist", "gallery")
_PAIRED_DROP = re.compile(
    r"\[(" + "|".join(_DROP_WITH_CONTENT) + r")\b[^\]]*\].*?\[/\1\]", re.IGNORECASE | re.DOTALL
)
_KNOWN = (
    r"(?:caption|wp_caption|gallery|embed|video|audio|playlist|contact-form(?:-7)?|"
    r"vc_\w+|et_pb_\w+|fusion_\w+|av_\w+|cs_\w+|x_\w+|su_\w+|tie_\w+|dropcap|button|"
    r"column\w*|row\w*|one_half\w*|one_third\w*|two_third\w*|one_fourth\w*|three_fourth\w*|"
    r"tabs?|toggle|accordion\w*|quote|pullquote|pdf-embedder|googlemaps|ssba|tweetable)"
)
# An opening, self-closing or closing tag of a known shortcode; its inner text is kept.
_TAG = re.compile(r"\[/?" + _KNOWN + r"(?:\s[^\]\[]*)?/?\]", re.IGNORECASE)
# Any other [name attr="..."] with attributes, or a matching [/name]: shortcode syntax.
_GENERIC = re.compile(r"\[(/?)([a-z][\w-]*)(\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))+\s*/?\]")
_BLOCKS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|"
    "area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|"
    "hgroup|header|footer|nav|figure|figcaption|details|menu|summary"
)
_STARTS_BLOCK = re.compile(rf"^\s*</?(?:{_BLOCKS})[\s/>]", re.IGNORECASE)


def strip_shortcodes(text: str) -> str:
    """Remove shortcode tags (and the content of media shortcodes)."""
    if "[" not in text:
        return text
    text = _PAIRED_DROP.sub("", text)
    text = _TAG.sub("", text)
    return _GENERIC.sub("", text)


def wpautop(text: str) -> str:
    """Wrap blank-line separated chunks in ``<p>`` (as WordPress's ``wpautop``).

    Chunks that already start with a block element are left as they are; single newlines
    inside a paragraph become ``<br>``. Content that already has ``<p>`` tags throughout
    (block editor output) passes through unchanged.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    chunks = re.split(r"\n\s*\n", text)
    out = []
    for chunk in chunks:
        chunk = chunk.strip()
        if not chunk:
            continue
        if _STARTS_BLOCK.match(chunk) or chunk.startswith("<!--"):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)
