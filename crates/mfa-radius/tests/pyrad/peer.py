"""pyrad 2.6 as the other side of mfa-radius's cross-check (tests/pyrad.rs).

Reads one JSON object on stdin, writes one JSON object on stdout. Packets
travel as hex. Commands:

  request       pyrad as the NAS: build an Access-Request
  verify-reply  pyrad as the NAS: check a reply to the request it built
  serve         pyrad as the upstream server: check a request, answer it
"""
import json
import os
import sys

import pyrad
from pyrad import packet
from pyrad.dictionary import Dictionary

HERE = os.path.dirname(os.path.abspath(__file__))
DICT = Dictionary(os.path.join(HERE, "dictionary"))


def request(a):
    pkt = packet.AuthPacket(code=packet.AccessRequest, id=a["id"],
                            secret=a["secret"].encode(), dict=DICT)
    pkt["User-Name"] = a["user"]
    pkt["User-Password"] = pkt.PwCrypt(a["password"])
    pkt["NAS-Identifier"] = "pyrad-nas"
    pkt["Calling-Station-Id"] = "203.0.113.9"
    if a.get("state"):
        pkt["State"] = bytes.fromhex(a["state"])
    if a.get("proxy_state"):
        pkt["Proxy-State"] = [bytes.fromhex(p) for p in a["proxy_state"]]
    if a.get("message_authenticator", True):
        pkt.add_message_authenticator()
    return {"packet": pkt.RequestPacket().hex()}


def verify_reply(a):
    raw_request = bytes.fromhex(a["request"])
    raw_reply = bytes.fromhex(a["reply"])
    req = packet.AuthPacket(secret=a["secret"].encode(), dict=DICT,
                            packet=raw_request)
    reply = req.CreateReply(packet=raw_reply)
    ok = req.VerifyReply(reply, raw_reply, enforce_ma=True)
    out = {
        "ok": bool(ok),
        "code": reply.code,
        "id": reply.id,
        "first_attribute": raw_reply[20] if len(raw_reply) > 20 else None,
    }
    if "Reply-Message" in reply:
        out["reply_message"] = "".join(reply["Reply-Message"])
    if "State" in reply:
        out["state"] = reply["State"][0].hex()
    if "Proxy-State" in reply:
        out["proxy_state"] = [p.hex() for p in reply["Proxy-State"]]
    return out


def serve(a):
    raw = bytes.fromhex(a["request"])
    req = packet.AuthPacket(secret=a["secret"].encode(), dict=DICT,
                            packet=raw)
    has_ma = bool(req.message_authenticator)
    ma_ok = has_ma and req.verify_message_authenticator()
    password = req.PwDecrypt(req["User-Password"][0])
    reply = req.CreateReply()  # Message-Authenticator added (BlastRADIUS)
    reply.code = packet.AccessAccept if password == a["accept_password"] \
        else packet.AccessReject
    reply["Reply-Message"] = "from pyrad"
    return {
        "message_authenticator": has_ma,
        "message_authenticator_ok": bool(ma_ok),
        "user": req["User-Name"][0],
        "password": password,
        "reply": reply.ReplyPacket().hex(),
    }


def main():
    a = json.load(sys.stdin)
    cmd = a["cmd"]
    if cmd == "version":
        out = {"version": pyrad.__version__}
    elif cmd == "request":
        out = request(a)
    elif cmd == "verify-reply":
        out = verify_reply(a)
    elif cmd == "serve":
        out = serve(a)
    else:
        raise SystemExit("unknown command " + cmd)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
