"""The `jobmetrics` command: generate raw data, build the warehouse, build the report site."""

from __future__ import annotations

import gc
import json
import signal
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from jobmetrics.core import settings as settings_module
from jobmetrics.core.errors import UserError
from jobmetrics.progress import Progress

app = typer.Typer(
    help="JobMetrics: SaaS analytics warehouse (dbt + DuckDB), report site and narratives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object; implies --quiet.")]


def _emit(as_json: bool, payload: dict) -> None:
    if as_json:
        print(json.dumps(payload, default=str))


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise UserError(f"--start-date {value!r} is not a date in YYYY-MM-DD form") from None


def _generate(
    progress: Progress, users: int, days: int, start_date: str | None, seed: int, out: Path
) -> dict:
    from jobmetrics.generator import generate

    with progress.step(f"Generating {users:,} users × {days} days") as step:
        manifest = generate(
            out,
            users=users,
            days=days,
            start_date=_parse_date(start_date),
            seed=seed,
            progress=step.update,
        )
    rows = sum(manifest.get("row_counts", {}).values())
    progress.done(f"raw data: {rows:,} rows in {out}")
    return manifest


def _append(progress: Progress, days: int, out: Path) -> dict:
    from jobmetrics.generator import append_days

    with progress.step(f"Appending {days} days to {out}") as step:
        manifest = append_days(out, days, progress=step.update)
    progress.done(f"raw data now ends {manifest.get('data_end')}: {out}")
    return manifest


def _build(progress: Progress, full_refresh: bool) -> dict:
    from jobmetrics.warehouse import build as warehouse

    current = settings_module.load()
    done: list[str] = []

    def on_node(status: str, name: str) -> None:
        if status != "start":
            done.append(name)
        progress.update(f"{len(done)} nodes done, {status} {name}")

    with progress.step("dbt build") as _:
        report = warehouse.build(current, full_refresh=full_refresh, on_node=on_node)
    if report.up_to_date:
        progress.done(
            "warehouse up to date, nothing rebuilt: the raw files and the dbt project are those "
            f"of its last build; sources' freshness checked again ({report.seconds:.1f} s, "
            f"{len(report.warnings)} warnings; --full-refresh rebuilds): {report.warehouse}"
        )
    else:
        kind = "incremental build" if report.incremental else "full build"
        if not report.incremental and not full_refresh:
            kind += f" because {report.full_build_reason}"
        if report.kept:
            kind += f", {report.kept} unchanged views and seeds kept"
        progress.done(
            f"warehouse ({kind}, {report.nodes} nodes, {report.seconds:.1f} s, "
            f"{len(report.warnings)} warnings): {report.warehouse}"
        )
    return {
        "warehouse": str(report.warehouse),
        "seconds": round(report.seconds, 2),
        "nodes": report.nodes,
        "kept": report.kept,
        "incremental": report.incremental,
        "full_build_reason": report.full_build_reason,
        "up_to_date": report.up_to_date,
        "warnings": report.warnings,
    }


def _freshness_line(current: settings_module.Settings) -> str:
    """The freshness the last build recorded (target/freshness/sources.json), as one line."""
    from jobmetrics.warehouse.freshness import freshness_dir, read_sources_json, summary_line

    path = freshness_dir(current.dbt_target_dir) / "sources.json"
    return summary_line(read_sources_json(path)) if path.is_file() else "not checked"


DOCS_PAGE_SLACK_S = 60
"""How much older than the warehouse file the build's docs page may be (checkpoint, swap)."""


def _docs_page(current: settings_module.Settings) -> None:
    """Put dbt's docs page into the site: the one `jobmetrics build` made, else generate it."""
    from jobmetrics.warehouse.docs_site import STATIC_PAGE, build_docs_site, write_docs_page

    static_page = current.dbt_target_dir / STATIC_PAGE
    # `jobmetrics build` writes the page from the new file moments before swapping it in; a
    # warehouse written later (a plain `dbt build`) gets a page generated from it now.
    made_by_last_build = (
        static_page.is_file()
        and static_page.stat().st_mtime >= current.warehouse.stat().st_mtime - DOCS_PAGE_SLACK_S
    )
    if made_by_last_build:
        write_docs_page(static_page, current.site_dir)
    else:
        build_docs_site(current.warehouse, current.site_dir, raw_dir=current.raw_dir)


