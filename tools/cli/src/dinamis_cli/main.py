"""``dinamis``: run the platform locally, see its state, mint development tokens."""

from __future__ import annotations

import json
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from dinamis_cli import catalogue, dlq, stack
from dinamis_cli import demo as demo_data

app = typer.Typer(help="DINAMIS platform: local stack, status and development tokens.", no_args_is_help=True)
stack_app = typer.Typer(help="The servers only (Kafka, PostgreSQL, FerretDB).", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(dlq.app, name="dlq")
console = Console(stderr=True)

ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="dev (default) or test; env DINAMIS_PROFILE")]

def _run(what: str, fn, *args):
    with console.status(what) as spinner:
        return fn(*args, lambda msg: spinner.update(f"{what}: {msg}"))


@stack_app.command("up")
def stack_up(profile: ProfileOpt = None) -> None:
    """Install (first time) and start the servers; leaves running ones alone."""
    p = stack.load_profile(profile)
    started = _run("servers", stack.start_servers, p)
    console.print(f"[green]servers ready[/] ({', '.join(started) or 'already running'})")
    _index(p)


@stack_app.command("index")
def stack_index(profile: ProfileOpt = None) -> None:
    """FerretDB index support (GIN on the fields looked up by equality) for every collection there
    is; run it again after new collections appear (dinamis up and the services' start do)."""
    _index(stack.load_profile(profile))


def _index(p: stack.Profile) -> None:
    from dinamis_cli.stack import indexes

    with console.status("FerretDB index support"):
        made = indexes.ensure(p)
    console.print(f"[green]FerretDB index support[/]: {len(made)} new index(es) on "
                  f"{len({(i.schema, i.table) for i in made})} collection(s)" if made else
                  "[green]FerretDB index support[/]: complete")


@stack_app.command("down")
def stack_down(profile: ProfileOpt = None) -> None:
    """Stop everything of the profile (services first)."""
    down(profile)


