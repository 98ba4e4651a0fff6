"""Site builds: strict and lenient modes, the swap that keeps the previous site, assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobmetrics.core.errors import WarehouseUnavailable
from jobmetrics.reports import PageError, ReportError, build_site
from jobmetrics.reports.build import CHART_LIBRARY, CHART_LIBRARY_LICENSE
from jobmetrics.reports.publish import versions_folder

GOOD = "# Good\n```sql a\nselect count(*) as n from fct_mrr_monthly\n```\n{{ a.n }} months\n"
BROKEN = "# Broken\n```sql a\nselect * from missing_table\n```\n"


def site_leftovers(folder: Path) -> list[str]:
    """What site builds left in folder besides `site` and the one version it links to."""
    site, versions = folder / "site", versions_folder(folder / "site")
    found = [path.name for path in folder.iterdir() if path.name.startswith(".site")]
    if versions.is_dir():
        found.remove(versions.name)
        found += [path.name for path in versions.iterdir() if path != site.resolve()]
    return sorted(found)


def test_site_has_pages_assets_and_no_leftovers(build, tmp_path: Path) -> None:
    result = build({"index.md": GOOD, "other.md": GOOD})
    site = tmp_path / "site"
    assert sorted(path.name for path in result.pages) == ["index.html", "other.html"]
    assert all(path.is_file() for path in result.pages)
    # the vendored partial plotly.js bundle, not the plotly wheel's full 4.8 MB one
    library = (site / "assets" / CHART_LIBRARY).read_text(encoding="utf-8")
    assert library.startswith("/**\n* plotly.js v4.") and "partial bundle" in library[:200]
    assert 500_000 < len(library) < 2_000_000
    assert "MIT License" in (site / "assets" / CHART_LIBRARY_LICENSE).read_text(encoding="utf-8")
    assert (site / "assets" / "site.css").is_file()
    assert (site / "assets" / "site.js").is_file()
    assert result.errors == []
    assert result.seconds > 0
    assert site_leftovers(tmp_path) == []


def test_strict_build_fails_and_keeps_the_previous_site(build, tmp_path: Path) -> None:
    build({"index.md": GOOD})
    before = (tmp_path / "site" / "index.html").read_text()
    with pytest.raises(PageError, match=r"broken\.md:3: query 'a': Catalog Error"):
        build({"index.md": GOOD.replace("Good", "Changed"), "broken.md": BROKEN})
    assert (tmp_path / "site" / "index.html").read_text() == before
    assert not (tmp_path / "site" / "broken.html").exists()
    assert site_leftovers(tmp_path) == []


def test_lenient_build_shows_the_error_on_the_broken_page_only(build, tmp_path: Path) -> None:
    result = build({"index.md": GOOD, "broken.md": BROKEN}, strict=False)
    assert len(result.pages) == 2
    assert [error.line for error in result.errors] == [3]
    broken = (tmp_path / "site" / "broken.html").read_text()
    assert 'class="jm-error"' in broken
    assert "broken.md:3: query &#39;a&#39;: Catalog Error" in broken
    good = (tmp_path / "site" / "index.html").read_text()
    assert "jm-error" not in good
    assert "12 months" in good


def test_lenient_build_survives_a_broken_template_query(build, tmp_path: Path) -> None:
    template = "---\nparams_query: select nope from dim_channels\n---\n# X\n"
    result = build({"index.md": GOOD, "channels/[channel].md": template}, strict=False)
    assert [error.line for error in result.errors] == [2]
    assert "params_query" in result.errors[0].message
    assert (tmp_path / "site" / "channels" / "index.html").is_file()


def test_docs_folder_of_the_previous_site_is_kept(build, tmp_path: Path) -> None:
    build({"index.md": GOOD})
    docs = tmp_path / "site" / "docs"
    docs.mkdir()
    (docs / "index.html").write_text("dbt docs")
    build({"index.md": GOOD})
    assert (docs / "index.html").read_text() == "dbt docs"


def test_a_page_that_would_load_a_remote_resource_is_refused(build) -> None:
    page = '# Remote\n\n<img src="https://example.com/logo.png">\n'
    with pytest.raises(PageError, match="external resource"):
        build({"index.md": page})


def test_missing_warehouse_is_a_clear_error(tmp_path: Path, write_pages) -> None:
    with pytest.raises(
        WarehouseUnavailable, match="no warehouse at .*run `jobmetrics build` first"
    ):
        build_site(
            tmp_path / "none.duckdb", tmp_path / "site", pages_dir=write_pages({"a.md": GOOD})
        )


def test_missing_pages_folder_is_a_clear_error(tiny_warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="pages folder .* does not exist"):
        build_site(tiny_warehouse, tmp_path / "site", pages_dir=tmp_path / "nowhere")


def test_bad_front_matter_names_the_line(build) -> None:
    with pytest.raises(PageError, match=r"index\.md:3: front matter is not valid YAML"):
        build({"index.md": "---\ntitle: A\norder: [1\n---\n# A\n"})


def test_progress_reports_each_page(build) -> None:
    messages: list[str] = []
    build({"index.md": GOOD, "other.md": GOOD}, progress=messages.append)
    assert messages == ["page 1/2: index.html", "page 2/2: other.html"]


def test_sidebar_orders_pages_by_front_matter(build, tmp_path: Path) -> None:
    build(
        {
            "index.md": "---\norder: 1\n---\n# Home\n",
            "b.md": "---\norder: 2\ntitle: Second\n---\ntext\n",
            "a.md": "---\norder: 3\n---\n# Third\n",
        }
    )
    html = (tmp_path / "site" / "b.html").read_text()
    nav = html[html.index('<nav class="jm-sidebar"') : html.index("</nav>")]
    assert nav.index(">Home<") < nav.index(">Second<") < nav.index(">Third<")
    assert '<a href="b.html" aria-current="page">Second</a>' in nav
    assert "<h1>Second</h1>" in html  # title from front matter when the page has no heading


def test_cli_report_fails_with_one_line_and_exit_2_or_shows_the_error_when_lenient(
    tiny_warehouse: Path,
    write_pages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from jobmetrics.cli import main
    from jobmetrics.reports import build as build_module

    pages = write_pages({"index.md": GOOD, "broken.md": BROKEN})
    monkeypatch.setattr(build_module, "DEFAULT_PAGES", pages)
    monkeypatch.setenv("JOBMETRICS_WAREHOUSE", str(tiny_warehouse))
    monkeypatch.setenv("JOBMETRICS_SITE_DIR", str(tmp_path / "site"))
    assert main(["report", "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "broken.md:3: query 'a': Catalog Error: Table with name missing_table" in lines[0]
    assert not (tmp_path / "site").exists()

    assert main(["report", "--no-strict", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["pages"] == 2
    assert len(output["errors"]) == 1 and "broken.md:3" in output["errors"][0]


def test_a_site_path_that_is_a_file_is_a_clear_error(
    tiny_warehouse: Path, write_pages, tmp_path: Path
) -> None:
    (tmp_path / "site").write_text("not a folder")
    with pytest.raises(ReportError, match="site folder .* exists and is not a folder"):
        build_site(tiny_warehouse, tmp_path / "site", pages_dir=write_pages({"index.md": GOOD}))
    assert (tmp_path / "site").read_text() == "not a folder"
    assert site_leftovers(tmp_path) == []
