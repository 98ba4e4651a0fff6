"""Page inputs (reports.inputs): every option of a view input is a view whose queries, tiles, text
and tables read that option; row filters carry what the browser needs; bad input tags are
refused with the page and line. The browser side is in test_inputs_browser.py."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from jobmetrics.core.errors import PageError
from jobmetrics.reports.inputs import MAX_VIEWS

CHUNK = re.compile(r"<!--jm-chunk:(\w+)-->\n")


def view_html(html: str, data: dict, key: str) -> str:
    """A view's body as the browser assembles it: the default view's chunks from the page, the
    others from the embedded data."""
    body = html.split('<div id="jm-view">', 1)[1]
    parts = CHUNK.split(body)
    in_page = dict(zip(parts[1::2], parts[2::2], strict=True))
    return "".join(
        data["chunks"].get(chunk_id) or in_page[chunk_id] for chunk_id in data["views"][key]
    )


def tile_series(html: str) -> list[list]:
    match = re.search(r'data-series="([^"]*)"', html)
    assert match, "no tile with a series"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&#x27;", "'"))


CHANNELS = ("paid_search", "organic", "referral")


def test_every_option_of_a_view_input_is_a_view_that_reads_it(
    sales_site: Path, page_data, sales_expected
) -> None:
    html = sales_site.read_text(encoding="utf-8")
    data = page_data(html)
    keys = set(data["views"])
    assert keys == {
        f"channel={channel}&compare={compare}"
        for channel in ("all", *sorted(CHANNELS))
        for compare in ("previous_month", "previous_quarter")
    }
    for channel in ("all", *CHANNELS):
        expected = sales_expected(None if channel == "all" else channel)
        for compare, lag in (("previous_month", 1), ("previous_quarter", 3)):
            body = view_html(html, data, f"channel={channel}&compare={compare}")
            series = tile_series(body)
            assert [entry[0] for entry in series] == sorted(expected)
            months = sorted(expected)
            for position, (month, value_text, comparison) in enumerate(series):
                assert value_text == f"${expected[month]:,.2f}"
                if position >= lag:
                    before = expected[months[position - lag]]
                    change = (expected[month] - before) / before * 100
                    assert f"{change:+.1f}%" in comparison, (channel, compare, month)
                    label = "vs previous month" if lag == 1 else "vs previous quarter"
                    assert label in comparison
            # The text and table of the view read the same option.
            label = "All channels" if channel == "all" else channel.replace("_", " ").capitalize()
            last = months[-1]
            assert f"Dec 2025: {label}" in body
            assert f"MRR was ${expected[last]:,.2f}." in body
            rows = re.findall(r"<tbody>.*?</tbody>", body, re.S)[0].split("</tr>")[:-1]
            cells = [re.findall(r'data-v="([^"]*)"', row) for row in rows]
            assert [(cell[0], Decimal(cell[1])) for cell in cells] == [
                (month, expected[month]) for month in months
            ]


def test_the_default_view_is_in_the_page_and_shared_chunks_are_stored_once(
    sales_site: Path, page_data
) -> None:
    html = sales_site.read_text(encoding="utf-8")
    data = page_data(html)
    default = data["views"]["channel=all&compare=previous_month"]
    in_page = CHUNK.findall(html)
    assert in_page == default
    assert not set(default) & set(data["chunks"]), "default chunks are embedded twice"
    # The compare input changes the tile and the table (its mrr_prev column) only: both
    # compare views share every other chunk.
    for channel in ("all", *CHANNELS):
        month = data["views"][f"channel={channel}&compare=previous_month"]
        quarter = data["views"][f"channel={channel}&compare=previous_quarter"]
        assert len(month) == len(quarter)
        changed = [b for a, b in zip(month, quarter, strict=True) if a != b]
        assert len(changed) == 2
        texts = [data["chunks"].get(chunk) or "" for chunk in changed]
        assert any("jm-bigvalue" in text for text in texts) or channel == "all"
        assert all("jm-bigvalue" in text or "jm-table" in text for text in texts if text)


def test_inputs_tell_the_browser_their_options_and_filtered_columns(
    sales_site: Path, page_data
) -> None:
    data = page_data(sales_site.read_text(encoding="utf-8"))
    specs = {spec["name"]: spec for spec in data["inputs"]}
    assert specs["channel"]["values"] == ["all", *sorted(CHANNELS)]
    assert specs["channel"]["view"] and specs["compare"]["view"]
    period = specs["period"]
    assert not period["view"] and period["columns"] == ["month"]
    assert period["values"][0] == "2025-01-01" and period["values"][-1] == "2025-12-01"
    starts = {preset["key"]: preset["start"] for preset in period["presets"]}
    assert starts == {
        "all": "2025-01-01",
        "last_3_months": "2025-10-01",
        "last_6_months": "2025-07-01",
        "last_12_months": "2025-01-01",
        "year_to_date": "2025-01-01",
    }


def test_the_per_period_text_shows_the_last_period_until_the_range_changes(
    sales_site: Path,
) -> None:
    html = sales_site.read_text(encoding="utf-8")
    blocks = re.findall(r'<div class="jm-per-period"[^>]*data-period="([^"]+)"([^>]*)>', html)
    assert [period for period, _ in blocks] == [f"2025-{m:02d}-01" for m in range(1, 13)]
    assert [("hidden" in rest) for _, rest in blocks] == [True] * 11 + [False]


def test_a_page_without_inputs_has_a_single_view(build, page_data) -> None:
    result = build(
        {"index.md": '# Plain\n\n```sql m\nselect 1 as x\n```\n\n<DataTable data="m" />\n'}
    )
    html = result.pages[0].read_text(encoding="utf-8")
    data = page_data(html)
    assert data["inputs"] == [] and data["views"] == {} and data["chunks"] == {}
    assert "jm-chunk" not in html and "inputs.js" not in html


BAD_INPUTS = {
    "options query reads inputs": (
        "```sql c\nselect {{ inputs.x.value | sql }} as v\n```\n\n"
        '<Dropdown name="x" data="c" value="v" />\n',
        3,
        "cannot read inputs",
    ),
    "unknown attribute": ('<Dropdown name="x" options="a,b" colour="red" />\n', 2, "'colour'"),
    "default not an option": (
        '<ButtonGroup name="x" options="a,b" default="c" />\n',
        2,
        "default='c' is not one of its options",
    ),
    "too many views": (
        "```sql n\nselect range as v from range(10)\n```\n\n"
        '<Dropdown name="a" data="n" value="v" />\n<Dropdown name="b" data="n" value="v" />\n',
        6,
        f"100 views (10 a × 10 b); at most {MAX_VIEWS}",
    ),
    "date range on text": (
        '```sql n\nselect \'x\' as v\n```\n\n<DateRange name="p" data="n" column="v" />\n',
        6,
        "must hold dates",
    ),
    "twice": (
        '<ButtonGroup name="x" options="a,b" />\n<ButtonGroup name="x" options="a,b" />\n',
        3,
        "defined twice",
    ),
    "multiple without column": (
        '<Dropdown name="x" options="a,b" multiple />\n',
        2,
        "needs a column= attribute",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_bad_input_tag_names_the_page_and_line(build, case: str) -> None:
    body, line, message = BAD_INPUTS[case]
    with pytest.raises(PageError) as error:
        build({"index.md": "# Page\n" + body})
    assert f"index.md:{line}:" in str(error.value)
    assert message in str(error.value)