def _report(progress: Progress, strict: bool, refresh_narratives: bool) -> dict:
    from jobmetrics.ai.narratives import Narrator
    from jobmetrics.reports import build_site

    current = settings_module.load()
    with progress.step("Building the report site") as step:
        result = build_site(
            current.warehouse,
            current.site_dir,
            strict=strict,
            narrator=Narrator(current, refresh=refresh_narratives),
            progress=step.update,
            freshness=_freshness_line(current),
        )
        step.update("dbt docs")
        _docs_page(current)
    progress.done(
        f"report site ({len(result.pages)} pages, {result.seconds:.1f} s): "
        f"{current.site_dir / 'index.html'}"
    )
    usage = result.narration
    progress.done(usage.line())
    return {
        "site": str(current.site_dir),
        "pages": len(result.pages),
        "errors": [str(error) for error in result.errors],
        "seconds": round(result.seconds, 2),
        "narratives": usage.as_dict(),
    }


Users = Annotated[int, typer.Option(help="Number of users to generate.")]
Days = Annotated[int, typer.Option(help="Number of days of activity.")]
StartDate = Annotated[
    str | None,
    typer.Option(
        help="First day, YYYY-MM-DD (default: DAYS days before today, so data ends yesterday)."
    ),
]
Seed = Annotated[
    int, typer.Option(help="Random seed; same seed and parameters give identical files.")
]
Strict = Annotated[
    bool,
    typer.Option(
        help="Stop at the first broken page (default); --no-strict shows the error on that page."
    ),
]
RefreshNarratives = Annotated[
    bool,
    typer.Option(
        "--refresh-narratives", help="Ask Claude again instead of using cached narratives."
    ),
]
FullRefresh = Annotated[
    bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
]


AppendDays = Annotated[
    int | None,
    typer.Option(
        help="Extend the existing data set in --out by N more days (same users continue, "
        "new users arrive) instead of generating a new one.",
    ),
]


@app.command()
def generate(
    users: Users = 10_000,
    days: Days = 365,
    start_date: StartDate = None,
    seed: Seed = 42,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default JOBMETRICS_RAW_DIR).")
    ] = None,
    append_days: AppendDays = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Write the raw Parquet tables and _manifest.json of a synthetic data set."""
    current = settings_module.load()  # checks every setting up front, even with --out
    target = out or current.raw_dir
    progress = Progress(quiet or as_json)
    if append_days is None:
        manifest = _generate(progress, users, days, start_date, seed, target)
    else:
        manifest = _append(progress, append_days, target)
    _emit(as_json, {"out": str(target), **manifest})


@app.command()
def build(full_refresh: FullRefresh = False, quiet: Quiet = False, as_json: AsJson = False) -> None:
    """Run `dbt build` into a new file and swap it in only if every model and test passed."""
    _emit(as_json, _build(Progress(quiet or as_json), full_refresh))


@app.command()
def report(
    strict: Strict = True,
    refresh_narratives: RefreshNarratives = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Build the static report site from the warehouse."""
    _emit(as_json, _report(Progress(quiet or as_json), strict, refresh_narratives))


