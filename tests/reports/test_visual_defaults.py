"""What a reader of the built site relies on without reading the code: a channel (plan, segment,
device) has one colour on every chart; no raw snake_case name shows; every chart says what its
axes are, in which unit; heatmaps have a colour scale and empty cells that differ from low values;
a loss is never drawn in a growth green; KPI tiles explain their metric; headings are deep links;
and the copy bugs found by trying the site stay fixed."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from jobmetrics.core import settings as settings_module
from jobmetrics.core.labels import humanize, readable
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.generator.assumptions import DEVICES, SEGMENTS
from jobmetrics.reports import SiteResult, components, project
from jobmetrics.reports.anchors import add_anchors, slug
from jobmetrics.reports.charts import share_text
from jobmetrics.reports.tags import Attributes
from jobmetrics.warehouse.results import QueryResult

PageData = Callable[[str], dict[str, Any]]
SEEDS = PROJECT_ROOT / "seeds"
PAGES = PROJECT_ROOT / "jobmetrics" / "reports" / "pages"
RAW_NAME = re.compile(r"(?<![\w/.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/]|\.\w)")
"""A snake_case name standing as a word (not part of a path such as seeds/metric_thresholds.csv)."""


def seed_column(name: str, column: str) -> list[str]:
    with (SEEDS / name).open(newline="") as handle:
        return list(dict.fromkeys(row[column] for row in csv.DictReader(handle)))


def category_labels() -> set[str]:
    """Display labels of every category value a chart may draw as a series, from the seeds'
    own label column where there is one (not from the code under test)."""
    labels = set(seed_column("channels.csv", "channel_label"))
    labels |= {value.capitalize() for value in seed_column("plans.csv", "plan")}
    labels |= {value.replace("_", " ").capitalize() for value in (*SEGMENTS, *DEVICES)}
    return labels


def figures(site: SiteResult, page_data: PageData) -> list[tuple[str, str, dict[str, Any]]]:
    """(page, chart id, figure) of every chart of the site."""
    found = []
    for path in site.pages:
        data = page_data(path.read_text(encoding="utf-8"))
        for chart_id, figure in data["charts"].items():
            found.append((path.name, chart_id, figure))
    return found


def trace_color(trace: dict[str, Any]) -> str | None:
    return (trace.get("marker") or {}).get("color") or (trace.get("line") or {}).get("color")


def legend_traces(figure: dict[str, Any]) -> list[dict[str, Any]]:
    """Series a reader tells apart by colour: named, in the legend, drawn as lines or bars
    (marker-only traces, such as alert annotations, are told apart by their shape)."""
    return [
        trace
        for trace in figure["data"]
        if trace.get("name")
        and trace.get("showlegend", True)
        and trace.get("type") in ("scatter", "bar", "funnel")
        and trace.get("mode") != "markers"
        and isinstance(trace_color(trace), str)
    ]


def is_green(color: str) -> bool:
    """A colour a reader sees as green ("good"): green channel well above red and blue."""
    match = re.fullmatch(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", color.lower())
    if not match:
        return False
    red, green, blue = (int(part, 16) for part in match.groups())
    return green > red + 40 and green > blue + 20


def test_a_category_value_has_one_colour_on_every_chart(
    report_site: SiteResult, page_data: PageData
) -> None:
    categories = category_labels()
    colors: dict[str, set[str]] = defaultdict(set)
    seen_on: dict[str, set[str]] = defaultdict(set)
    for page, _chart_id, figure in figures(report_site, page_data):
        for trace in legend_traces(figure):
            if trace["name"] in categories:
                colors[trace["name"]].add(trace_color(trace))
                seen_on[trace["name"]].add(page)
    assert {"Paid search", "Paid social", "Basic", "Job seeker", "Desktop"} <= set(colors)
    assert len(seen_on["Paid search"]) >= 2  # it does appear on several pages
    assert {name: found for name, found in colors.items() if len(found) > 1} == {}


def test_series_of_one_chart_never_share_a_colour(
    report_site: SiteResult, page_data: PageData
) -> None:
    shared = []
    for page, chart_id, figure in figures(report_site, page_data):
        by_color: dict[str, set[str]] = defaultdict(set)
        for trace in legend_traces(figure):
            by_color[trace_color(trace)].add(trace["name"])
        shared += [(page, chart_id, names) for names in by_color.values() if len(names) > 1]
    assert shared == []


def test_a_loss_is_never_drawn_in_a_growth_green(
    report_site: SiteResult, page_data: PageData
) -> None:
    green_losses = []
    for page, _chart_id, figure in figures(report_site, page_data):
        for trace in figure["data"]:
            if trace.get("type") not in ("bar", "scatter"):
                continue
            numbers = [v for v in trace.get("y") or [] if isinstance(v, int | float)]
            color = trace_color(trace)
            is_loss = numbers and max(numbers) <= 0 and min(numbers) < 0
            if is_loss and isinstance(color, str) and is_green(color):
                green_losses.append((page, trace.get("name"), color))
    assert green_losses == []


def axis_text(axis: dict[str, Any] | None) -> str:
    title = (axis or {}).get("title") or {}
    return (title.get("text") if isinstance(title, dict) else str(title)) or ""


def test_every_chart_has_axis_titles_with_units(
    report_site: SiteResult, page_data: PageData
) -> None:
    missing, without_unit = [], []
    for page, chart_id, figure in figures(report_site, page_data):
        layout, kinds = figure["layout"], {trace["type"] for trace in figure["data"]}
        needed = ["yaxis"] if kinds == {"funnel"} else ["xaxis", "yaxis"]
        missing += [(page, chart_id, a) for a in needed if not axis_text(layout.get(a)).strip()]
        y_title, tick = axis_text(layout.get("yaxis")), layout.get("yaxis", {}).get("tickformat")
        if tick and tick.startswith("$") and "USD" not in y_title:
            without_unit.append((page, chart_id, y_title))
        if tick and tick.endswith("%") and "%" not in y_title:
            without_unit.append((page, chart_id, y_title))
    assert missing == []
    assert without_unit == []


def test_heatmaps_have_a_colour_scale_and_empty_cells_unlike_low_values(
    report_site: SiteResult, page_data: PageData
) -> None:
    heatmaps = 0
    for page, chart_id, figure in figures(report_site, page_data):
        traces = [trace for trace in figure["data"] if trace["type"] == "heatmap"]
        if not traces:
            continue
        heatmaps += 1
        values = [trace for trace in traces if trace.get("showscale")]
        assert len(values) == 1, (page, chart_id, "one trace with a colour scale")
        value = values[0]
        assert axis_text(value.get("colorbar")), (page, chart_id, "colour scale has no title")
        if any(cell is None for row in value["z"] for cell in row):
            lowest = value["colorscale"][0][1]
            empty = [trace for trace in traces if trace is not value]
            assert empty, (page, chart_id, "empty cells are drawn like the background")
            assert all(step[1] != lowest for t in empty for step in t["colorscale"])
            filled = {(r, c) for r, row in enumerate(value["z"]) for c, v in enumerate(row) if v}
            marked = {(r, c) for r, row in enumerate(empty[0]["z"]) for c, v in enumerate(row) if v}
            assert not filled & marked, (page, chart_id, "a measured cell drawn as empty")
    assert heatmaps >= 3


class VisibleText(HTMLParser):
    """Text a reader sees in a page body: not scripts, styles, code, the SQL shown under the
    page, or the lineage links to the dbt docs (which name models on purpose)."""

    HIDDEN = {"script", "style", "code", "pre", "template", "head"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.texts: list[str] = []
        self.headings: list[dict[str, str | None]] = []
        self._heading: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        hidden = (
            tag in self.HIDDEN
            or "jm-queries" in classes
            or "jm-meta" in classes
            or "jm-footer" in classes
            or (tag == "a" and "docs/" in (attributes.get("href") or ""))
        )
        if tag in ("h2", "h3") and not any(self.stack):
            self._heading = {"id": attributes.get("id"), "link": None}
            self.headings.append(self._heading)
        if tag == "a" and self._heading is not None and "jm-anchor" in classes:
            self._heading["link"] = attributes.get("href")
        if tag not in ("br", "img", "input", "meta", "link", "hr", "wbr", "source"):
            self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3"):
            self._heading = None
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self.stack and self.stack[-1]):
            self.texts.append(data)


def visible(path: Path) -> VisibleText:
    parser = VisibleText()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def chart_strings(figure: dict[str, Any]) -> list[str]:
    """Text a chart shows: legend names, axis and colour-scale titles, category labels."""
    layout = figure["layout"]
    texts = [axis_text(layout.get(axis)) for axis in ("xaxis", "yaxis")]
    for axis in ("xaxis", "yaxis"):
        alias = (layout.get(axis) or {}).get("labelalias") or {}
        for trace in figure["data"]:
            values = trace.get(axis[0]) or []
            texts += [alias.get(v, v) for v in values if isinstance(v, str)]
    for trace in figure["data"]:
        texts += [trace.get("name") or "", axis_text(trace.get("colorbar"))]
        hovers = trace.get("hovertemplate") or ""
        for hover in hovers if isinstance(hovers, list) else [hovers]:
            texts.append(re.sub(r"%\{[^}]*\}|<[^>]+>", " ", hover))
    return texts


def test_no_raw_snake_case_name_is_visible(report_site: SiteResult, page_data: PageData) -> None:
    found = []
    for path in report_site.pages:
        page = path.relative_to(report_site.out_dir)
        found += [(str(page), m) for text in visible(path).texts for m in RAW_NAME.findall(text)]
        # The page's other views (its inputs' options), as the browser swaps them in.
        for chunk in page_data(path.read_text(encoding="utf-8"))["chunks"].values():
            parser = VisibleText()
            parser.feed(chunk)
            found += [(str(page), m) for text in parser.texts for m in RAW_NAME.findall(text)]
    for page, chart_id, figure in figures(report_site, page_data):
        texts = chart_strings(figure)
        found += [(page, chart_id, m) for text in texts for m in RAW_NAME.findall(str(text))]
    assert found == []


def test_no_sentence_runs_into_the_next(report_site: SiteResult, page_data: PageData) -> None:
    # "apply.Back to all channels": a Jinja block tag at a line end ate the newline (trim_blocks)
    run_on = re.compile(r"[a-z]{2}[.!?][A-Z][a-z]")
    found = [
        (path.name, text.strip()[:80])
        for path in report_site.pages
        for text in visible(path).texts
        if run_on.search(text)
    ]
    assert found == []


def test_no_page_text_line_runs_into_the_next() -> None:
    # trim_blocks drops the newline after a block tag even at the end of a text line, so
    # "- item{% endif %}" followed by a line of text joins it ("apply.Back"): write an inline
    # {{ a if b else c }} instead. Before a blank line, or in SQL, the lost newline is harmless.
    bad = []
    for page in PAGES.rglob("*.md"):
        lines = page.read_text(encoding="utf-8").splitlines()
        in_sql = False
        for number, (line, following) in enumerate(zip(lines, [*lines[1:], ""], strict=True), 1):
            in_sql = in_sql != line.startswith("```")
            text_then_tag = re.search(r"\S.*\{%-?[^%]*-?%\}\s*$", line)
            prose = not in_sql and not line.lstrip().startswith("{%")
            if text_then_tag and prose and following.strip():
                bad.append(f"{page.relative_to(PAGES)}:{number}")
    assert bad == []


def test_channel_links_are_one_list_item_each(report_site: SiteResult, page_data: PageData) -> None:
    page = (report_site.out_dir / "acquisition.html").read_text(encoding="utf-8")
    items = re.findall(r'<li><a href="channels/[\w-]+\.html">[^<]+</a>[^<]*</li>', page)
    assert len(items) == len(seed_column("channels.csv", "channel"))


def test_funnel_shares_never_round_a_count_to_zero_percent(
    report_site: SiteResult, page_data: PageData
) -> None:
    zero = []
    for page, chart_id, figure in figures(report_site, page_data):
        for trace in figure["data"]:
            if trace["type"] != "funnel":
                continue
            for count, text in zip(trace["x"], trace["text"], strict=True):
                share = text.split("<br>")[-1]
                if count and re.fullmatch(r"0(\.0+)?%", share):
                    zero.append((page, chart_id, trace.get("name"), count, text))
    assert zero == []
    assert share_text(44, 16_653) == "0.3%"
    assert share_text(1, 100_000) == "<0.1%"


def test_a_share_that_moved_as_shown_is_not_no_change() -> None:
    # 43.8% against 43.7% (0.02 pts): the tile must not say "no change" next to those figures
    moved = components._comparison(0.43760, 0.43740, "pct1", False, "vs last month")
    assert "no change" not in moved and "+0.02 pts" in moved
    same = components._comparison(0.43804, 0.43801, "pct1", False, "vs last month")
    assert "no change" in same


def test_tiles_carry_their_metric_definition_on_hover_and_focus() -> None:
    result = QueryResult("kpis", ["mrr", "mrr_prev"], [(Decimal("120.00"), Decimal("100.00"))])
    canvas = components.Canvas(
        title="t", results={"kpis": result}, definitions={"mrr": "Monthly recurring revenue."}
    )
    tile = components.COMPONENTS["BigValue"].render(
        Attributes("BigValue", {"data": "kpis", "value": "mrr", "comparison": "mrr_prev"}, 1),
        canvas,
    )
    assert 'tabindex="0"' in tile  # keyboard focus shows it too (site.css)
    assert '<div class="jm-bv-definition">Monthly recurring revenue.</div>' in tile
    plain = components.COMPONENTS["BigValue"].render(
        Attributes("BigValue", {"data": "kpis", "value": "mrr_prev"}, 2), canvas
    )
    assert "tabindex" not in plain and "jm-bv-definition" not in plain


def test_the_registry_gives_definitions_by_metric_and_column() -> None:
    definitions = project.metric_definitions(settings_module.load())
    if not definitions:
        pytest.skip("no dbt manifest in this checkout")
    assert definitions["mrr"] and definitions["logo_churn_rate"]
    assert not any(RAW_NAME.search(text) for text in definitions.values())


def test_headings_are_unique_deep_links(report_site: SiteResult, page_data: PageData) -> None:
    for path in report_site.pages:
        headings = visible(path).headings
        ids = [heading["id"] for heading in headings]
        assert all(ids), (path.name, "a heading without an id")
        assert len(set(ids)) == len(ids), (path.name, ids)
        assert all(heading["link"] == f"#{heading['id']}" for heading in headings), path.name


def test_anchor_ids_are_stable_slugs_unique_on_the_page() -> None:
    html = add_anchors(
        "<h2>MRR trend</h2><h3>By month</h3><h3>By month</h3>", ['<h2 id="mrr-trend">']
    )
    assert re.findall(r'id="([^"]+)"', html) == ["mrr-trend-2", "by-month", "by-month-2"]
    assert slug("Paid channels: CAC, LTV:CAC &amp; payback") == "paid-channels-cac-ltv-cac-payback"
    assert add_anchors('<h2 id="kept">Kept</h2>') == '<h2 id="kept">Kept</h2>'


def test_category_values_read_as_the_seeds_labels() -> None:
    with (SEEDS / "channels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            assert humanize(row["channel"]) == row["channel_label"]
    assert humanize("never_scanned") == "Never scanned"
    assert humanize("Paid social") == "Paid social"  # a label passes through unchanged
    assert readable("it equals new_customers.") == "it equals new customers."


@pytest.mark.parametrize("value", ["paid_search", "job_seeker", "recent_graduate"])
def test_table_cells_show_labels_not_raw_values(value: str) -> None:
    assert components._cell_text(value, None) == humanize(value) != value
