"""Chinese text analysis as Elasticsearch's built-in `cjk` analyzer does it, and the phrase queries built on it.

A CJK run becomes overlapping character bigrams (a lone CJK character stays a unigram), a Latin or digit
run becomes one lowercased word, everything else separates tokens. Positions run on across runs, so a
query analysed the same way and matched as a phrase finds exactly the texts that contain it: 锂电 finds
锂电池 (bigram 锂电), 产线 finds 生产线 (bigram 产线). Both backends share this module, which is how the
embedded index and Elasticsearch agree on what a query finds.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Han (with extensions and compatibility ideographs), kana and hangul: the scripts the cjk_bigram filter pairs.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
_WORD = f"(?:(?![{_CJK}])[^\\W_])+"
# As the standard tokenizer (UAX #29) does: 4.35 and 1,000 stay one number, e.g and o'neil one word.
_TOKEN_RE = re.compile(
    f"([{_CJK}]+)|({_WORD}(?:(?:(?<=\\d)[.,](?=\\d)|(?<=[^\\W\\d_])[.'’](?=[^\\W\\d_])){_WORD})*)")
# cjk_width: full-width ASCII (Ａ１) reads as its half-width form, as in Elasticsearch.
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Straight and curly quotes both delimit a phrase.
_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"'})
MAX_VARIANTS = 16


def normalize(text: str) -> str:
    """Fold full-width ASCII and lowercase, the character filters the analyzer applies first."""
    return text.translate(_WIDTH).lower()


def tokens(text: str) -> list[str]:
    """The analyzed tokens of `text`, in position order (bigrams, lone CJK unigrams, lowercased words)."""
    out: list[str] = []
    for cjk, word in _TOKEN_RE.findall(normalize(text)):
        if cjk:
            if len(cjk) == 1:
                out.append(cjk)
            else:
                out.extend([cjk[i:i + 2] for i in range(len(cjk) - 1)])
        else:
            out.append(word)
    return out


_SINGLE_CJK_RE = re.compile(f"[{_CJK}]")


def is_single_cjk(text: str) -> bool:
    """True for one CJK character alone: bigram indexes hold it only inside bigrams, so it needs a term pattern."""
    return _SINGLE_CJK_RE.fullmatch(text) is not None


@dataclass(frozen=True)
class Phrase:
    """One phrase of a query: the text the user meant and its analyzed tokens."""

    text: str
    tokens: tuple[str, ...]

    @property
    def single_char(self) -> bool:
        """A lone CJK character: matched as any indexed term containing it (`.?X.?`), not as a token."""
        return len(self.tokens) == 1 and is_single_cjk(self.tokens[0])

    @property
    def pattern(self) -> str:
        """The term pattern of a single-character phrase, the same regular expression for both backends."""
        return f".?{self.tokens[0]}.?"


@dataclass(frozen=True)
class Clause:
    """One required part of a query: any of its phrases (a term and its synonyms) must occur."""

    phrases: tuple[Phrase, ...]


class TextError(ValueError):
    """The text of a query cannot be understood; `message` is in Chinese for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def split_terms(text: str) -> list[str]:
    """Split query text into terms: whitespace separates terms, a quoted part is one term."""
    text = normalize(text).translate(_QUOTES)
    if text.count('"') % 2:
        raise TextError("引号不成对：请补全或删除引号后再搜索")
    terms: list[str] = []
    for i, part in enumerate(text.split('"')):
        if i % 2:  # inside quotes
            if part.strip():
                terms.append(part.strip())
        else:
            terms.extend(part.split())
    return terms


def expand(term: str, synonyms: Sequence[Sequence[str]]) -> list[str]:
    """The term and its synonym variants: a group member found in the term is replaced by each other member."""
    variants = [term]
    for group in synonyms:
        members = sorted((normalize(m) for m in group), key=len, reverse=True)
        for member in members:
            if member and member in term:
                for other in members:
                    variant = term.replace(member, other)
                    if variant not in variants:
                        variants.append(variant)
                break
    return variants[:MAX_VARIANTS]


def parse_text(text: str, synonyms: Sequence[Sequence[str]] = ()) -> list[Clause]:
    """Turn query text into clauses (all required), each a set of phrases (any suffices).

    Raises TextError for unbalanced quotes or a text with nothing searchable in it.
    """
    clauses: list[Clause] = []
    for term in split_terms(text):
        phrases = []
        for variant in expand(term, synonyms):
            toks = tuple(tokens(variant))
            if toks:
                phrases.append(Phrase(variant, toks))
        if phrases:
            clauses.append(Clause(tuple(phrases)))
    if text.strip() and not clauses:
        raise TextError("搜索词中没有可检索的文字或数字")
    return clauses


def analyzed(values: Iterable[str | None]) -> list[str]:
    """Each non-empty value as its space-joined tokens: the pre-analyzed form the embedded index stores."""
    out = []
    for value in values:
        if value:
            toks = tokens(value)
            if toks:
                out.append(" ".join(toks))
    return out


def needles(clauses: Sequence[Clause]) -> list[str]:
    """The strings a highlighter marks: every phrase of every clause, longest first."""
    found = {normalize(p.text).strip() for c in clauses for p in c.phrases}
    return sorted((n for n in found if n), key=len, reverse=True)


def highlight(text: str, marks: Sequence[str], size: int = 100, pre: str = "<em>", post: str = "</em>") -> list[str]:
    """One HTML-escaped fragment of `text` around its first match, every match wrapped in `pre`/`post`.

    The matches are the query's phrases as substrings (the same thing the index matched), so the
    fragment marks exactly what was found; [] when nothing matches (a synonym found the document).
    """
    import html

    folded = normalize(text)
    if len(folded) != len(text):  # a rare case-fold that changes length: match on the text as given
        folded = text
    spans: list[tuple[int, int]] = []
    for needle in marks:
        start = folded.find(needle)
        while needle and start != -1:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + len(needle))
    if not spans:
        return []
    spans.sort()
    merged = [spans[0]]
    for s, e in spans[1:]:
        if s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    begin = max(0, merged[0][0] - size // 5)
    end = min(len(text), begin + size)
    out, pos = [], begin
    for s, e in merged:
        if s >= end:
            break
        e = min(e, end)
        out.append(html.escape(text[pos:s]) + pre + html.escape(text[s:e]) + post)
        pos = e
    out.append(html.escape(text[pos:end]))
    return ["".join(out)]
