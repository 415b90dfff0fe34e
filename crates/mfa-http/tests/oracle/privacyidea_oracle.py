"""privacyIDEA 3.x as the oracle for mfa-http (run by tests/oracle.rs).

Starts privacyIDEA's Flask app in process ("testing" config: SQLite in
memory), a flat-file user resolver with alice and dave, alice's TOTP token
with the seed the Rust test uses, then sends the requests the Rust test
sends to mfa-http and prints every answer as JSON: {"now": t, "answers":
{name: {"status": s, "json": body-or-null}}}.
"""
import atexit
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import privacyidea

# privacyIDEA writes privacyidea.log into the working directory: keep it
# out of the source tree.
_workdir = tempfile.mkdtemp(prefix="privacyidea-oracle-")
os.chdir(_workdir)
atexit.register(shutil.rmtree, _workdir, True)

# The "testing" config reads its keys from tests/testdata next to the
# package; a PyPI install has no such directory: make throw-away ones.
testdata = os.path.join(os.path.dirname(os.path.dirname(privacyidea.__file__)), "tests", "testdata")
os.makedirs(testdata, exist_ok=True)
if not os.path.exists(os.path.join(testdata, "enckey")):
    with open(os.path.join(testdata, "enckey"), "wb") as f:
        f.write(os.urandom(96))
if not os.path.exists(os.path.join(testdata, "private.pem")):
    subprocess.run(["openssl", "genrsa", "-out", os.path.join(testdata, "private.pem"), "2048"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", os.path.join(testdata, "private.pem"), "-pubout",
                    "-out", os.path.join(testdata, "public.pem")], check=True, capture_output=True)

from privacyidea.app import create_app  # noqa: E402
from privacyidea.lib.realm import set_default_realm, set_realm  # noqa: E402
from privacyidea.lib.resolver import save_resolver  # noqa: E402
from privacyidea.lib.token import init_token  # noqa: E402
from privacyidea.lib.user import User  # noqa: E402
from privacyidea.lib.policy import SCOPE, set_policy  # noqa: E402
from privacyidea.models import db  # noqa: E402


def totp(key, t, step=30, digits=6):
    h = hmac.new(key, struct.pack(">Q", t // step), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%0*d" % (digits, (struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 10 ** digits)


def main():
    key = b"12345678901234567890"
    users = tempfile.NamedTemporaryFile("w", suffix=".passwd", delete=False)
    users.write("alice:x:1000:1000:Alice:/home/alice:/bin/sh\ndave:x:1003:1003:Dave:/home/dave:/bin/sh\n"
                "carl:x:1004:1004:Carl:/home/carl:/bin/sh\n")
    users.close()
    app = create_app("testing", "", silent=True)
    answers = {}
    with app.app_context():
        db.create_all()
        save_resolver({"resolver": "reso1", "type": "passwdresolver", "fileName": users.name})
        set_realm("realm1", [{"name": "reso1"}])
        set_default_realm("realm1")
        init_token({"serial": "T-ALICE", "type": "totp", "otpkey": key.hex(), "otplen": 6, "pin": ""},
                   user=User("alice", "realm1"))
        # carl: the same seed, a PIN, and challenge-response allowed for TOTP,
        # so that privacyIDEA answers a PIN alone with a challenge (mfa-kit
        # does for an empty pass).
        init_token({"serial": "T-CARL", "type": "totp", "otpkey": key.hex(), "otplen": 6, "pin": "1234"},
                   user=User("carl", "realm1"))
        set_policy("chalresp", scope=SCOPE.AUTH, action="challenge_response=totp")
        client = app.test_client()
        now = int(time.time())
        code = totp(key, now)
        wrong = "000000" if code != "000000" else "111111"
        last_tx = ""
        requests = json.loads(sys.argv[1]) if len(sys.argv) > 1 else None
        for name, path, data in requests:
            data = {k: v.replace("{code}", code).replace("{wrong}", wrong)
                    .replace("{transaction_id}", last_tx) for k, v in data.items()}
            try:
                r = client.post(path, data=data)
                body = r.get_json(silent=True)
                answers[name] = {"status": r.status_code, "json": body}
                if body and (body.get("detail") or {}).get("transaction_id"):
                    last_tx = body["detail"]["transaction_id"]
            except Exception as e:  # privacyIDEA's own crash, reported as 500
                answers[name] = {"status": 500, "json": None, "exception": repr(e)}
    os.unlink(users.name)
    print(json.dumps({"now": now, "answers": answers}))


main()
