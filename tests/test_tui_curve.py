"""The braille curve chart: the pure drawing function, the widget in a real app, a snapshot."""

from __future__ import annotations

import io
import math
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult

from gsmreport.tui.widgets.braille import (
    BRAILLE_BASE,
    NO_DATA,
    PALETTE,
    decimate,
    plot,
    window,
)
from gsmreport.tui.widgets.curve import CurveChart
from gsmreport.tui.widgets.ticks import fmt_tick, fmt_ticks, nice_ticks
from tests.tui_support import async_test


def dots(lines: list[Any]) -> int:
    """How many braille dots are set in the plot (the legend's colour swatches left out)."""
    return sum(
        bin(ord(ch) - BRAILLE_BASE).count("1")
        for line in lines[1:]
        for ch in line.plain
        if BRAILLE_BASE < ord(ch) <= BRAILLE_BASE + 0xFF
    )


def colours(lines: list[Any]) -> set[str]:
    """The styles of the braille characters inside the plot (legend line left out)."""
    found: set[str] = set()
    for line in lines[1:]:
        for span in line.spans:
            text = line.plain[span.start : span.end]
            if any(BRAILLE_BASE < ord(ch) <= BRAILLE_BASE + 0xFF for ch in text):
                found.add(str(span.style))
    return found


LOSS = [(10.0 * i, 2.0 * math.exp(-i / 10)) for i in range(1, 40)]
EVAL = [(50.0 * i, 1.9 * math.exp(-i / 3) + 0.2) for i in range(1, 8)]


class TestPlot:
    def test_exact_size_and_axes(self) -> None:
        lines = plot({"loss": LOSS}, 60, 12, y_label="loss")
        assert len(lines) == 12
        assert all(len(line.plain) <= 60 for line in lines)
        assert lines[0].plain.startswith("loss")  # legend line with the y label
        assert "└" in lines[-2].plain and "┬" in lines[-2].plain  # x axis with ticks
        assert any("┤" in line.plain for line in lines[1:-2])  # y ticks
        assert "100" in lines[-1].plain  # a round step value under the x axis

    def test_empty_mapping_says_no_data(self) -> None:
        lines = plot({}, 40, 6)
        assert len(lines) == 6
        assert any(NO_DATA in line.plain for line in lines)
        assert dots(lines) == 0

    def test_series_with_no_finite_value_says_no_data(self) -> None:
        lines = plot({"loss": [(1.0, math.nan), (2.0, math.inf)]}, 40, 6)
        assert any(NO_DATA in line.plain for line in lines)

    def test_two_series_get_two_colours_and_a_legend(self) -> None:
        lines = plot({"train": LOSS, "eval": EVAL}, 70, 14)
        assert "train" in lines[0].plain and "eval" in lines[0].plain
        assert len(colours(lines)) == 2

    def test_single_point_is_one_dot(self) -> None:
        lines = plot({"lr": [(3.0, 2e-4)]}, 40, 8)
        assert dots(lines) == 1
        assert "2e-04" in "".join(line.plain for line in lines)

    def test_nan_and_inf_break_the_line_and_are_counted(self) -> None:
        points = [(1.0, 1.0), (2.0, math.nan), (3.0, 2.0), (4.0, -math.inf)]
        lines = plot({"loss": points}, 40, 8)
        assert "(2 not finite)" in lines[0].plain
        assert dots(lines) == 2  # two lone points: nothing joins across the gap

    def test_joined_points_draw_a_continuous_line(self) -> None:
        lines = plot({"loss": [(0.0, 0.0), (100.0, 1.0)]}, 40, 8)
        # A diagonal across the plot sets at least one dot in every dot column.
        assert dots(lines) >= (40 - 4) * 2 - 2

    def test_flat_series_still_draws(self) -> None:
        lines = plot({"acc": [(0.0, 0.5), (10.0, 0.5)]}, 40, 8)
        assert dots(lines) > 10

    def test_values_near_the_float_limit_do_not_crash(self) -> None:
        lines = plot({"s": [(0.0, 1.7e308), (1.0, -1.7e308)]}, 40, 6)
        assert "too large" in "".join(line.plain for line in lines)

    def test_too_small_says_so(self) -> None:
        lines = plot({"loss": LOSS}, 12, 3)
        assert len(lines) == 3
        assert "too small" in "".join(line.plain for line in lines)

    def test_a_single_subnormal_value_still_draws(self) -> None:
        # Hypothesis found this in CI: 5 % of 5e-324 is 0, so the y range had no span.
        lines = plot({"s": [(0.0, 5e-324)]}, 40, 10)
        assert len(lines) == 10
        assert "too small" not in "".join(line.plain for line in lines)

    @settings(max_examples=60, deadline=None)
    @example([(0.0, 5e-324)], 1, 1)
    @given(
        st.lists(
            st.tuples(
                st.floats(-1e6, 1e6, allow_nan=False),
                st.floats(allow_nan=True, allow_infinity=True),
            ),
            max_size=40,
        ),
        st.integers(1, 120),
        st.integers(1, 30),
    )
    def test_never_raises_and_never_overflows(
        self, points: list[tuple[float, float]], width: int, height: int
    ) -> None:
        lines = plot({"s": points}, width, height)
        assert len(lines) == height
        assert all(len(line.plain) <= width for line in lines)


