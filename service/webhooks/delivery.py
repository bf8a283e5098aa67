"""Sending one claimed delivery by its subscription's kind: a signed POST, a chat message, a
mail. Secrets are decrypted only here, for the moment of sending, and never logged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from service.config import Settings
from service.secretbox import SecretBox, SecretUnreadable
from service.tabular import Language
from service.webhooks import chat, mail, messages, outbound, signing
from service.webhooks.models import Kind
from service.webhooks.outbound import Clients, Outcome
from service.webhooks.outbox import Claimed

_CHAT: dict[Kind, Callable[[messages.Message, Language], dict[str, Any]]] = {
    Kind.slack: chat.slack,
    Kind.teams: chat.teams,
    Kind.line_works: chat.line_works,
}


class Sender:
    def __init__(
        self,
        settings: Settings,
        box: SecretBox,
        clients: Clients,
        now: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.box = box
        self.clients = clients
        self.now = now

    def language(self, claimed: Claimed) -> Language:
        return cast(Language, claimed.language or self.settings.notify_language)

    def message(self, claimed: Claimed) -> messages.Message:
        return messages.render(
            claimed.event_type,
            json.loads(claimed.payload),
            self.language(claimed),
            self.settings.public_base,
        )

    async def send(self, claimed: Claimed) -> Outcome:
        try:
            if claimed.to_contact or claimed.kind is Kind.email:
                return await self._mail(claimed)
            url = self.box.open(claimed.target_sealed)
            if claimed.kind is Kind.webhook:
                body = claimed.payload.encode()
                secrets = [self.box.open(sealed) for sealed in claimed.secrets_sealed]
                stamp = int(self.now().timestamp())
                headers = signing.headers(secrets, claimed.message_id, stamp, body)
            else:
                shaped = _CHAT[claimed.kind](self.message(claimed), self.language(claimed))
                body = json.dumps(shaped, ensure_ascii=False).encode()
                headers = {}
            return await outbound.post(self.clients, url, body, headers, self.settings)
        except SecretUnreadable as error:
            return Outcome(False, error=str(error)[:300])

    async def _mail(self, claimed: Claimed) -> Outcome:
        to = claimed.contact_email if claimed.to_contact else self.box.open(claimed.target_sealed)
        if not to:
            return Outcome(False, error="the subscription has no contact address")
        composed = mail.compose(
            self.message(claimed),
            self.language(claimed),
            sender=self.settings.smtp_sender,
            to=to,
            message_id=claimed.message_id,
        )
        return await asyncio.to_thread(mail.send, composed, self.settings)
