"""`python -m kling shared` and `python -m kling unshare <id>`: the operator's view of shared links
(moderation). Neither calls an API; `unshare` takes any share down at once, whoever shared it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kling.config import Settings
from kling.controls import escape_controls

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def register(commands: Any) -> None:
    """The two subcommands, on main's subparsers."""
    listed = commands.add_parser("shared", help="list the shared links: id, task (or film), date, prompt")
    listed.add_argument("--limit", type=int, default=200, help="at most this many, newest first (default 200)")
    unshare = commands.add_parser("unshare", help="stop sharing a link at once (moderation): it answers 404")
    unshare.add_argument("share_id", metavar="SHARE_ID", help="as `shared` lists it (the last part of /clip/<id>)")


def command(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from kling.store.journal import Journal  # PyAV and Pillow come with it: only for these two commands
    from kling.store.sharing import Sharing
    from kling.store.stamps import iso_utc

    sharing = Sharing(settings.folder, Journal(settings.journal_path))
    if args.command == "unshare":
        if not sharing.unshare(args.share_id, owner=None):
            print(f"No shared link has the id {args.share_id[:40]!r}.", file=sys.stderr)
            return EXIT_FAILED
        print(f"{args.share_id} is no longer shared: /clip/{args.share_id} answers 404.", file=sys.stderr)
        return EXIT_OK
    shares = sharing.store.newest(max(1, args.limit))
    for share in shares:
        subject = share.subject if share.kind == "clip" else f"film:{share.subject}"
        title = " ".join(share.title.split())
        # Each field on its own, so the tabs between them stay tabs: a visitor wrote the title.
        fields = (share.id, subject, iso_utc(share.created), title[:120])
        print("\t".join(escape_controls(field) for field in fields))
    if not shares:
        print("Nothing is shared.", file=sys.stderr)
    return EXIT_OK


def sweep_orphans(settings: Settings, *, dry_run: bool) -> list[str]:
    """`prune`'s second part: files of the shared folder whose share is gone (posters and copies an
    older version or a crash left). stdout: one line per file; stderr: the count."""
    from kling.store.journal import Journal
    from kling.store.sharing import Sharing

    if not settings.folder.posters.is_dir():
        return []  # nothing was ever shared here
    swept = Sharing(settings.folder, Journal(settings.journal_path)).sweep_orphans(dry_run=dry_run)
    for path in swept:
        print(escape_controls(f"shared  {path}"), flush=True)
    verb = "Would remove" if dry_run else "Removed"
    print(f"{verb} {len(swept)} shared file(s) whose link is no longer shared.", file=sys.stderr)
    return [str(path) for path in swept]
