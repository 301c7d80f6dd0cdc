"""A local mail catcher: every mail it receives becomes an .eml file.

Usage: ``python mailcatcher.py FOLDER PORT`` (run by ``tools/demo.py`` with
Odoo's Python, which has aiosmtpd). Listens on 127.0.0.1 only.

``MAILCATCHER_STALL_AT=N`` (``make reliability``): the Nth mail is stored,
then its "250" answer waits 10 seconds; the sender's port is written to
``FOLDER/stalled`` meanwhile, so that a run can kill the process that sent
it while the server has the mail and the sender does not know it yet.
"""

import asyncio
import email
import email.policy
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller


class Catcher:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.received = 0
        self.stall_at = int(os.environ.get("MAILCATCHER_STALL_AT") or 0)

    async def handle_DATA(self, server, session, envelope):
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.folder / f"{stamp}.eml"
        raw = envelope.original_content or envelope.content
        envelope_lines = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        path.write_bytes(envelope_lines + raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        attachments = [part.get_filename() for part in message.iter_attachments()]
        print(
            f"[mail] {message['Subject']!r} from {envelope.mail_from} "
            f"to {', '.join(envelope.rcpt_tos)}"
            f"{' with ' + ', '.join(attachments) if attachments else ''} -> {path}",
            flush=True,
        )
        self.received += 1
        if self.received == self.stall_at:
            (self.folder / "stalled").write_text(str(session.peer[1]))
            print(f"[mail] stalling the answer to {session.peer}", flush=True)
            await asyncio.sleep(10)
        return "250 Message accepted for delivery"


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Catcher(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"[mail] catching mails on 127.0.0.1:{port} into {folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
