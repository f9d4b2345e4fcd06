"""The cjk-style analysis: bigrams, unigrams, words, phrases, synonyms and highlighting."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import TextError, expand, highlight, parse_text, split_terms, tokens


@pytest.mark.parametrize(("text", "expected"), [
    ("锂电池隔膜", ["锂电", "电池", "池隔", "隔膜"]),
    ("锂", ["锂"]),
    ("5G基站 ABC-def", ["5g", "基站", "abc", "def"]),
    ("锂电池，隔膜", ["锂电", "电池", "隔膜"]),
    ("ＡＢＣ１２３", ["abc123"]),
    ("，。！", []),
    ("利率4.35%，1,000万元", ["利率", "4.35", "1,000", "万元"]),
    ("e.g. o'neil x,y", ["e.g", "o'neil", "x", "y"]),
])
def test_tokens_are_cjk_bigrams_and_lowercased_words(text, expected):
    assert tokens(text) == expected


def test_split_terms_keeps_quoted_phrases_and_reports_unbalanced_quotes():
    assert split_terms('锂电  "设备 更新" “流动资金”') == ["锂电", "设备 更新", "流动资金"]
    with pytest.raises(TextError, match="引号"):
        split_terms('"锂电')


def test_synonyms_widen_a_term_and_its_compounds():
    groups = [["技改", "技术改造"], ["锂电", "锂电池"]]
    assert expand("技改", groups) == ["技改", "技术改造"]
    assert expand("技改项目", groups) == ["技改项目", "技术改造项目"]
    assert set(expand("锂电池隔膜", groups)) == {"锂电池隔膜", "锂电隔膜"}
    assert expand("贷款", groups) == ["贷款"]


def test_parse_text_builds_required_clauses_of_phrases():
    clauses = parse_text("技改 锂", [["技改", "技术改造"]])
    assert [[p.text for p in c.phrases] for c in clauses] == [["技改", "技术改造"], ["锂"]]
    assert clauses[1].phrases[0].single_char and clauses[1].phrases[0].pattern == ".?锂.?"
    with pytest.raises(TextError, match="没有可检索"):
        parse_text("！！！")


def test_highlight_marks_every_match_and_escapes_html():
    assert highlight("<b>锂电池</b>隔膜锂电池", ["锂电"]) == ["&lt;b&gt;<em>锂电</em>池&lt;/b&gt;隔膜<em>锂电</em>池"]
    assert highlight("没有", ["锂电"]) == []


def test_epoch_reads_naive_aware_and_iso_times():
    from datetime import UTC, date, datetime, timedelta, timezone

    from search.embedded import epoch

    naive = datetime(2026, 3, 1, 1, 0)
    assert epoch(naive) == epoch(naive.replace(tzinfo=UTC)) == epoch("2026-03-01T01:00:00")
    assert epoch(datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))) == epoch(naive)
    assert epoch(date(2026, 3, 1)) == epoch(naive) - 3600 and epoch(None) is None


def _contains_phrase(doc_tokens: list[str], query_tokens: list[str]) -> bool:
    n = len(query_tokens)
    return any(doc_tokens[i:i + n] == query_tokens for i in range(len(doc_tokens) - n + 1))


_RUN = st.text(alphabet="锂电池隔膜产线生", min_size=0, max_size=12)


@settings(max_examples=400, deadline=None)
@given(doc=_RUN, query=st.text(alphabet="锂电池隔膜产线生", min_size=2, max_size=5))
def test_a_bigram_phrase_matches_exactly_when_the_query_is_a_substring(doc, query):
    # The claim the whole search layer rests on, for CJK text: phrase of bigrams == substring.
    assert _contains_phrase(tokens(doc), tokens(query)) == (query in doc)
