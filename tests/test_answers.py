from __future__ import annotations

import pytest

from gsmreport.gsm8k.answers import (
    extract,
    flexible_extract,
    gold_answer,
    gold_steps,
    normalize_number,
    strict_match,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,450,000", "1450000"),
        ("$18", "18"),
        ("18.", "18"),
        ("18.0", "18"),
        ("-3.50", "-3.5"),
        ("12 dollars", "12"),
        ("0.25", "0.25"),
        ("abc", None),
        (None, None),
    ],
)
def test_normalize_number(raw: str | None, expected: str | None) -> None:
    assert normalize_number(raw) == expected


def test_strict_takes_first_hash_answer() -> None:
    assert strict_match("so 5+5=10\n#### 10\nQuestion: more #### 99") == "10"
    assert strict_match("The answer is 10") is None
    assert strict_match("#### 1,234.") == "1234"


def test_flexible_takes_last_number() -> None:
    assert flexible_extract("3 apples and 4 pears make 7.") == "7"
    assert flexible_extract("it costs $1,200 in total") == "1200"
    assert flexible_extract("no numbers here") is None
    # lm-eval's pattern needs two characters for the first alternative; '7' still matches the second
    assert flexible_extract("answer: 7") == "7"


def test_extract_rejects_unknown_filter() -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        extract("#### 1", "loose")


def test_gold_answer_and_steps_on_real_format() -> None:
    sol = "Natalia sold 48/2 = <<48/2=24>>24 clips.\nShe sold 48+24 = <<48+24=72>>72.\n#### 72"
    assert gold_answer(sol) == "72"
    assert gold_steps(sol) == 2
    assert gold_answer("#### 1,450,000") == "1450000"
    assert gold_answer("#### -5") == "-5"


def test_gold_answers_of_real_gsm8k_all_parse() -> None:
    import json

    from tests.conftest import shared_data

    path = shared_data("gsm8k", "test.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    golds = [gold_answer(r["answer"]) for r in rows]
    assert len(rows) == 1319
    assert all(g is not None for g in golds)
    # the gold answer strict-matches its own solution: extraction and normalisation agree
    assert all(strict_match(r["answer"]) == g for r, g in zip(rows, golds, strict=True))


def test_flexible_uses_the_last_match_even_when_it_is_not_a_number() -> None:
    # lm-eval's filter takes the last regex match; "..." matches `[$0-9.,]{2,}` and is no number.
    assert flexible_extract("The answer is 18. Hmm...") is None


# --- lm-eval's gsm8k exact_match, and numeric-match beside it --------------------------------
# Expected values read off lm-eval's code (RegexFilter.apply, exact_match_hf_evaluate and the
# gsm8k.yaml regexes_to_ignore), not off our own output.

GOLD_29 = "He pays 20 + 9 = <<20+9=29>>29 dollars.\n#### 29"


@pytest.mark.parametrize(
    ("response", "gold", "strict", "flexible", "em_strict", "em_flexible", "em_numeric"),
    [
        # the case: a normalised comparison counts it, lm-eval does not
        ("So 29.\n#### 29.00", GOLD_29, "29.00", "29.00", 0, 0, 1),
        ("#### 29", GOLD_29, "29", "29", 1, 1, 1),
        # "," and "$" are ignored on both sides, and one trailing "."
        ("#### 1,450,000.", "x\n#### 1,450,000", "1,450,000.", "1,450,000.", 1, 1, 1),
        # the strict regex has no "$": nothing after "#### " matches, so "[invalid]"
        ("#### $29", GOLD_29, "[invalid]", "$29", 0, 1, 1),
        # flexible takes the last match even when it is no number ("..." -> ".." after `\.$`)
        ("It is 29. Hmm...", GOLD_29, "[invalid]", "...", 0, 0, 0),
        # strict takes the first `#### n`, numeric-match the same number
        ("#### 29\nQuestion: more\n#### 30", GOLD_29, "29", "30", 1, 0, 1),
        ("no number at all", GOLD_29, "[invalid]", "[invalid]", 0, 0, 0),
        ("-5 it is", "#### -5", "[invalid]", "-5", 0, 1, 1),
        ("costs $5.50", "#### 5.5", "[invalid]", "$5.50", 0, 0, 1),
    ],
)
def test_lm_eval_exact_match_and_numeric_match(
    response: str,
    gold: str,
    strict: str,
    flexible: str,
    em_strict: int,
    em_flexible: int,
    em_numeric: int,
) -> None:
    from gsmreport.gsm8k.answers import lm_eval_exact_match, lm_eval_extract
    from gsmreport.gsm8k.scoring import score

    assert lm_eval_extract(response, "strict-match") == strict
    assert lm_eval_extract(response, "flexible-extract") == flexible
    assert lm_eval_exact_match(strict, gold) == em_strict
    assert lm_eval_exact_match(flexible, gold) == em_flexible
    _, em = score(response, gold)
    assert em == {
        "strict-match": em_strict,
        "flexible-extract": em_flexible,
        "numeric-match": em_numeric,
    }


def test_old_rows_are_scored_again_or_left_unscored() -> None:
    from gsmreport.gsm8k.scoring import rescored_exact_match

    old = {
        "doc": {"question": "q", "answer": GOLD_29},
        "resps": [["#### 29.00"]],
        "exact_match": {"strict-match": 1, "flexible-extract": 1},  # the old normalised rule
    }
    assert rescored_exact_match(old) == {
        "strict-match": 0,
        "flexible-extract": 0,
        "numeric-match": 1,
    }
    bare = {"exact_match": {"strict-match": 1, "flexible-extract": 0}}  # no response kept
    assert rescored_exact_match(bare) == {
        "strict-match": 1,
        "flexible-extract": 0,
        "numeric-match": None,
    }


def test_old_rows_are_scored_on_the_text_their_scores_read() -> None:
    from gsmreport.gsm8k.scoring import rescored_exact_match

    ours = {
        "doc": {"question": "q", "answer": GOLD_29},
        "resps": [["#### 29.00\nQuestion: and then?\n#### 29"]],  # a run-on past our stop
        "exact_match": {"strict-match": 1, "flexible-extract": 1},
    }
    # our eval job cut its generations at "Question:" before scoring, and so does the rescoring
    assert rescored_exact_match(ours)["flexible-extract"] == 0
    # an lm-eval sample was cut by lm-eval's own `until`: scored as it stands
    theirs = ours | {"lm_eval_exact_match": {"strict-match": 0.0}}
    assert rescored_exact_match(theirs)["flexible-extract"] == 1
