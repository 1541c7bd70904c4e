"""Trust: registration by invitation, the audit log, privacy (export, erasure, retention) and
the per-person rate limiter. Domain code only: nothing here knows about chats or replies;
`bot/handlers/trust.py` is the chat side."""