class TestDecimate:
    def test_short_series_untouched(self) -> None:
        assert decimate(LOSS) == LOSS

    def test_long_series_keeps_spikes_gaps_and_order(self) -> None:
        points = [(float(i), 1.0) for i in range(100_000)]
        points[5_000] = (5_000.0, 9.0)  # a spike
        points[7_000] = (7_000.0, math.nan)  # a gap
        thinned = decimate(points, buckets=100)
        assert len(thinned) <= 2 * 100 + 1
        assert (5_000.0, 9.0) in thinned
        assert sum(1 for _, y in thinned if math.isnan(y)) == 1
        finite_x = [x for x, y in thinned if math.isfinite(y)]
        assert finite_x == sorted(finite_x)
        # The legend still counts the one non-finite value after thinning.
        assert "(1 not finite)" in plot({"s": thinned}, 60, 10)[0].plain


class TestTicks:
    @pytest.mark.parametrize(
        ("lo", "hi", "target", "expected"),
        [
            (0.0, 10.0, 5, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
            (0.13, 0.97, 4, [0.25, 0.5, 0.75]),
            (10.0, 390.0, 4, [100.0, 200.0, 300.0]),
        ],
    )
    def test_round_values_inside_the_range(
        self, lo: float, hi: float, target: int, expected: list[float]
    ) -> None:
        assert nice_ticks(lo, hi, target) == expected

    def test_labels_are_short(self) -> None:
        assert [fmt_tick(v) for v in (0.0, 2e-4, 0.25, 1500.0, 12000.0, 1.1e7, 3e10)] == [
            "0",
            "2e-04",
            "0.25",
            "1500",
            "12k",
            "1.1e7",
            "3e10",
        ]


class ChartApp(App[None]):
    """One chart filling the screen, as the screens use it."""

    CSS = "CurveChart { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield CurveChart("Loss", id="chart")

    def on_mount(self) -> None:
        self.query_one(CurveChart).set_series({"train": LOSS, "eval": EVAL}, y_label="loss")


class TestWidget:
    @async_test
    async def test_redraws_at_the_new_size(self) -> None:
        app = ChartApp()
        async with app.run_test(size=(60, 16)) as pilot:
            chart = app.query_one(CurveChart)
            small = chart.render()
            await pilot.resize_terminal(100, 24)
            await pilot.pause()
            large = chart.render()
            assert str(small).count("\n") < str(large).count("\n")
            assert max(map(len, str(large).split("\n"))) > max(map(len, str(small).split("\n")))

    @async_test
    async def test_set_series_replaces_and_empty_shows_no_data(self) -> None:
        app = ChartApp()
        async with app.run_test(size=(60, 16)) as pilot:
            chart = app.query_one(CurveChart)
            assert set(chart.series) == {"train", "eval"}
            chart.set_series({})
            await pilot.pause()
            assert NO_DATA in str(chart.render())
            assert chart.border_title == "Loss"


def test_snapshot_two_series(snap_compare: Any) -> None:
    """Train and eval loss overlaid in two colours, legend on top, ticks on both axes."""
    assert snap_compare(ChartApp(), terminal_size=(80, 20))


BRAILLE_RUN = re.compile("\x1b\\[([0-9;]*)m([\u2801-\u28ff]+)")


def sgr_of_braille(line: Text, console: Console) -> set[str]:
    """The SGR codes a 256-colour terminal gets in front of this line's braille runs."""
    with console.capture() as capture:
        console.print(line, end="")
    return {codes for codes, _ in BRAILLE_RUN.findall(capture.get())}


def test_ticks_of_a_narrow_range_far_from_zero_stay_distinct() -> None:
    """W&B's disk usage: 36.3050 … 36.3125 GB would all read `36.31` to four digits."""
    assert fmt_ticks([36.305, 36.3075, 36.31, 36.3125]) == ["36.305", "36.307", "36.310", "36.312"]
    assert fmt_ticks([0.5, 1.0]) == ["0.5", "1"]  # no change when they already differ
    points = [(float(i), 36.305 + i * 0.0001) for i in range(80)]
    labels = [line.plain.split("┤")[0].strip() for line in plot({"gb": points}, 50, 12)[1:-2]]
    shown = [label for label in labels if label]
    assert len(shown) >= 2 and len(set(shown)) == len(shown)


class TestLogAndZoom:
    def test_log_axis_labels_powers_of_ten_and_counts_non_positive_values(self) -> None:
        points = [(1.0, 100.0), (2.0, 10.0), (3.0, 1.0), (4.0, 0.01), (5.0, 0.0), (6.0, -1.0)]
        lines = plot({"lr": points}, 50, 12, log_y=True)
        text = "\n".join(line.plain for line in lines)
        assert "100┤" in text and "1┤" in text and "0.01┤" in text
        assert "(2 ≤ 0 or not finite)" in lines[0].plain
        assert dots(lines) > 0

    def test_skip_leaves_out_the_start_of_the_x_range(self) -> None:
        spike = [(0.0, 1000.0), *((float(s), 1.0 + 1 / s) for s in range(1, 101))]
        whole = plot({"loss": spike}, 60, 12)
        zoomed = plot({"loss": spike}, 60, 12, skip=0.25)
        assert "1000" in "".join(line.plain for line in whole)
        assert "1000" not in "".join(line.plain for line in zoomed)  # the spike is gone
        assert window({"loss": spike}, 0.25)["loss"][0] == (25.0, 1.04)

    def test_legend_values_are_the_last_of_the_whole_series(self) -> None:
        lines = plot({"train": LOSS}, 60, 10, skip=0.5, values=True)
        assert fmt_tick(LOSS[-1][1]) in lines[0].plain


class TestColours:
    def test_palette_survives_256_colour_downsampling_distinct(self) -> None:
        """tmux's default is 256 colours: each colour is its own cube entry, none merge."""
        numbers = []
        for hex_colour in PALETTE:
            colour = Color.parse(hex_colour)
            eight_bit = colour.downgrade(ColorSystem.EIGHT_BIT)
            assert eight_bit.get_truecolor().hex == hex_colour
            numbers.append(eight_bit.number)
        assert len(set(numbers)) == len(PALETTE)

    def test_legend_swatch_and_line_get_the_same_256_colour_code(self) -> None:
        """The line must not inherit the axis' `dim` (Textual blends dim toward the
        background, which turned the blue line into another colour than its swatch)."""
        console = Console(color_system="256", force_terminal=True, width=200, file=io.StringIO())
        lines = plot({"train": LOSS, "eval": EVAL}, 70, 14)
        swatches = [
            str(span.style)
            for span in lines[0].spans
            if "⣿" in lines[0].plain[span.start : span.end]
        ]
        assert swatches == [PALETTE[0], PALETTE[1]]
        legend_codes = sgr_of_braille(lines[0], console)
        drawn = set().union(*(sgr_of_braille(line, console) for line in lines[1:]))
        assert drawn == legend_codes == {"38;5;75", "38;5;214"}
