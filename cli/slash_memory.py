"""`/memory` in chat: what pocketchat remembers about you (`memory` commands, in the chat).

`/memory` lists, `/memory search WORDS`, `/memory show ID`, `/memory forget ID`,
`/memory clear yes`. The chat's person is the local user (docs/memory.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.slash_registry import command, say

if TYPE_CHECKING:
    from cli.repl import Repl

USAGE = "/memory [list | search WORDS | show ID | forget ID | clear yes]"


@command("memory", "what is remembered about you across chats: list, search, show, forget, clear",
         "[list|search|show|forget|clear]")  # fmt: skip
def _memory(repl: Repl, arg: str) -> None:
    from cli.memory_cmd import line, parse_id
    from utils.memory import LOCAL_OWNER, memories_sql

    store = repl.store
    verb, _, rest = arg.partition(" ")
    verb, rest = verb.lower() or "list", rest.strip()
    if verb == "list":
        found = memories_sql.list_memories(store, LOCAL_OWNER, 50)
        if not found:
            on = "on" if repl.app.settings.memory.enabled else "off (memory.enabled: true)"
            say(f"no memories yet; memory is {on}")
        for m in found:
            say(line(m))
    elif verb == "search" and rest:
        found = memories_sql.search_text(store, LOCAL_OWNER, rest)
        for m in found:
            say(line(m))
        if not found:
            say(f"no memory holds '{rest}'")
    elif verb in ("show", "forget") and rest:
        memory_id = parse_id(rest)
        found_one = memories_sql.get(store, LOCAL_OWNER, memory_id)
        if found_one is None:
            say(f"no memory m{memory_id}")
        elif verb == "show":
            say(line(found_one))
            say(f"  from session {found_one.source_session_id or '-'}, message "
                f"{found_one.source_message_id or '-'}; last used "
                f"{found_one.last_used_at or 'never'}")  # fmt: skip
        else:
            memories_sql.forget(store, LOCAL_OWNER, memory_id)
            say(f"forgot m{memory_id}")
    elif verb == "clear" and rest.lower() == "yes":
        say(f"forgot {memories_sql.clear(store, LOCAL_OWNER)} memories")
    elif verb == "clear":
        say("this erases every memory for good: /memory clear yes")
    else:
        say(f"usage: {USAGE}")
