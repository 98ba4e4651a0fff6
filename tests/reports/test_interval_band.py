"""A forecast on a chart: `band="lower,upper"` shades the interval under the lines (one legend
entry, both ends in its hover, a gap where the ends are NULL) and `dashed=` draws a forecast
line dashed. Rows are made up in SQL on the tiny warehouse: actual MRR for three months, then a
forecast from the third with an interval of ±10 %.
"""

from __future__ import annotations

import pytest

from jobmetrics.reports import PageError

FORECAST = """
```sql forecast_chart
select * from (values
    (date '2025-01-01', 100.0, null, null, null),
    (date '2025-02-01', 110.0, null, null, null),
    (date '2025-03-01', 120.0, 120.0, 120.0, 120.0),
    (date '2025-04-01', null, 130.0, 117.0, 143.0),
    (date '2025-05-01', null, 140.0, 126.0, 154.0)
) as t(calendar_month, actual_mrr, forecast_mrr, forecast_lower_mrr, forecast_upper_mrr)
```
"""


def page(tag: str) -> str:
    return f"# Forecast\n{FORECAST}\n{tag}\n"


CHART = (
    '<LineChart data="forecast_chart" x="calendar_month" y="actual_mrr,forecast_mrr" '
    'band="forecast_lower_mrr,forecast_upper_mrr" band_title="80 % interval" '
    'dashed="forecast_mrr" fmt="usd0" />'
)


def test_the_band_is_shaded_under_the_lines_with_both_ends_in_its_hover(build, page_data) -> None:
    data = page_data((build({"index.md": page(CHART)}).out_dir / "index.html").read_text())
    [figure] = data["charts"].values()
    low, high, actual, forecast = figure["data"]
    assert (low["y"], high["y"]) == ([None, None, 120, 117, 126], [None, None, 120, 143, 154])
    assert high["fill"] == "tonexty" and "fill" not in low  # shaded from the low edge up
    assert (low["showlegend"], high["name"]) == (False, "80 % interval")  # one legend entry
    assert high["customdata"][3] == "$117" and high["hovertemplate"].startswith("%{customdata} to ")
    assert forecast["line"]["dash"] == "dash"
    assert "dash" not in actual["line"]
    assert figure["layout"]["legend"]["traceorder"] == "normal"  # lines first, then the band


def test_a_band_needs_exactly_two_columns(build) -> None:
    tag = CHART.replace("forecast_lower_mrr,forecast_upper_mrr", "forecast_lower_mrr")
    with pytest.raises(PageError) as raised:
        build({"index.md": page(tag)})
    assert "band= takes two columns: lower,upper" in str(raised.value)
