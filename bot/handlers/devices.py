"""`!verify-device`: an admin approves the emoji verification of someone's Matrix device, after
comparing the emoji the bot shows with the ones the person sees (bot/devices/ holds the
verifications; the Matrix transport carries them out)."""
from __future__ import annotations

import re

from bot.conversations import PendingConversation, confirm_choices, preview_answer
from bot.devices import DeviceVerifications, Verification, VerificationState
from bot.devices.notices import code, emoji_lines
from bot.i18n import N_, _
from bot.markup import bold
from bot.messages import Reply
from bot.router import Command, ConversationStep, Context, Feature

CONFIRM_KIND = "devices.verify"
_MATRIX_ID = re.compile(r"@[^\s:]+:\S+")
_DEVICE_ID = re.compile(r"[A-Za-z0-9_.+=/-]{1,100}")


def _devices(ctx: Context) -> DeviceVerifications:
    return ctx.services.devices


def _state_line(verification: Verification) -> str:
    who = {"user": code(verification.user_id), "device": code(verification.device_id)}
    if verification.state is VerificationState.WAITING:
        return _("{device} of {user}: waiting for your approval.").format(**who)
    if verification.state is VerificationState.ACCEPTED:
        return _("{device} of {user}: emoji confirmed by me, waiting for the person's app."
                 ).format(**who)
    if verification.state is VerificationState.VERIFIED:
        return _("{device} of {user}: verified.").format(**who)
    return _("{device} of {user}: cancelled, the device stays unverified.").format(**who)


async def verify_device(ctx: Context) -> Reply | str:
    parts = ctx.args.split()
    if not parts:
        return _list(ctx)
    if len(parts) != 2 or not _MATRIX_ID.fullmatch(parts[0]) \
            or not _DEVICE_ID.fullmatch(parts[1]):
        return ctx.usage()
    user_id, device_id = parts
    verification = _devices(ctx).get(user_id, device_id)
    if verification is not None and verification.state is VerificationState.WAITING:
        await ctx.services.conversations.start_preview(
            ctx.session, ctx.chat_key, ctx.user.id, CONFIRM_KIND,
            {"user": user_id, "device": device_id}, requires=["verify_device"])
        question = "\n".join([
            _("{user} wants the bot to trust their device {device}. I see these emoji:").format(
                user=code(user_id), device=code(device_id)),
            emoji_lines(verification.emoji),
            _("Ask the person which emoji their app shows. Confirm only if they are the same, "
              "in the same order, and within a minute: Element gives up after that.")])
        return Reply(question, confirm_choices())
    if verification is not None and verification.state is not VerificationState.CANCELLED:
        return "\n".join([_state_line(verification), emoji_lines(verification.emoji)])
    await _devices(ctx).approve_ahead(ctx.session, ctx.user.id, user_id, device_id)
    return _("Approved: when {user} starts verifying their device {device} with me (“Verify "
             "session” in Element) within 10 minutes, I will accept it. Send {prefix}"
             "verify_device again then to see the emoji.").format(
                 user=code(user_id), device=code(device_id), prefix=ctx.prefix)


def _list(ctx: Context) -> str:
    verifications = _devices(ctx).recent()
    if not verifications:
        return _("No device verification is waiting. Send {usage} to approve one before "
                 "the person starts it.").format(
                     usage=code(f"{ctx.prefix}verify_device @user:server DEVICE"))
    lines = [bold(_("Device verifications:"))]
    for verification in verifications:
        lines += [_state_line(verification), emoji_lines(verification.emoji), ""]
    return "\n".join(lines).rstrip()


async def verify_answer(ctx: Context, pending: PendingConversation) -> Reply | str:
    answer = preview_answer(ctx.message.text)
    if answer is None:
        return Reply(_("Please answer 1 to confirm or 2 to cancel."), confirm_choices())
    user_id, device_id = pending.payload["user"], pending.payload["device"]
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if not await _devices(ctx).decide(ctx.session, ctx.user.id, user_id, device_id, answer):
        return _("This verification is over (the person cancelled it or their app gave up). "
                 "Ask them to start again.")
    if answer:
        return _("Confirmed. The device {device} of {user} is verified as soon as their app "
                 "confirms too.").format(device=code(device_id), user=code(user_id))
    return _("Cancelled: I told the person's app the emoji do not match; the device stays "
             "unverified.")


FEATURE = Feature(
    name="devices",
    commands=[
        Command("verify_device", verify_device,
                N_("approve the emoji verification of someone's Matrix device"),
                N_("/verify_device [@user:server DEVICE]"), direct_only=True,
                direct_reason=N_("For your safety, {prefix}{command} works only in a direct "
                                 "chat with me: it decides whose devices I trust.")),
    ],
    conversations=[ConversationStep(CONFIRM_KIND, verify_answer, confirms=True)],
)
