"""``gep serve``, ``gep token`` and ``gep db upgrade|import|seed-analytics``: run the API and manage its store.

Mounted into the main CLI by ``app.add_typer(gep.api.cli.app)`` (no name: the commands join the
top level). Heavy imports (FastAPI, uvicorn, the engine) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(
    help="The gep store: schema upgrades, account imports, plan indicators and county evaluations.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: $GEP_DATABASE_URL, else the SQLite file under $GEP_HOME)"),
]
DEMO_OUTPUT = Path("gep-output")


def _settings(db: str | None, **overrides):
    from gep.api.settings import Settings

    values = {k: v for k, v in {"database_url": db, **overrides}.items() if v is not None}
    try:
        return Settings(**values)
    except ValueError as exc:
        typer.echo(f"gep: {exc}", err=True)
        raise typer.Exit(2) from None


def _is_account(folder: Path) -> bool:
    return (folder / "account.csv").is_file() and (folder / "summary.json").is_file()


def seed_store(sessions, data_dir: Path, resolution: float, lang: str = "zh", cwd: Path | None = None) -> int | None:
    """Fill an empty store so a fresh server shows something: import ``./gep-output`` if it holds an
    account (what ``make demo`` writes), else run the Lishui demo into ``data_dir/demo`` and import it.
    Both are published. Returns the account id, or None when the store already had accounts."""
    from sqlalchemy import func, select

    from gep.store.models import Account
    from gep.store.repository import import_account

    with sessions() as session:
        if session.scalar(select(func.count()).select_from(Account)):
            return None
    local = (cwd or Path.cwd()) / DEMO_OUTPUT
    if _is_account(local):
        typer.echo(f"gep serve: importing the account in {local}")
        folder = local
    else:
        folder = data_dir / "demo" / "lishui-demo"
        if not _is_account(folder):
            from gep.demo.runner import run_demo

            typer.echo(f"gep serve: empty store; running the Lishui demo at {resolution:g} m into {folder}")
            code = run_demo(out=folder, resolution=resolution, lang=lang, quiet=False)
            if code != 0:
                raise typer.Exit(code)
    with sessions() as session:
        account = import_account(session, folder, published=True)
        session.commit()
        account_id = account.id
    _seed_analytics(sessions, account_id, "gep serve")
    return account_id


def _seed_analytics(sessions, account_id: int, who: str) -> None:
    """Seed the plan indicators (when the Lishui plan is about the account's top region) and the county
    evaluation from a stored account; a failure is reported and leaves the account in place."""
    from gep.api.seed import plan_applies, seed_analytics
    from gep.problems import GepInputError
    from gep.store.models import Account

    with sessions() as session:
        account = session.get(Account, account_id)
        try:
            applies = plan_applies(account)
            report = seed_analytics(session, account, indicators=applies)
            session.commit()
        except (GepInputError, ValueError) as exc:
            session.rollback()
            typer.echo(f"{who}: plan indicators and county evaluation not seeded: {exc}", err=True)
            return
        if not applies:
            typer.echo(
                f"{who}: the packaged plan indicators are Lishui's (region 331100); not seeded for this account"
                " (use `gep db seed-analytics DIR --indicators FILE` with your plan's indicator set)"
            )
        _echo_seeded(who, report)


def _echo_seeded(who: str, report) -> None:
    if report.series:
        typer.echo(
            f"{who}: {len(report.series)} plan indicators with targets for region {report.series[0].region_code}"
            f" ({report.forecasts} forecast points)"
        )
    if report.evaluations:
        typer.echo(f"{who}: county evaluation of {len(report.evaluations)} counties ({report.evaluations[0].year})")
    for note in report.notes:
        typer.echo(f"{who}: {note}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    db: DbOption = None,
    data_dir: Annotated[Path | None, typer.Option("--data", help="run outputs, uploads, map cache")] = None,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="fill an empty store with the demo")] = True,
    resolution: Annotated[float, typer.Option("--demo-resolution", help="demo pixel size, m")] = 100.0,
    workers: Annotated[int | None, typer.Option("--run-workers", help="account runs at the same time")] = None,
) -> None:
    """Serve the REST API (docs at /docs). An empty store gets the Lishui demo account first."""
    import uvicorn

    from gep.api.app import create_app
    from gep.api.settings import DEFAULT_ADMIN_TOKEN

    settings = _settings(db, data_dir=data_dir, run_workers=workers)
    application = create_app(settings)
    if demo:
        seed_store(application.state.sessions, settings.data_path, resolution)
    if settings.admin_token == DEFAULT_ADMIN_TOKEN:
        typer.echo(f"gep serve: development admin token {DEFAULT_ADMIN_TOKEN!r} (set GEP_ADMIN_TOKEN to change)")
    typer.echo(f"gep serve: http://{host}:{port}/docs")
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def token(
    name: Annotated[str, typer.Argument(help="who the token is for (shown in the audit log)")],
    role: Annotated[str, typer.Option("--role", help="viewer, analyst or admin")] = "viewer",
    db: DbOption = None,
) -> None:
    """Create an API token and print it (only once: the store keeps its hash)."""
    from gep.api.auth import ROLES, create_token
    from gep.store.db import make_engine, session_factory, upgrade

    if role not in ROLES:
        raise typer.BadParameter(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", param_hint="--role")
    settings = _settings(db)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        text = create_token(session, name, role)
        session.commit()
    typer.echo(text)


@db_app.command("upgrade")
def db_upgrade(
    db: DbOption = None,
    revision: Annotated[str, typer.Option("--revision", help="target revision")] = "head",
) -> None:
    """Apply the store's schema migrations (Alembic) up to the newest revision."""
    from gep.store.db import current_revision, make_engine, upgrade

    settings = _settings(db)
    engine = make_engine(settings.database_url)
    upgrade(engine, revision)
    typer.echo(f"{engine.url.render_as_string(hide_password=True)}: schema at revision {current_revision(engine)}")


@db_app.command("import")
def db_import(
    directory: Annotated[Path, typer.Argument(help="account folder (written by gep account or gep demo)")],
    publish: Annotated[bool, typer.Option("--publish", help="readable without a token")] = False,
    db: DbOption = None,
) -> None:
    """Import an account folder into the store."""
    from gep.store.db import make_engine, session_factory, upgrade
    from gep.store.repository import import_account

    if not _is_account(directory):
        typer.echo(f"gep db import: {directory}: no account.csv; expected a folder written by `gep account`", err=True)
        raise typer.Exit(1)
    settings = _settings(db)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        account = import_account(session, directory, published=publish)
        session.commit()
        typer.echo(f"imported account {account.id}: {account.name} {account.year}")


@db_app.command("seed-analytics")
def db_seed_analytics(
    directory: Annotated[Path, typer.Argument(help="account folder (written by gep account or gep demo)")],
    indicators: Annotated[
        Path | None,
        typer.Option("--indicators", help="indicator set TOML (default: the Lishui plan's 14, for region 331100)"),
    ] = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="TOML overriding targets or base values of the indicator set")
    ] = None,
    evaluation: Annotated[
        bool, typer.Option("--evaluation/--no-evaluation", help="also store the county evaluation")
    ] = True,
    publish: Annotated[bool, typer.Option("--publish", help="publish the account if it has to be imported")] = False,
    db: DbOption = None,
) -> None:
    """Store plan indicators (targets, base values, the account's GEP, forecasts where the series allows)
    and a county evaluation computed from an account; imports the account first if the store lacks it."""
    from sqlalchemy import select

    from gep.analytics.indicators import load_indicator_set
    from gep.api.seed import plan_applies, seed_analytics
    from gep.problems import GepInputError
    from gep.store.db import make_engine, session_factory, upgrade
    from gep.store.models import Account
    from gep.store.repository import import_account

    who = "gep db seed-analytics"
    if not _is_account(directory):
        typer.echo(f"{who}: {directory}: no account.csv; expected a folder written by `gep account`", err=True)
        raise typer.Exit(1)
    try:
        indicator_set = load_indicator_set(indicators, targets)
    except GepInputError as exc:
        typer.echo(exc.render("en"), err=True)
        raise typer.Exit(1) from None
    settings = _settings(db)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        query = select(Account).where(Account.directory == str(directory.resolve())).order_by(Account.id.desc())
        account = session.scalars(query.limit(1)).first()
        if account is None:
            account = import_account(session, directory, published=publish)
            typer.echo(f"{who}: imported account {account.id}: {account.name} {account.year}")
        applies = indicators is not None or plan_applies(account)
        if not applies:
            typer.echo(
                f"{who}: the default indicator set is the Lishui plan's (region 331100) and this account's top region"
                " differs: indicators not stored; give --indicators FILE with your plan's indicator set"
            )
        try:
            report = seed_analytics(session, account, indicator_set, indicators=applies, evaluation=evaluation)
        except (GepInputError, ValueError) as exc:
            session.rollback()
            typer.echo(f"{who}: {exc}", err=True)
            raise typer.Exit(1) from None
        session.commit()
        _echo_seeded(who, report)
