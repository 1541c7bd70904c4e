"""Matrix device verification as the rest of the bot sees it: the registry of verifications and
approvals (`registry`) and the notice that tells admins a verification waits (`notices`)."""
from bot.devices.registry import DeviceVerifications, Verification, VerificationState

__all__ = ["DeviceVerifications", "Verification", "VerificationState"]
