"""CPU shares of `mfa radius serve` by part of a request, from
`perf script -F comm,tid,period,ip,sym` on stdin (benches/radius_profile.sh).

Each sample goes to the first rule whose thread kinds include its thread's
(w: a radius-worker thread, m: the main thread, which decides store-only
requests itself when it can) and one of whose strings occurs in
its call stack; "store:" rules only for stacks inside mfa_store. With a
number argument (µs of CPU per request) each share is also given in µs;
-v lists the leaf functions of each part.
"""
import sys, collections
RULES = [
 # (thread kind, category, list of substrings any of which in stack)
 ("wm", "store: waiting for the group COMMIT (Condvar)", ["Condvar>::wait"]),
 ("wm", "store: COMMIT + fsync", ["Writer::finish"]),
 ("wm", "store: waking other threads (futex wake)", ["futex_wake", "wake_up_q", "try_to_wake_up"]),
 ("wm", "store: BEGIN/SAVEPOINT/RELEASE", ["execute_batch", "SqliteTx as mfa_store::db::Tx>::batch"]),
 ("wm", "store: SQLite statements", ["sqlite3", "rusqlite"]),
 ("wm", "store: crypto (HMAC/SHA/AEAD)", ["sha1", "sha2", "hmac", "aes", "chacha", "poly1305", "Hmac"]),
 ("wm", "store: writer lock wait", ["lock_contended"]),
 ("wm", "store: other (Rust, alloc)", ["Store>::authenticate", "mfa_store"]),
 ("w", "worker: decide (reason format etc)", ["Shared::decide", "Shared::authenticate"]),
 ("w", "hand-off: worker takes a job (Mutex+recv)", ["mpmc", "Receiver", "lock_contended", "futex"]),
 ("w", "hand-off: worker sends Done (tokio unbounded, wake)", ["tokio::sync", "chan::Tx", "UnboundedSender", "unpark", "Unpark", "wake"]),
 ("w", "worker: other", [""]),
 ("m", "main: decision log line (tracing fmt + write)", ["tracing_core", "tracing_subscriber", "tracing::"]),
 ("m", "main: protocol decode+verify (Endpoint::handle)", ["Endpoint<D>::handle"]),
 ("m", "main: protocol reply build (Endpoint::respond)", ["Endpoint<D>::respond"]),
 ("m", "main: UDP send", ["send_to", "sendto"]),
 ("m", "main: UDP recv", ["recv_from", "recvfrom"]),
 ("m", "hand-off: main queues job (sync_channel, wake)", ["try_send", "SyncSender", "mpmc"]),
 ("m", "main: tokio park/epoll/timer", ["epoll", "park", "Driver"]),
 ("m", "main: timeout purge (handle_timeout)", ["handle_timeout", "purge"]),
 ("m", "main: other (serve loop, HashMap, alloc)", [""]),
]
counts = collections.Counter(); total = 0
leafs = collections.defaultdict(collections.Counter)
def flush(comm, period, frames):
    global total
    if comm is None: return
    kind = "w" if comm.startswith("radius-worker") else ("m" if comm.startswith("mfa") else "o")
    stack = "\n".join(frames)
    cat = "other thread: " + comm
    instore = "mfa_store" in stack
    for k, c, subs in RULES:
        if kind not in k: continue
        if c.startswith("store:") and not instore: continue
        if any(s in stack for s in subs):
            cat = c; break
    counts[cat] += period; total += period
    if frames: leafs[cat][frames[0]] += period
comm = None; period = 0; frames = []
for line in sys.stdin:
    if not line.strip():
        flush(comm, period, frames); comm = None; frames = []; continue
    if not line.startswith((" ", "\t")):
        parts = line.split()
        comm = " ".join(parts[:-2]); period = int(parts[-1]); frames = []
    else:
        f = line.strip().split(None, 1)
        frames.append(f[1] if len(f) > 1 else f[0])
flush(comm, period, frames)
cpu = float(sys.argv[1]) if len(sys.argv) > 1 else None
print(f"{'category':55s} {'share':>7s}" + ("  µs/req" if cpu else ""))
for c, v in sorted(counts.items(), key=lambda x: -x[1]):
    s = v / total
    print(f"{c:55s} {100*s:6.1f}%" + (f"  {s*cpu:6.1f}" if cpu else ""))
if "-v" in sys.argv:
    for c, v in sorted(counts.items(), key=lambda x: -x[1]):
        print("==", c)
        for l, n in leafs[c].most_common(8): print(f"   {100*n/total:5.1f}% {l[:110]}")
