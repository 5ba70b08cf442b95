"""strict-match and flexible-extract against lm-evaluation-harness's own code, when it is here.

lm-eval is not a dependency (it pulls sacrebleu, datasets, evaluate …), so its two functions
are read from its source files: RegexFilter (lm_eval/filters/extraction.py) and
exact_match_hf_evaluate (lm_eval/api/metrics.py), with the filters and metric settings of
its gsm8k.yaml. They run on the 1,319 real Haskely generations and on variants of each (the
`#### n` written as `n.00`, `$n`, `n.`, …, no `####`, a run-on, a trailing "...").

The source is found as the installed `lm_eval` package, or the unpacked package folder named
by GSMREPORT_LM_EVAL_SRC (e.g. after `pip download --no-deps lm-eval` and unzipping the wheel).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from gsmreport.gsm8k.scoring import score
from tests.conftest import shared_data


def _lm_eval_source() -> Path | None:
    given = os.environ.get("GSMREPORT_LM_EVAL_SRC")
    if given:
        return Path(given)
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


SOURCE = _lm_eval_source()
pytestmark = pytest.mark.skipif(
    SOURCE is None or not (SOURCE / "tasks" / "gsm8k" / "gsm8k.yaml").is_file(),
    reason="lm-eval's source is not here (pip install lm-eval, or set GSMREPORT_LM_EVAL_SRC "
    "to an unpacked lm_eval package folder)",
)


def _definition(path: Path, name: str, namespace: dict[str, Any]) -> Any:
    """One top-level def/class of an lm-eval source file, without its registry decorators."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node = next(n for n in tree.body if getattr(n, "name", None) == name)
    assert isinstance(node, ast.FunctionDef | ast.ClassDef)
    node.decorator_list = []
    exec(compile(ast.Module([node], []), str(path), "exec"), namespace)
    return namespace[name]


def _variants(text: str) -> Iterator[str]:
    yield text
    found = re.search(r"#### (\S+)", text)
    if found is None:
        return
    n = found.group(1)
    for written in (f"{n}.00", f"${n}", f"{n}.", f"{n},", f"-{n}", f"{n}0"):
        yield text.replace(found.group(0), f"#### {written}")
    yield text.replace(found.group(0), f"The answer is {n} dollars.")
    yield text.replace(found.group(0), f"#### {n}\nQuestion: what is 7 + 8?\n#### 15")
    yield text.replace(found.group(0), f"so {n}. Hmm...")


def test_our_two_lm_eval_scores_are_lm_evals_on_real_and_varied_responses() -> None:
    assert SOURCE is not None
    namespace: dict[str, Any] = {"np": np, "re": re, "string": string, "Any": Any}
    namespace |= {"Iterable": Any, "Sequence": Any, "Filter": object}
    exact_match = _definition(SOURCE / "api" / "metrics.py", "exact_match_hf_evaluate", namespace)
    regex_filter = _definition(SOURCE / "filters" / "extraction.py", "RegexFilter", namespace)
    task = yaml.safe_load((SOURCE / "tasks" / "gsm8k" / "gsm8k.yaml").read_text())
    (metric,) = task["metric_list"]
    filters = {
        f["name"]: regex_filter(
            regex_pattern=f["filter"][0]["regex_pattern"],
            group_select=f["filter"][0].get("group_select", 0),
        )
        for f in task["filter_list"]
    }
    assert set(filters) == {"strict-match", "flexible-extract"}

    (path,) = sorted(shared_data("real-logs", "predictions").glob("*gen_datas.jsonl"))
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    checked, differ = 0, []
    for record in records:
        gold = record["gsm8k_data"]["answer"]
        for text in _variants(record["output_str"]):
            filtered, em = score(text, gold)
            for name, regex in filters.items():
                (theirs_filtered,) = regex.apply([[text]], None)[0]
                theirs = exact_match(
                    predictions=[theirs_filtered],
                    references=[gold],
                    regexes_to_ignore=metric["regexes_to_ignore"],
                    ignore_case=metric["ignore_case"],
                    ignore_punctuation=metric["ignore_punctuation"],
                )["exact_match"]
                checked += 1
                if (theirs_filtered, int(theirs)) != (filtered[name], em[name]):
                    differ.append((record["index"], name, text[-40:]))
    assert checked > 2 * len(records)
    assert differ == []
