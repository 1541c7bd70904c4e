"""Thin translators between chat platforms and the neutral model of `bot.messages`. They know
the App's `receive` and nothing of features."""
