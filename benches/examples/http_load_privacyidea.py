"""privacyIDEA 3.x for benches/examples/http_load.rs: argv = WORKDIR PORT USERS.

A file SQLite database in WORKDIR, a flat-file resolver with users u0..,
one HOTP token per user (seed = http_load.rs's token_secret(i), no PIN),
then privacyIDEA's WSGI app served on 127.0.0.1:PORT by gunicorn (2
workers) when the venv has it, else by Werkzeug's threaded server with
HTTP/1.1 keep-alive. Prints "server: NAME" and then "ready" on stdout.
"""
import os
import shutil
import subprocess
import sys

workdir, port, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.chdir(workdir)
subprocess.run(["openssl", "genrsa", "-out", "private.pem", "2048"], check=True, capture_output=True)
subprocess.run(["openssl", "rsa", "-in", "private.pem", "-pubout", "-out", "public.pem"],
               check=True, capture_output=True)
with open("enckey", "wb") as f:
    f.write(os.urandom(96))
cfg = os.path.join(workdir, "pi.cfg")
with open(cfg, "w") as f:
    f.write(f"""SQLALCHEMY_DATABASE_URI = 'sqlite:///{workdir}/pi.sqlite'
SECRET_KEY = '{os.urandom(16).hex()}'
PI_PEPPER = '{os.urandom(16).hex()}'
PI_ENCFILE = '{workdir}/enckey'
PI_AUDIT_KEY_PRIVATE = '{workdir}/private.pem'
PI_AUDIT_KEY_PUBLIC = '{workdir}/public.pem'
PI_LOGFILE = '{workdir}/privacyidea.log'
PI_LOGLEVEL = 30
""")
with open("users.passwd", "w") as f:
    for i in range(users):
        f.write(f"u{i}:x:{1000 + i}:{1000 + i}:U{i}:/home/u{i}:/bin/sh\n")

from privacyidea.app import create_app  # noqa: E402
from privacyidea.lib.realm import set_default_realm, set_realm  # noqa: E402
from privacyidea.lib.resolver import save_resolver  # noqa: E402
from privacyidea.lib.token import init_token  # noqa: E402
from privacyidea.lib.user import User  # noqa: E402
from privacyidea.models import db  # noqa: E402

app = create_app("production", cfg, silent=True)
with app.app_context():
    db.create_all()
    save_resolver({"resolver": "reso1", "type": "passwdresolver",
                   "fileName": os.path.join(workdir, "users.passwd")})
    set_realm("realm1", [{"name": "reso1"}])
    set_default_realm("realm1")
    for i in range(users):
        key = bytearray(b"12345678901234567890")
        key[:8] = i.to_bytes(8, "big")
        init_token({"serial": f"H-{i}", "type": "hotp", "otpkey": bytes(key).hex(),
                    "otplen": 6, "pin": ""}, user=User(f"u{i}", "realm1"))

gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable))
if gunicorn:
    with open("wsgi.py", "w") as f:
        f.write(f"from privacyidea.app import create_app\napplication = create_app('production', {cfg!r}, silent=True)\n")
    print("server: gunicorn, 2 workers", flush=True)
    os.execv(gunicorn, [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}",
                        "--chdir", workdir, "--keep-alive", "30", "wsgi:application"])
from werkzeug.serving import WSGIRequestHandler, run_simple  # noqa: E402
WSGIRequestHandler.protocol_version = "HTTP/1.1"
print("server: werkzeug (threaded, HTTP/1.1 keep-alive; gunicorn not in the venv)", flush=True)
print("ready", flush=True)
run_simple("127.0.0.1", port, app, threaded=True)
