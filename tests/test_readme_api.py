"""The README's Python API example runs as a doctest: its output is real."""

import doctest
import re
from pathlib import Path

import pandas as pd

README = Path(__file__).parents[1] / "README.md"


def test_readme_api_example_runs_and_prints_what_the_readme_shows():
    text = README.read_text()
    [block] = re.findall(r"```pycon\n(.*?)```", text, flags=re.S)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block, {}, "README.md", str(README), 0)
    assert len(test.examples) >= 5
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    with pd.option_context("display.width", 100):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
