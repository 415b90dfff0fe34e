"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mfa-notify tests.

Records every accepted message as one JSON line in --record and prints
"READY" once it listens. Options: --starttls CERT KEY (offered and
required), --tls CERT KEY (implicit TLS), --auth USER PASSWORD_FILE
(required), --refuse ADDRESS (answered 550 at RCPT; repeatable).
"""
import argparse
import email
import email.policy
import json
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD_FILE"))
    p.add_argument("--refuse", action="append", default=[])
    a = p.parse_args()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in a.refuse:
                return "550 5.1.1 <%s>: no such user" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            entry = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "subject": str(msg["Subject"]),
                "from": str(msg["From"]),
                "to": str(msg["To"]),
                "body": msg.get_content(),
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "authenticated": bool(session.authenticated),
            }
            with open(a.record, "a") as f:
                f.write(json.dumps(entry) + "\n")
            return "250 Message accepted"

    kwargs = {}
    if a.auth:
        user = a.auth[0].encode()
        with open(a.auth[1], "rb") as f:
            password = f.read().splitlines()[0]

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == user
                and auth_data.password == password
            )
            return AuthResult(success=ok)

        kwargs.update(authenticator=authenticator, auth_required=True)
        if not (a.starttls or a.tls):
            kwargs.update(auth_require_tls=False)
    if a.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.starttls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.tls)
        kwargs.update(ssl_context=ctx)
    controller = Controller(Handler(), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("READY", flush=True)
    try:
        # Until the test kills us (or its stdin closes).
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