@stack_app.command("status")
def stack_status(profile: ProfileOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    status(profile, as_json)


@app.command()
def up(profile: ProfileOpt = None, demo: Annotated[bool, typer.Option(help="load demo data")] = True) -> None:
    """Start the whole system: servers, services (under the profile's supervisor, which restarts one that
    dies), demo data. Restarts only what is not running."""
    p = stack.load_profile(profile)
    _run("servers", stack.start_servers, p)
    with console.status("services") as spinner:
        for name in stack.SERVICES:
            spinner.update(f"services: starting {name}")
            stack.start_service(p, name)
    entity_id = "<entity id>"
    if demo:  # the catalogue first: the demo's archive requests pick its named Airbus archive scenes
        generated = httpx.get(f"{p.service_url('gateway')}/stac/search?limit=1&collections=pleiades", timeout=10)
        if not generated.json().get("features"):
            catalogue.demo(items=3000, seed=2026, out=None, profile=p.name)
        with console.status("demo data: the named Airbus archive scenes"):
            catalogue.load_archive_scenes(p.postgres_dsn)
        with console.status("demo data: a research lab subscribes, then three archive requests and a tasking"):
            entity_id = demo_data.load(p, lambda msg: console.print(f"[yellow]{msg}[/]"))
    _index(p)  # the collections the services (and the demo data) created
    gateway = p.service_url("gateway")
    table = Table(title=f"DINAMIS is up (profile {p.name})")
    table.add_column("what")
    table.add_column("where")
    table.add_row("gateway (web, mobile, partners)", gateway)
    table.add_row("API documentation", f"{gateway}/docs of each service, e.g. {p.service_url('requests')}/docs")
    table.add_row("STAC catalogue", f"{gateway}/stac")
    for name in stack.SERVICES[:-1]:
        table.add_row(f"service {name}", p.service_url(name))
    table.add_row("Kafka", p.kafka_bootstrap)
    table.add_row("MongoDB wire (FerretDB)", p.mongodb_uri)
    table.add_row("PostgreSQL", p.postgres_dsn)
    table.add_row("e-mail (SMTP)", "{}:{}".format(*p.smtp_address) + ("" if p.external("mail") else
                                                                        " · sink: read with `dinamis mail`"))
    table.add_row("Keycloak (realm dinamis)", f"{p.issuer}/account · admin console {p.keycloak_url}/admin "
                  f"(admin, password in {p.path('keycloak', 'admin-password')})")
    Console().print(table)
    Console().print(f"A token: [bold]dinamis token --user alice --entity {entity_id} --roles user "
                    f"--category scientific[/] then\n"
                    f"  curl -H \"Authorization: Bearer $TOKEN\" {gateway}/api/requests")


@app.command()
def down(profile: ProfileOpt = None) -> None:
    """Stop the services' supervisor, then every service and server of the profile."""
    p = stack.load_profile(profile)
    stopped = _run("stopping", stack.stop_all, p)
    console.print(f"[green]stopped[/] {', '.join(stopped) or 'nothing was running'}")


@app.command()
def status(profile: ProfileOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every server and service with its pid, port, URL and health, the services' supervisor, and
    each service's state (running, backoff, stopped), restarts and last exit (exit 1 if anything is
    unhealthy)."""
    rows = stack.status(stack.load_profile(profile))
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        table = Table()
        for col in ("name", "kind", "pid", "port", "url", "healthy", "state", "restarts", "last exit"):
            table.add_column(col)
        for r in rows:
            last = r.get("last_exit")
            table.add_row(r["name"], r["kind"] + (" (external)" if r["external"] else ""), str(r["pid"] or "-"),
                          str(r["port"] or "-"), r["url"], "[green]yes[/]" if r["healthy"] else "[red]no[/]",
                          _state(r), str(r.get("restarts", "-")),
                          f"{last['code']} at {last['at']}" if last else "-")
        Console().print(table)
    if not all(r["healthy"] for r in rows):
        raise typer.Exit(1)


def _state(row: dict) -> str:
    state = row.get("state")
    if state == "backoff":
        return f"[yellow]backoff[/] (next start {row.get('next_start_at')})"
    return {"running": "[green]running[/]", "exited": "[red]exited[/]"}.get(state, state or "-")


@app.command()
def token(
    user: Annotated[str, typer.Option(help="subject of the token")],
    entity: Annotated[str | None, typer.Option(help="entity (organisation) id")] = None,
    roles: Annotated[str, typer.Option(help="comma-separated: user, correspondent, arbiter, operator, admin")] = "user",
    category: Annotated[str, typer.Option(help="scientific or institutional")] = "institutional",
    cells: Annotated[str, typer.Option(help="comma-separated cells, for arbiters")] = "",
    profile: ProfileOpt = None,
) -> None:
    """Ensure the development user exists in Keycloak with these claims; print its access token."""
    if category not in ("scientific", "institutional"):
        raise typer.BadParameter("category must be 'scientific' or 'institutional'")
    p = stack.load_profile(profile)
    try:
        print(stack.mint_token(p, user, entity, [r for r in roles.split(",") if r], category,
                               [c for c in cells.split(",") if c]))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--roles") from exc
    except (httpx.HTTPError, RuntimeError) as exc:
        console.print(f"[red]Keycloak did not answer as expected ({exc}): is the stack up? `dinamis up`[/]")
        raise typer.Exit(2) from exc


@app.command()
def mail(
    to: Annotated[str | None, typer.Option(help="only the messages to this address")] = None,
    last: Annotated[bool, typer.Option("--last", help="print the newest message's text (its links included)")] = False,
    profile: ProfileOpt = None,
) -> None:
    """The e-mails the stack's SMTP sink kept (Keycloak's and the services'), oldest first."""
    from dinamis_cli.stack.mail import received_at

    try:
        found = stack.messages(stack.load_profile(profile), to)
    except RuntimeError as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(2) from exc
    if last:
        if not found:
            raise typer.Exit(1)
        body = found[-1].get_body(("plain", "html"))
        print(f"Subject: {found[-1]['subject']}\nTo: {found[-1]['to']}\n\n{body.get_content() if body else ''}")
        return
    table = Table(title=f"{len(found)} message(s)")
    for col in ("received", "to", "subject"):
        table.add_column(col)
    for m in found:
        at = received_at(m)
        table.add_row(at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if at else "-", str(m["to"] or "-"),
                      str(m["subject"] or "-"))
    Console().print(table)


@app.command()
def logs(name: str, lines: int = 50, profile: ProfileOpt = None) -> None:
    """The last lines of a server's or service's log."""
    path = stack.process.log_file(stack.load_profile(profile), name)
    if not path.exists():
        raise typer.BadParameter(f"no log for {name!r} at {path}")
    print("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


if __name__ == "__main__":
    app()
