"""coordbot: a chat-based coordination assistant. The composition root is `bot.bootstrap`."""