@app.command()
def run(
    users: Users = 10_000,
    days: Days = 365,
    start_date: StartDate = None,
    seed: Seed = 42,
    strict: Strict = True,
    refresh_narratives: RefreshNarratives = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Generate the data, build the warehouse and build the report site."""
    progress = Progress(quiet or as_json)
    current = settings_module.load()
    _generate(progress, users, days, start_date, seed, current.raw_dir)
    built = _build(progress, full_refresh=True)
    site = _report(progress, strict, refresh_narratives)
    if not (quiet or as_json):
        print(f"Warehouse: {built['warehouse']}")
        print(f"Report site: {Path(site['site']) / 'index.html'}")
        print(f"Ad-hoc SQL: .venv/bin/duckdb -readonly {built['warehouse']}")
    _emit(as_json, {"build": built, "report": site})


import_app = typer.Typer(
    help="Import your own data into a raw folder that `jobmetrics build` reads: billing from "
    "Stripe, product events from PostgreSQL or from CSV / Parquet files, each through a mapping "
    "file. Run one source without --append, then add the others with --append.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")

Mapping = Annotated[
    Path, typer.Option("--mapping", help="The mapping file (YAML) of this source.", exists=False)
]
ImportOut = Annotated[
    Path | None,
    typer.Option(help="The raw folder to write (default JOBMETRICS_RAW_DIR)."),
]
Append = Annotated[
    bool,
    typer.Option(
        "--append",
        help="Add to the import folder in --out: rows with a known id are replaced, new ones "
        "added, tables this source does not give are kept. Without it --out is written anew.",
    ),
]


Until = Annotated[
    str | None,
    typer.Option(
        help="The last day to import, YYYY-MM-DD (default: yesterday, UTC): events after it are "
        "left for the next import, so the data ends with a complete day.",
    ),
]


def _last_day(until: str | None) -> date:
    """--until as a date; yesterday (UTC) when not given: today is not over yet."""
    if until is None:
        return datetime.now(UTC).date() - timedelta(days=1)
    try:
        return datetime.strptime(until, "%Y-%m-%d").date()
    except ValueError:
        raise UserError(f"--until {until!r} is not a date in YYYY-MM-DD form") from None


def _import(
    current: settings_module.Settings,
    source: str,
    label: str,
    out: Path | None,
    quiet: bool,
    as_json: bool,
    run: Callable[[Path, Progress], dict],
) -> None:
    """Run one import into `out` (default JOBMETRICS_RAW_DIR) as a progress step, then report
    what it wrote, what it skipped and which tables still hold no rows."""
    target = out or current.raw_dir
    progress = Progress(quiet or as_json)
    with progress.step(f"Importing {label} into {target}") as step:
        manifest = run(target, step)
    counts = manifest.get("row_counts", {})
    rows = ", ".join(f"{counts[name]:,} {name.removeprefix('raw_')}" for name in counts)
    progress.done(
        f"raw data from {label}: {rows} ({manifest.get('data_start')} .. "
        f"{manifest.get('data_end')}): {target}"
    )
    facts = manifest.get("sources", {}).get(source, {})
    for reason, count in (facts.get("skipped_by_reason") or {}).items():
        examples = (facts.get("skipped_examples") or {}).get(reason, [])
        shown = ", ".join(examples) + (", …" if count > len(examples) else "")
        progress.note(f"{source}: {count:,} skipped ({shown}): {reason}")
    if facts.get("skipped_list"):
        progress.note(
            f"every object {source} skipped, with its reason: {target / facts['skipped_list']}"
        )
    empty = [name for name in facts.get("tables") or [] if not counts.get(name)]
    if empty:
        progress.note(
            f"{source} gave no rows for {', '.join(empty)}: check the mapping"
            + (" and what it skipped" if facts.get("skipped_list") else "")
        )
    absent = manifest.get("absent_tables") or []
    if absent:
        progress.note(
            f"no rows yet in {', '.join(absent)}: the pages that need them are left out of the "
            "report (add a source with --append)"
        )
    _emit(as_json, {"out": str(target), **manifest})


@import_app.command("stripe")
def import_stripe_command(
    mapping: Mapping,
    json_dir: Annotated[
        Path | None,
        typer.Option(
            help="Read the JSON the Stripe API returned (saved list pages) instead of calling it."
        ),
    ] = None,
    out: ImportOut = None,
    append: Append = False,
    until: Until = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Customers, subscriptions and invoices from Stripe (STRIPE_API_KEY) or saved JSON."""
    current, last_day = settings_module.load(), _last_day(until)
    if json_dir is None and not current.stripe_api_key:
        raise UserError(
            "STRIPE_API_KEY is not set (environment or .env): set it to a restricted read-only "
            "key, or import saved API responses with --json-dir"
        )
    from jobmetrics.importers.stripe_billing import import_stripe

    _import(
        current,
        "stripe",
        "Stripe" if json_dir is None else f"Stripe JSON in {json_dir}",
        out,
        quiet,
        as_json,
        lambda target, step: (
            import_stripe(
                target,
                mapping=mapping,
                api_key=None if json_dir is not None else current.stripe_api_key,
                json_dir=json_dir,
                append=append,
                until=last_day,
                progress=step.update,
            ).manifest
        ),
    )


@import_app.command("postgres")
def import_postgres_command(
    mapping: Mapping,
    dsn: Annotated[
        str | None,
        typer.Option(
            help="libpq connection string or postgresql:// URL (default JOBMETRICS_POSTGRES_DSN)."
        ),
    ] = None,
    out: ImportOut = None,
    append: Append = False,
    until: Until = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Users, scans and sessions (any tables the mapping names) from a PostgreSQL database."""
    current, last_day = settings_module.load(), _last_day(until)
    connection = dsn or current.postgres_dsn
    if not connection:
        raise UserError("no database to read: give --dsn or set JOBMETRICS_POSTGRES_DSN")
    from jobmetrics.importers.postgres import import_postgres

    _import(
        current,
        "postgres",
        "PostgreSQL",
        out,
        quiet,
        as_json,
        lambda target, step: import_postgres(
            target,
            mapping=mapping,
            dsn=connection,
            append=append,
            until=last_day,
            progress=step.update,
        ),
    )


@import_app.command("files")
def import_files_command(
    mapping: Mapping,
    out: ImportOut = None,
    append: Append = False,
    until: Until = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Any tables of the contract from CSV or Parquet files in any column layout."""
    from jobmetrics.importers.files import import_files

    current, last_day = settings_module.load(), _last_day(until)
    _import(
        current,
        "files",
        "files",
        out,
        quiet,
        as_json,
        lambda target, step: import_files(
            target, mapping=mapping, append=append, until=last_day, progress=step.update
        ),
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain English.")],
    sql_only: Annotated[
        bool, typer.Option("--sql-only", help="Print the checked SQL and stop; nothing runs.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Answer a question: Claude writes one SQL query over the marts, checked and run read-only."""
    from jobmetrics.ai.ask import ask as answer_question
    from jobmetrics.ai.ask import render_text

    result = answer_question(question, settings_module.load(), sql_only=sql_only)
    if as_json:
        _emit(True, result.as_dict())
    else:
        print(render_text(result))


@app.command()
def explain(
    metric: Annotated[
        str | None, typer.Argument(help="A metric name; without one, list every metric.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Print a metric's definition from the metric registry (no API call)."""
    from jobmetrics.ai.explain import explain_command

    _emit(as_json, explain_command(settings_module.load(), metric, as_json=as_json))


def _usage_line(error: typer.TyperException) -> str:
    """One line for a usage error, naming the subcommand whose --help explains it."""
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "jobmetrics"
    return f"error: {error.format_message()} (see `{command} --help`)"


INTERRUPTED = 130
"""The exit code of every command stopped by Ctrl-C (SIGINT) or SIGTERM."""

_signals_received: list[int] = []


def _interrupt(signum: int, frame: object) -> None:
    """Cancel the running step like Ctrl-C; a second signal does not cut its clean-up short."""
    _signals_received.append(signum)
    if len(_signals_received) == 1:
        raise KeyboardInterrupt


def _interrupted_line() -> str:
    name = signal.Signals(_signals_received[0]).name if _signals_received else "SIGINT"
    return (
        f"error: interrupted by {name}; the unfinished step was cancelled and what it would "
        "replace (warehouse, site or raw data) is unchanged"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit code 2, interruptions one
    line and exit code 130."""
    # SIGTERM (a CI job cancelled, `kill`) cleans up like Ctrl-C: no half-written files.
    _signals_received.clear()
    try:
        # keys and settings from .env; what the environment sets wins
        settings_module.load_env_file(settings_module.env_file())
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    previous = {
        number: signal.signal(number, _interrupt) for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        result = app(args=argv, standalone_mode=False)
    except BaseException as error:
        # Whatever a signal turned into on its way up (typer's Exit(130), DuckDB's
        # InterruptException, a wrapped error), it is reported as the interruption it was.
        if _signals_received or isinstance(error, KeyboardInterrupt | typer.Abort):
            print(_interrupted_line(), file=sys.stderr)
            return INTERRUPTED
        if isinstance(error, UserError):
            print(f"error: {error}", file=sys.stderr)
            return 2
        if isinstance(error, typer.TyperException):
            print(_usage_line(error), file=sys.stderr)
            return 2
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if _signals_received:
        # typer turns KeyboardInterrupt into a plain return of 130
        print(_interrupted_line(), file=sys.stderr)
        return INTERRUPTED
    return result if isinstance(result, int) else 0


def entry() -> None:
    """The `jobmetrics` command: main(), then an exit that skips the final garbage collections.

    At exit the interpreter's own collections walk every object dbt left behind (about 0.9 s
    after a build); frozen objects are skipped, and the process is ending anyway.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
