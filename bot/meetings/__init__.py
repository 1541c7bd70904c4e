"""Meetings and their follow-up: agenda points, decisions and action points of one occurrence
of a meeting series (a reminders Schedule of kind "meeting"). Domain code only, no chat."""
