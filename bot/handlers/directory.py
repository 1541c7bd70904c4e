"""Directory commands: who handles what, where (`/who`, plain text in a direct chat, `/more`,
`/entry`), keeping it current (`/stale`, `/incomplete`, `/import` with a CSV file,
`/export_directory`), focal points' answers and edits (`/verify`, `/myentry`) and the
coordinators' review (`/changes`, `/revert`, `/approve`, `/reject`, `/complete_entries`).

This module is the feature's table; each part lives in its own module:
directory_search.py, directory_entries.py, directory_admin.py, directory_verify.py,
directory_edit.py (the focal point's editor) and directory_review.py."""
from __future__ import annotations

from bot.directory.verification import ANSWER_KIND as VERIFY_KIND
from bot.handlers import directory_admin as admin
from bot.handlers import directory_edit as editor
from bot.handlers import directory_entries as entries
from bot.handlers import directory_review as review
from bot.handlers import directory_search as search
from bot.handlers import directory_verify as verification
from bot.i18n import N_
from bot.router import Command, ConversationStep, Feature

FEATURE = Feature(
    name="directory",
    commands=[
        Command("who", search.who, N_("who handles what, where"), N_("/who QUERY")),
        Command("more", search.more, N_("more results for your last question"), N_("/more")),
        Command("entry", entries.show_entry, N_("one directory entry in full"),
                N_("/entry ID")),
        Command("stale", admin.stale, N_("directory entries not verified for 90 days"),
                N_("/stale")),
        Command("incomplete", admin.incomplete,
                N_("directory entries without a phone or e-mail"), N_("/incomplete [AREA]")),
        Command("verify", verification.verify, N_("confirm or correct your directory entry"),
                N_("/verify ID ok|changes")),
        Command("myentry", editor.myentry, N_("see and correct your own directory entry"),
                N_("/myentry [ID]"), direct_only=True),
        Command("changes", review.changes, N_("changes focal points made to their entries"),
                N_("/changes [ENTRY]")),
        Command("revert", review.revert, N_("undo a focal point's change to an entry"),
                N_("/revert NUMBER")),
        Command("approve", review.approve, N_("approve a focal point's changes to an entry"),
                N_("/approve ENTRY")),
        Command("reject", review.reject, N_("reject a focal point's changes to an entry"),
                N_("/reject ENTRY")),
        Command("complete_entries", review.complete_entries,
                N_("ask focal points to complete entries without a phone or e-mail"),
                N_("/complete_entries [status]")),
        Command("import", admin.import_directory, N_("import the directory (send the CSV file)"),
                N_("/import [replace] [skip-invalid] with the CSV file attached"),
                takes_file=True),
        Command("export_directory", admin.export_directory, N_("the directory as a CSV file"),
                N_("/export_directory")),
    ],
    conversations=[ConversationStep(search.PLACE_QUESTION, search.place_answer),
                   ConversationStep(VERIFY_KIND, verification.verify_step),
                   ConversationStep(editor.EDIT_KIND, editor.edit_step),
                   ConversationStep(review.CAMPAIGN_KIND, review.campaign_step)],
    text_handler=search.search_text,
)

