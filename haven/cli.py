"""The ``haven`` command: demo, serve, worker, and Django's management commands.

``--data DIR`` may appear anywhere on the command line and sets HAVEN_DATA.
"""

from __future__ import annotations

import os
import sys

DEMO_MARKER = "DEMO"
USAGE = """usage: haven [--data DIR] COMMAND [ARGS]

  demo [--port N]        run a demo on 127.0.0.1 (SQLite in the data folder)
  serve [--bind ADDR]    run the production web server (gunicorn)
  worker [--once]        run the background loop
  create-org             create an organization and its first administrator's link
  recover-org            restore administrator access with the recovery key
  teams-recovery SLUG    (organizations made before teams) enter the recovery key once
  audit verify           check the audit hash chains
  reindex SLUG --user USERNAME
                         index every case still waiting for the search index
  totp USERNAME          (demo only) print a demo member's current second-factor code
  chat [--org SLUG] [--lang ru]
                         (demo) talk to the bot through a fake Telegram, no internet
  kb search "QUESTION" --lang ru [--json]
                         search the knowledge base
  ...                    any Django management command (migrate, check, ...)
"""


def _take_data_option(argv: list[str]) -> list[str]:
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--data":
            value = next(it, None)
            if value is None:
                sys.exit("haven: --data needs a folder")
            os.environ["HAVEN_DATA"] = os.path.abspath(os.path.expanduser(value))
        elif arg.startswith("--data="):
            os.environ["HAVEN_DATA"] = os.path.abspath(os.path.expanduser(arg.split("=", 1)[1]))
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> None:
    args = _take_data_option(list(sys.argv[1:] if argv is None else argv))
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return
    command, rest = args[0], args[1:]
    from haven.env import data_dir

    if command == "demo" or (
        "HAVEN_MODE" not in os.environ and (data_dir() / DEMO_MARKER).exists()
    ):
        # A demo data folder keeps using its generated secrets for every command.
        os.environ["HAVEN_MODE"] = "demo"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings")
    from haven.env import BadSetting

    try:
        import django

        django.setup()
    except BadSetting as exc:
        # One clear line, no traceback: production refuses to start without its
        # secrets or with a setting it cannot read.
        sys.exit(f"haven: refusing to start: {exc}")
    from django.core.management import execute_from_command_line

    name = {"create-org": "create_org", "recover-org": "recover_org",
            "teams-recovery": "teams_recovery"}.get(command, command)
    execute_from_command_line(["haven", name, *rest])


if __name__ == "__main__":
    main()
