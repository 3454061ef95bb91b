"""Text handling of the Bot API test server: Telegram's HTML parse mode and automatic entities.

`parse_html` follows what Telegram's parser (tdlib's parse_html) accepts, so that a message the
bot sends here is rejected exactly when real Telegram would reject it:
- tags: b strong i em u ins s strike del a(href) code pre blockquote tg-spoiler
  span(class="tg-spoiler"); any other tag, or a bare "<", is an error;
- end tags must match the innermost open tag; every tag must be closed;
- named entities &lt; &gt; &amp; &quot; and numeric ones (&#60; &#x3C;) are decoded; any other
  "&" is kept as it is (Telegram does the same).
The result is the plain text and its entities (offsets in UTF-16 code units), as Telegram
returns them in the sent Message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
    "code": "code", "pre": "pre", "blockquote": "blockquote",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TAG_NAME_RE = re.compile(r"[A-Za-z0-9_-]*")
_ATTRS_RE = re.compile(
    r"((?:\s+[A-Za-z0-9_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([A-Za-z0-9_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_END_TAG_RE = re.compile(r"</([A-Za-z0-9_-]*)\s*>")

# Entities Telegram finds by itself in what users type.
_AUTO_RE = re.compile(
    r"(?P<bot_command>(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{4,32})"
    r"|(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)'])"
)


class EntityParseError(ValueError):
    """Telegram's "can't parse entities" error; the message is Telegram's wording."""


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the plain text
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Plain text and entities of a message sent with parse_mode HTML, or EntityParseError."""
    out: list[str] = []
    pos = 0  # UTF-16 length of out
    stack: list[_OpenTag] = []
    entities: list[dict] = []
    i = 0
    while i < len(text):
        if text.startswith("</", i):
            i = _close_tag(text, i, stack, pos, entities)
        elif text[i] == "<":
            i = _open_tag(text, i, stack, pos)
        else:
            char, i = _decode_at(text, i)
            out.append(char)
            pos += utf16_len(char)
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a language only counts inside <pre>
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def detect_entities(text: str) -> list[dict]:
    """The bot_command, mention and url entities Telegram adds to a message a user types."""
    return [
        {"type": m.lastgroup, "offset": utf16_len(text[: m.start()]),
         "length": utf16_len(m.group())}
        for m in _AUTO_RE.finditer(text)
    ]


def _decode_at(text: str, i: int) -> tuple[str, int]:
    """The character at i, an entity decoded, and where the next one begins."""
    if text[i] == "&":
        m = _ENTITY_RE.match(text, i)
        if m:
            return _entity_char(m), m.end()
    return text[i], i + 1


def _entity_char(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


def _unescape(value: str) -> str:
    return _ENTITY_RE.sub(_entity_char, value)


def _byte_offset(text: str, i: int) -> int:
    return len(text[:i].encode())


def _open_tag(text: str, i: int, stack: list[_OpenTag], pos: int) -> int:
    name_match = _TAG_NAME_RE.match(text, i + 1)
    assert name_match is not None  # the pattern matches the empty string
    name = name_match.group().lower()
    if name not in ENTITY_TYPES:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
        )
    attrs_match = _ATTRS_RE.match(text, name_match.end())
    if attrs_match is None:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
    attrs = {
        key.lower(): _unescape(value.strip("\"'")) if value else ""
        for key, value in _ATTR_RE.findall(attrs_match.group(1))
    }
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}'
        )
    stack.append(_OpenTag(name, pos, attrs))
    return attrs_match.end()


def _close_tag(
    text: str, i: int, stack: list[_OpenTag], pos: int, entities: list[dict]
) -> int:
    m = _END_TAG_RE.match(text, i)
    if m is None:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
    name = m.group(1).lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
    tag = stack.pop()
    if name != tag.name:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {_byte_offset(text, i)}, '
            f'expected "</{tag.name}>", found "</{name}>"'
        )
    entity = _entity_for(tag, pos, entities)
    if entity is not None and entity["length"] > 0:
        entities.append(entity)
    return m.end()


def _entity_for(tag: _OpenTag, pos: int, entities: list[dict]) -> dict | None:
    """The entity a closed tag makes (None for none); may merge an inner <code> into <pre>."""
    entity: dict = {"type": ENTITY_TYPES[tag.name], "offset": tag.start, "length": pos - tag.start}
    if tag.name == "a":
        if not tag.attrs.get("href"):
            return None  # Telegram drops a link without a target
        entity["url"] = tag.attrs["href"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "pre":
        inner = [e for e in entities if e["type"] == "code"
                 and (e["offset"], e["length"]) == (entity["offset"], entity["length"])]
        if inner:  # <pre><code class="language-x"> is one pre entity
            entities.remove(inner[0])
            if inner[0].get("language"):
                entity["language"] = inner[0]["language"]
    elif tag.name == "code" and tag.attrs.get("class", "").startswith("language-"):
        entity["language"] = tag.attrs["class"].removeprefix("language-")
    return entity
