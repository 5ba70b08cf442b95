"""Options that take several values after one flag: `--compare a b c`, `--from-lm-eval f g`.

A click option takes one value per flag, so the values after the flag (up to the next
option) are spread into `FLAG v` pairs before click parses them.
"""

from __future__ import annotations


def spread_option(args: list[str], flag: str) -> list[str]:
    out: list[str] = []
    taking = False
    for i, arg in enumerate(args):
        if arg == "--":  # the end of options: the rest is positional as written
            return out + args[i:]
        if arg == flag or arg.startswith(f"{flag}="):
            taking = True
            value = arg.partition("=")[2]
            out += [flag, value] if value else []
            if not value and (i + 1 == len(args) or args[i + 1].startswith("-")):
                out.append(f"{flag}=")  # no ids at all: an empty one, refused as too few
            continue
        if taking and not arg.startswith("-"):
            out += [flag, arg]
            continue
        taking = False
        out.append(arg)
    return out
