#!/usr/bin/env python3
"""Integration tests of a three-node fundflowd cluster on loopback (issue 16): failures that must
not lose an acknowledged write.

Usage: test_cluster.py BIN_DIR SCENARIO, SCENARIO one of
  basic        a leader is elected; a write on it appears on both followers with the same head
               sequence and hash; a write on a follower is refused not_leader naming the leader,
               and the CLI sent to a follower follows it
  kill         the leader is killed with SIGKILL under load from several writers (unique
               idempotency keys, every acknowledged key recorded), 20 rounds (about 40 s here;
               FUNDFLOW_KILL_ROUNDS=N runs N), the killed node restarted each round;
               after each round every acknowledged key is on every node, the heads agree and
               VerifyLedger passes on each; at the end `fundflow-admin verify` passes on each
               stopped node; prints the time to a new leader accepting writes
  partition    a follower stopped with SIGSTOP while writes go on, then SIGCONT: it catches up to
               the same events, byte for byte
  stale_leader the leader stopped with SIGSTOP under load and resumed after a new one took
               over: nothing it sealed on its stale head is acknowledged, nothing is lost
  minority     two nodes killed: writes refused unavailable, reads on the survivor answer, and
               nothing acknowledged is lost once they return
  snapshot     with a low snapshot threshold, a node down during many writes catches up by a
               snapshot (its log says so) and its positions equal the others'
  read_your_writes  a write on the leader, then a read on a follower carrying its sequence in
               Fundflow-Min-Sequence, sees it, every time
  stream       `fundflow events --follow` from 0 on a follower, across writes and a leader
               failover, prints every event once, in order, with a chain that verifies
  membership   leadership transferred to a named follower; a follower removed; a fresh node
               (join = yes) added as a voter catches up while writes go on
  start_errors a node whose Raft address is taken, and one whose ledger applied another
               cluster's log (its Raft directory gone), are refused at start, saying why
  recover      two nodes lost for good: the survivor started once with recover = yes leads
               alone with every acknowledged write, then takes a new node
  restore_backup  every node lost: one backup restored into three fresh data directories
               (refused until `fundflow-admin rebuild` clears the old log's applied index)
               forms a new cluster that takes writes and agrees
  stop_unreachable  rounds of: the leader stopped (SIGTERM) with both followers killed and a
               write pending in Raft; then, once the followers have elected a new leader, stopped
               again as it rejoins and truncates its uncommitted entries; every stop exits 0
               (FUNDFLOW_STOP_ROUNDS=N, default 10)
Needs python3. Exits 0 when the scenario passes, 1 (naming what failed) otherwise.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_harness import (POLL_SECONDS, Cluster, Events, Failure, Node,  # noqa: E402
                             chain_check, fail, free_ports, twirp)

FUNDER, RECIPIENT = "XBN", "QBN"


def allocation(key, pence=1):
    return {"idempotency_key": key, "effective_date": 20240601,
            "event": {"allocation_issued": {"funder_code": FUNDER, "recipient_code": RECIPIENT,
                                            "stream": "CORE_SERVICES", "financial_year": 2024,
                                            "amount_pence": str(pence)}}}


def setup_ledger(cluster):
    """The organisations and limit the writes need, through fundflow-bench's own idempotent
    setup (one 1p request), sent to the leader until it is ready for writes."""
    for _ in range(50):
        leader = cluster.leader()
        done = subprocess.run([cluster.bin("fundflow-bench"), "--server", leader.url,
                               "--connections", "1", "--batch-sizes", "1", "--requests-max", "1",
                               "--seconds", "1"], capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return leader
        time.sleep(POLL_SECONDS * 5)
    fail("fundflow-bench's setup never succeeded: %s %s" % (done.stdout, done.stderr))


class Writers:
    """Threads writing 1p allocations under unique keys, each retried with the same key until
    acknowledged; every acknowledged key is recorded with its sequence and the time."""

    def __init__(self, cluster, count=4, prefix="w"):
        self.cluster = cluster
        self.lock = threading.Lock()
        self.acked = {}     # key -> sequence
        self.ack_times = []  # (time, url) of each acknowledgement
        self.target = cluster.nodes[0].url
        self.paused = threading.Event()
        self.idle = [threading.Event() for _ in range(count)]
        self.stopping = threading.Event()
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(i, prefix), daemon=True)
                        for i in range(count)]
        for thread in self.threads:
            thread.start()

    def next_target(self, current):
        urls = [node.url for node in self.cluster.nodes]
        return urls[(urls.index(current) + 1) % len(urls)] if current in urls else urls[0]

    def send(self, key):
        """True once key is acknowledged; False if the writers stop first."""
        target = self.target
        while not self.stopping.is_set():
            status, body, _ = twirp(target, "SubmitCommands", {"commands": [allocation(key)]},
                                    timeout=5)
            result = body["results"][0] if status == 200 else {}
            if result.get("code") in ("not_leader", "replication_unknown"):
                status = 503  # a group refused as a whole: retried with the same key
            if status == 200:
                if result["code"] != "ok":
                    self.errors.append("%s refused: %s" % (key, result))
                    return False
                with self.lock:
                    self.acked[key] = int(result["sequence"])
                    self.ack_times.append((time.monotonic(), target))
                    self.target = target
                return True
            meta = (body or {}).get("meta", {}) if isinstance(body, dict) else {}
            if meta.get("leader") and meta.get("leader") != target:
                target = meta["leader"]
            else:
                target = self.next_target(target)
                time.sleep(POLL_SECONDS)  # a back-off between tries, not a wait for an outcome
        return False

    def run(self, index, prefix):
        number = 0
        while not self.stopping.is_set():
            if self.paused.is_set():
                self.idle[index].set()
                self.paused_wait()
                continue
            self.idle[index].clear()
            key = "%s-%d-%d" % (prefix, index, number)
            if self.send(key):
                number += 1

    def paused_wait(self):
        while self.paused.is_set() and not self.stopping.is_set():
            time.sleep(POLL_SECONDS)

    def pause(self):
        self.paused.set()
        for _ in range(3000):
            if all(event.is_set() for event in self.idle):
                return
            time.sleep(POLL_SECONDS)
        fail("the writers never paused (a write never finished)")

    def resume(self):
        for event in self.idle:
            event.clear()
        self.paused.clear()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def count(self):
        with self.lock:
            return len(self.acked)

    def wait_acks(self, more, polls=3000):
        target = self.count() + more
        for _ in range(polls):
            if self.count() >= target:
                return
            if self.errors:
                fail("; ".join(self.errors[:5]))
            time.sleep(POLL_SECONDS)
        fail("the writers did not reach %d acknowledged writes (have %d)" % (target, self.count()))

    def first_ack_after(self, moment, killed_url, polls=3000):
        """When the first write after moment was acknowledged by a node other than the killed
        one (whose last replies may still arrive after the kill)."""
        for _ in range(polls):
            with self.lock:
                later = [t for t, url in self.ack_times if t > moment and url != killed_url]
            if later:
                return min(later)
            time.sleep(POLL_SECONDS)
        fail("no write was acknowledged after the leader was killed")


class NodeKeys:
    """Each node's events read so far, so that every round reads only the new ones."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.keys = {node.id: {} for node in cluster.nodes}
        self.hash = {node.id: None for node in cluster.nodes}
        self.after = {node.id: 0 for node in cluster.nodes}

    def check(self, acked):
        for node in self.cluster.nodes:
            events = Events.read(node, self.after[node.id])
            self.hash[node.id] = chain_check(events, self.hash[node.id])
            for event in events:
                self.keys[node.id][event.get("idempotency_key", "")] = int(event["sequence"])
            if events:
                self.after[node.id] = int(events[-1]["sequence"])
            missing = [key for key in acked if self.keys[node.id].get(key) != acked[key]]
            if missing:
                fail("node %d lacks %d acknowledged keys (or has them at another sequence), "
                     "such as %s" % (node.id, len(missing), missing[:3]))


def verify_live(node):
    status, body, _ = twirp(node.url, "VerifyLedger", {}, timeout=120)
    if status != 200 or not body.get("ok"):
        fail("VerifyLedger on node %d: %s %s" % (node.id, status, body))


def verify_stopped(cluster):
    """Stops every node cleanly and runs fundflow-admin verify on each data directory; the three
    print the same head."""
    cluster.stop_all(signal.SIGTERM)
    heads = set()
    for node in cluster.nodes:
        done = subprocess.run([cluster.bin("fundflow-admin"), "verify", "--data-dir",
                               node.data_dir], capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not done.stdout.startswith("OK: "):
            fail("fundflow-admin verify on node %d: %s %s" % (node.id, done.stdout, done.stderr))
        first_line, _, rest = done.stdout.partition("\n")
        heads.add(first_line.split(", head ", 1)[1].strip())
        signed = re.search(r"stored signed head of (\d+) events", rest)
        if signed and signed.group(1) != first_line.split(", head ")[1].split(",")[0]:
            fail("node %d's own signed head is behind its log: %s" % (node.id, done.stdout))
    if len(heads) != 1:
        fail("the stopped nodes' heads differ: %s" % heads)
    print("fundflow-admin verify: OK on all three, head %s" % heads.pop())


def scenario_basic(cluster):
    leader = setup_ledger(cluster)
    status, body, _ = twirp(leader.url, "SubmitCommands", {"commands": [allocation("basic-1")]})
    if status != 200 or body["results"][0]["code"] != "ok":
        fail("a write on the leader: %s %s" % (status, body))
    head = cluster.converged()
    print("three nodes agree on head %d %s" % head)
    follower = next(node for node in cluster.nodes if node is not leader)
    status, body, _ = twirp(follower.url, "SubmitCommands", {"commands": [allocation("basic-2")]})
    if status != 503 or body["meta"].get("error") != "not_leader" or \
            body["meta"].get("leader") != leader.url:
        fail("a write on a follower was not refused not_leader naming %s: %s %s" %
             (leader.url, status, body))
    done = subprocess.run([cluster.bin("fundflow"), "--server", follower.url, "allocate",
                           "--from", FUNDER, "--to", RECIPIENT, "--stream", "core_services",
                           "--year", "2024/25", "--date", "2024-06-02", "--amount", "0.01"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        fail("the CLI sent to a follower did not follow the leader: %d %s %s" %
             (done.returncode, done.stdout, done.stderr))
    after = cluster.converged()
    if after[0] != head[0] + 1:
        fail("the CLI's write is not the one new event: %s then %s" % (head, after))
    # The leader knows every node's role: itself, and two followers it hears from.
    done = subprocess.run([cluster.bin("fundflow"), "--server", leader.url, "cluster",
                           "status", "--format", "csv"], capture_output=True, text=True,
                          timeout=60)
    roles = sorted(line.split(",")[1] for line in done.stdout.splitlines()[1:]
                   if line and line[0].isdigit())
    if done.returncode != 0 or roles != ["follower", "follower", "leader"]:
        fail("fundflow cluster status on the leader: %d %s %s" %
             (done.returncode, done.stdout, done.stderr))
    verify_stopped(cluster)


def scenario_kill(cluster):
    rounds = int(os.environ.get("FUNDFLOW_KILL_ROUNDS", "20"))
    setup_ledger(cluster)
    writers = Writers(cluster)
    keys = NodeKeys(cluster)
    failovers = []
    try:
        for number in range(1, rounds + 1):
            writers.wait_acks(random.randint(5, 60))
            leader = cluster.leader()
            killed_at = time.monotonic()
            leader.kill(signal.SIGKILL)
            first = writers.first_ack_after(killed_at, leader.url)
            failovers.append(first - killed_at)
            cluster.restart(leader)
            writers.wait_acks(5)
            writers.pause()
            head = cluster.converged()
            with writers.lock:
                acked = dict(writers.acked)
            keys.check(acked)
            for node in cluster.nodes:
                verify_live(node)
            print("round %d: killed node %d, writes resumed after %.3f s; %d acknowledged, all "
                  "on every node; head %d" % (number, leader.id, failovers[-1], len(acked),
                                               head[0]), flush=True)
            writers.resume()
    finally:
        writers.stop()
    failovers.sort()
    print("failover (kill -9 to the next acknowledged write), %d rounds: min %.3f s, median "
          "%.3f s, max %.3f s" % (len(failovers), failovers[0], failovers[len(failovers) // 2],
                                  failovers[-1]))
    cluster.converged()
    keys.check(writers.acked)
    verify_stopped(cluster)


def scenario_partition(cluster):
    leader = setup_ledger(cluster)
    writers = Writers(cluster)
    try:
        writers.wait_acks(20)
        follower = next(node for node in cluster.nodes if node is not leader)
        follower.process.send_signal(signal.SIGSTOP)
        follower.stopped_signal = signal.SIGSTOP
        writers.wait_acks(200)
        follower.process.send_signal(signal.SIGCONT)
        follower.stopped_signal = None
        writers.wait_acks(20)
        writers.pause()
    finally:
        writers.stop()
    head = cluster.converged()
    reference = Events.read(leader)
    if Events.read(follower) != reference:
        fail("the healed follower's events differ from the leader's")
    keys = NodeKeys(cluster)
    keys.check(writers.acked)
    print("the follower stopped during %d writes caught up to the same %d events" %
          (len(writers.acked), head[0]))
    verify_stopped(cluster)


def scenario_stale_leader(cluster):
    """The leader stopped with SIGSTOP mid-load: the others elect a new one and go on; when the
    old one resumes, still believing it leads for a moment, whatever it sealed on its stale head
    is never acknowledged as written, and every acknowledged write is on every node."""
    setup_ledger(cluster)
    writers = Writers(cluster)
    try:
        writers.wait_acks(30)
        old = cluster.leader()
        stopped_at = time.monotonic()
        old.process.send_signal(signal.SIGSTOP)
        old.stopped_signal = signal.SIGSTOP
        writers.first_ack_after(stopped_at, old.url)
        writers.wait_acks(50)
        old.process.send_signal(signal.SIGCONT)
        old.stopped_signal = None
        writers.wait_acks(50)
        writers.pause()
    finally:
        writers.stop()
    head = cluster.converged()
    NodeKeys(cluster).check(writers.acked)
    print("node %d stopped while leading and resumed: %d acknowledged writes on every node, "
          "head %d" % (old.id, len(writers.acked), head[0]))
    verify_stopped(cluster)


def scenario_minority(cluster):
    leader = setup_ledger(cluster)
    writers = write_some(cluster, 20, count=2)
    others = [node for node in cluster.nodes if node is not leader]
    for node in others:
        node.kill(signal.SIGKILL)
    refused = None
    for _ in range(500):
        status, body, _ = twirp(leader.url, "SubmitCommands",
                                {"commands": [allocation("minority-1")]}, timeout=10)
        if status == 200:
            fail("a write was acknowledged with two of three nodes down: %s" % body)
        if status == 503 and body.get("code") == "unavailable":
            refused = body
            break
        time.sleep(POLL_SECONDS)
    if refused is None:
        fail("a write on the survivor was never refused unavailable")
    status, body, _ = twirp(leader.url, "GetPosition", {"org_code": RECIPIENT,
                                                        "stream": "CORE_SERVICES",
                                                        "financial_year": 2024})
    if status != 200:
        fail("a read on the survivor: %s %s" % (status, body))
    print("with two nodes down: writes refused (%s), reads answered" %
          refused["meta"].get("error"))
    for node in others:
        cluster.restart(node)
    cluster.leader()
    cluster.converged()
    NodeKeys(cluster).check(writers.acked)
    verify_stopped(cluster)


def stop_cleanly(node, what):
    """SIGTERM to node, which must exit 0 (Node.kill checks that, and that no sanitizer spoke)
    having said it stopped cleanly."""
    node.kill(signal.SIGTERM)
    if "stopped cleanly" not in node.stderr_text():
        fail("node %d, stopped %s, did not say it stopped cleanly:\n%s" %
             (node.id, what, node.stderr_text()))


def uncommitted_entry(node, polls=500):
    """Polls node's status until its log holds an entry not yet committed (a write in flight in
    Raft); True then, False if it stopped leading first (its pending write already answered)."""
    for _ in range(polls):
        body = node.status() or {}
        if body.get("role") != "CLUSTER_ROLE_LEADER":
            return False
        if int(body.get("last_index", 0)) > int(body.get("commit_index", 0)):
            return True
        time.sleep(POLL_SECONDS)
    return False


def scenario_stop_unreachable(cluster):
    """Each round: both followers killed, a write sent to the leader that can no longer commit,
    and the leader stopped with SIGTERM while that write waits in Raft and its connections to
    the dead peers are retried; the followers restarted (they elect a leader of a new term), and
    the old leader restarted and at once stopped with SIGTERM again, while it replaces its
    uncommitted entries with the new leader's (Raft truncates its log on disk). Every stop must
    be clean (exit 0); FUNDFLOW_STOP_ROUNDS=N runs N rounds (default 10)."""
    setup_ledger(cluster)
    rounds = int(os.environ.get("FUNDFLOW_STOP_ROUNDS", "10"))
    pending_rounds = 0
    for number in range(rounds):
        leader = cluster.leader()
        followers = [node for node in cluster.nodes if node is not leader]
        for node in followers:
            node.kill(signal.SIGKILL)
        sender = threading.Thread(target=twirp, args=(leader.url, "SubmitCommands",
                                                      {"commands": [allocation("stop-%d" %
                                                                               number)]}, 30),
                                  daemon=True)
        sender.start()
        if uncommitted_entry(leader):
            pending_rounds += 1
        stop_cleanly(leader, "with a write pending and both peers down")
        sender.join(timeout=60)
        for node in followers:
            cluster.restart(node)
        cluster.leader(among=followers)
        cluster.restart(leader)
        status_poll(leader, lambda body: body["role"] == "CLUSTER_ROLE_FOLLOWER" and
                    int(body.get("leader_id", 0)) != 0, "a leader")
        stop_cleanly(leader, "as it rejoined with uncommitted entries")
        cluster.restart(leader)
    if pending_rounds == 0:
        fail("no round stopped the leader with a write pending in Raft")
    cluster.leader()
    cluster.converged()
    print("%d rounds: a leader stopped cleanly with both peers down (%d with a write pending in "
          "Raft), and again as it rejoined" % (rounds, pending_rounds))
    verify_stopped(cluster)


def scenario_snapshot(cluster):
    leader = setup_ledger(cluster)
    follower = next(node for node in cluster.nodes if node is not leader)
    follower.kill(signal.SIGTERM)
    writers = write_some(cluster, 300)
    started = time.monotonic()
    cluster.restart(follower)
    head = cluster.converged()
    elapsed = time.monotonic() - started
    # The line goes through the node's log sink, whose thread writes it out a moment later.
    for _ in range(3000):
        if "snapshot restored" in follower.stderr_text():
            break
        time.sleep(POLL_SECONDS)
    if "snapshot restored" not in follower.stderr_text():
        fail("the node did not catch up by a snapshot; its stderr:\n" + follower.stderr_text())
    positions = set()
    for node in cluster.nodes:
        status, body, _ = twirp(node.url, "GetPosition", {"org_code": RECIPIENT,
                                                          "stream": "CORE_SERVICES",
                                                          "financial_year": 2024})
        if status != 200:
            fail("GetPosition on node %d: %s" % (node.id, body))
        positions.add(json.dumps(body, sort_keys=True))
    if len(positions) != 1:
        fail("the positions differ between nodes: %s" % positions)
    NodeKeys(cluster).check(writers.acked)
    print("a node down for %d writes caught up by snapshot to head %d in %.3f s" %
          (len(writers.acked), head[0], elapsed))
    verify_stopped(cluster)


def scenario_read_your_writes(cluster):
    leader = setup_ledger(cluster)
    followers = [node for node in cluster.nodes if node is not leader]
    for number in range(50):
        status, body, _ = twirp(leader.url, "SubmitCommands",
                                {"commands": [allocation("ryw-%d" % number)]})
        if status != 200 or body["results"][0]["code"] != "ok":
            fail("write %d: %s" % (number, body))
        sequence = int(body["results"][0]["sequence"])
        follower = followers[number % 2]
        status, event, headers = twirp(follower.url, "GetEvent", {"sequence": sequence},
                                       headers={"Fundflow-Min-Sequence": str(sequence)})
        if status != 200 or event.get("idempotency_key", event.get("event", {}).get(
                "idempotency_key")) != "ryw-%d" % number:
            fail("node %d did not show event %d to a read carrying it: %s %s" %
                 (follower.id, sequence, status, event))
        reflected = int({k.lower(): v for k, v in headers.items()}.get("fundflow-sequence", 0))
        if reflected < sequence:
            fail("the reply reflects sequence %d, before %d" % (reflected, sequence))
    print("50 writes on the leader, each read back on a follower at once")


def follow_output_wait(path, count, process):
    for _ in range(3000):
        with open(path) as output:
            lines = [line for line in output.read().split("\n") if line]
        if len(lines) >= count:
            return lines
        if process.poll() is not None:
            fail("fundflow events --follow exited %d" % process.returncode)
        time.sleep(POLL_SECONDS)
    fail("fundflow events --follow printed %d of %d events" % (len(lines), count))


def scenario_stream(cluster):
    leader = setup_ledger(cluster)
    follower = next(node for node in cluster.nodes if node is not leader)
    output_path = os.path.join(cluster.scratch, "follow.out")
    with open(output_path, "w") as output:
        consumer = subprocess.Popen([cluster.bin("fundflow"), "--server", follower.url, "events",
                                     "--follow", "--after", "0", "--format", "json"],
                                    stdout=output, stderr=subprocess.PIPE)
    writers = Writers(cluster)
    try:
        writers.wait_acks(30)
        leader.kill(signal.SIGKILL)
        writers.wait_acks(30)
        cluster.restart(leader)
        writers.wait_acks(10)
        writers.pause()
    finally:
        writers.stop()
    head = cluster.converged()
    lines = follow_output_wait(output_path, head[0], consumer)
    consumer.send_signal(signal.SIGTERM)
    consumer.wait(timeout=30)
    events = [json.loads(line) for line in lines]
    if [int(event["sequence"]) for event in events] != list(range(1, head[0] + 1)):
        fail("the follower printed sequences other than 1..%d once each" % head[0])
    chain_check(events)
    if chain_check(events) != head[1]:
        fail("the followed chain ends at another hash than the head's")
    print("fundflow events --follow printed all %d events once, in order, chain verified, "
          "across a failover" % head[0])


def status_poll(node, check, what, polls=1500):
    for _ in range(polls):
        body = node.status()
        if body and check(body):
            return body
        time.sleep(POLL_SECONDS)
    fail("node %d never showed %s: %s" % (node.id, what, node.status()))


def admin_call(leader, method, body):
    status, reply, _ = twirp(leader.url, method, body, timeout=60)
    if status != 200:
        fail("%s %s on node %d: %s %s" % (method, body, leader.id, status, reply))
    return reply


NOT_LEADER_ATTEMPTS = 20


def admin_call_on_leader(cluster, method, body_for):
    """Calls method on the node that leads, with the body body_for(leader) gives; returns
    (leader, body, reply). A node may say it leads and yet refuse not_leader: after a transfer the
    old leader can report its role before it hears of the newer term, and on a loaded machine an
    election can move leadership between the poll and the call. Such a refusal changes nothing,
    so the call is made again on the leader polled afresh, at most NOT_LEADER_ATTEMPTS times."""
    for _ in range(NOT_LEADER_ATTEMPTS):
        leader = cluster.leader()
        body = body_for(leader)
        status, reply, _ = twirp(leader.url, method, body, timeout=60)
        if status == 200:
            return leader, body, reply
        if status != 503 or (reply or {}).get("meta", {}).get("error") != "not_leader":
            fail("%s %s on node %d: %s %s" % (method, body, leader.id, status, reply))
        time.sleep(POLL_SECONDS)
    fail("%s was refused not_leader %d times" % (method, NOT_LEADER_ATTEMPTS))


def node_join(cluster, node_id):
    """Starts a fresh node (join = yes) on free ports and has the leader add it as a voter;
    returns the leader that added it."""
    ports = free_ports(2)
    joiner = Node(cluster, node_id, ports[0], ports[1])
    cluster.nodes.append(joiner)
    joiner.start("join = yes\n")
    if not joiner.wait_listening():
        fail("the joining node exited: " + joiner.stderr_text())
    body = {"id": node_id, "raft_address": joiner.raft_address, "url": joiner.url}
    leader, _, _ = admin_call_on_leader(cluster, "AddClusterNode", lambda leader: body)
    return leader


def write_some(cluster, acks, count=4, prefix="w"):
    """Writers run until acks writes are acknowledged, then stop; returns them (their acked)."""
    writers = Writers(cluster, count=count, prefix=prefix)
    try:
        writers.wait_acks(acks)
        writers.pause()
    finally:
        writers.stop()
    return writers


def scenario_membership(cluster):
    leader = setup_ledger(cluster)
    target = next(node for node in cluster.nodes if node is not leader)
    admin_call(leader, "TransferLeadership", {"id": target.id})
    status_poll(target, lambda body: body["role"] == "CLUSTER_ROLE_LEADER", "leadership")
    print("leadership moved from node %d to node %d" % (leader.id, target.id))
    leader, body, _ = admin_call_on_leader(cluster, "RemoveClusterNode", lambda leader: {
        "id": next(node for node in cluster.nodes if node is not leader).id})
    removed = next(node for node in cluster.nodes if node.id == body["id"])
    status_poll(leader, lambda body: len(body["nodes"]) == 2, "two nodes")
    removed.kill(signal.SIGTERM)
    cluster.nodes.remove(removed)
    writers = Writers(cluster, count=2)
    try:
        writers.wait_acks(30)
        leader = node_join(cluster, 4)
        status_poll(leader, lambda body: len(body["nodes"]) == 3 and all(
            node["voter"] for node in body["nodes"]), "three voters")
        writers.wait_acks(30)
        writers.pause()
    finally:
        writers.stop()
    head = cluster.converged()
    NodeKeys(cluster).check(writers.acked)
    print("node %d removed, node 4 added as a voter; all three at head %d" % (removed.id,
                                                                             head[0]))
    verify_stopped(cluster)


def start_refused(node, expected):
    node.start()
    if node.wait_listening():
        fail("node %d started; expected a refusal saying %r" % (node.id, expected))
    code = node.process.wait()
    node.process = None
    if code != 1 or expected not in node.stderr_text():
        fail("node %d exited %d without saying %r:\n%s" % (node.id, code, expected,
                                                             node.stderr_text()))


def scenario_start_errors(cluster):
    leader = setup_ledger(cluster)
    cluster.converged()
    node = next(other for other in cluster.nodes if other is not leader)
    node.kill(signal.SIGTERM)
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", int(node.raft_address.rsplit(":", 1)[1])))
    taken.listen()
    try:
        start_refused(node, "cannot listen for Raft on %s: Address already in use" %
                      node.raft_address)
    finally:
        taken.close()
    shutil.rmtree(os.path.join(node.data_dir, "raft"))
    start_refused(node, "applied Raft index")
    print("a taken Raft address and a ledger of another cluster's log are refused at start, "
          "saying so")


def scenario_recover(cluster):
    """Two of three nodes lost for good: the survivor, started once with recover = yes and a
    configuration of itself, leads alone, keeps every acknowledged write, and takes a new
    node."""
    setup_ledger(cluster)
    writers = write_some(cluster, 40, count=2)
    survivor = cluster.leader()
    for node in [node for node in cluster.nodes if node is not survivor]:
        node.kill(signal.SIGKILL)
        shutil.rmtree(node.data_dir)
    survivor.kill(signal.SIGTERM)
    cluster.nodes = [survivor]
    survivor.start("recover = yes\n")
    if not survivor.wait_listening():
        fail("the recovering node exited: " + survivor.stderr_text())
    if "recovered with the configuration file's nodes" not in survivor.stderr_text():
        fail("the survivor did not recover:\n" + survivor.stderr_text())
    NodeKeys(cluster).check(writers.acked)
    more = Writers(cluster, count=2, prefix="recovered")
    try:
        more.wait_acks(20)
        node_join(cluster, 4)
        more.wait_acks(20)
        more.pause()
    finally:
        more.stop()
    head = cluster.converged()
    NodeKeys(cluster).check({**writers.acked, **more.acked})
    print("the survivor recovered alone with every acknowledged write, and took node 4; head %d"
          % head[0])


def admin_tool(cluster, *arguments):
    done = subprocess.run([cluster.bin("fundflow-admin")] + list(arguments),
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        fail("fundflow-admin %s: %s %s" % (" ".join(arguments), done.stdout, done.stderr))
    return done.stdout


def scenario_restore_backup(cluster):
    """Every node lost but a backup: the backup restored into three fresh data directories,
    rebuilt (which clears the applied index of the old cluster's log), then a new cluster."""
    leader = setup_ledger(cluster)
    writers = write_some(cluster, 40, count=2)
    cluster.converged()
    backup = os.path.join(cluster.scratch, "ledger.backup")
    admin_tool(cluster, "backup", "--data-dir", leader.data_dir, backup)
    cluster.stop_all(signal.SIGKILL)
    fresh = Cluster(cluster.bin_dir, "restored")
    try:
        fresh.nodes = []
        ports = free_ports(6)
        fresh.nodes = [Node(fresh, i + 1, ports[2 * i], ports[2 * i + 1]) for i in range(3)]
        for node in fresh.nodes:
            admin_tool(fresh, "restore", backup, node.data_dir)
            start_refused(node, "applied Raft index")
            admin_tool(fresh, "rebuild", "--data-dir", node.data_dir)
        for node in fresh.nodes:
            node.start()
        for node in fresh.nodes:
            if not node.wait_listening():
                fail("a restored node exited: " + node.stderr_text())
        writers = write_some(fresh, 40, count=2, prefix="after")
        head = fresh.converged()
        NodeKeys(fresh).check(writers.acked)
        print("three nodes restored from one backup formed a new cluster; head %d" % head[0])
        verify_stopped(fresh)
    finally:
        fresh.close()


SCENARIOS = {
    "basic": scenario_basic, "kill": scenario_kill, "partition": scenario_partition,
    "minority": scenario_minority, "snapshot": scenario_snapshot,
    "read_your_writes": scenario_read_your_writes, "stream": scenario_stream,
    "membership": scenario_membership, "start_errors": scenario_start_errors,
    "restore_backup": scenario_restore_backup, "recover": scenario_recover,
    "stale_leader": scenario_stale_leader, "stop_unreachable": scenario_stop_unreachable,
}
# The kill loop snapshots every 128 entries, so that restarts also restore a node's own
# snapshot (and skip it when the ledger is already past it) and a node may catch up by one.
SETTINGS = {"snapshot": "snapshot_threshold = 64\nsnapshot_trailing = 16\n",
            "kill": "snapshot_threshold = 128\nsnapshot_trailing = 32\n"}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print("usage: test_cluster.py BIN_DIR %s" % "|".join(SCENARIOS), file=sys.stderr)
        return 2
    name = sys.argv[2]
    cluster = Cluster(sys.argv[1], name, SETTINGS.get(name, ""))
    passed = False
    try:
        cluster.start()
        SCENARIOS[name](cluster)
        passed = True
    except Failure as failure:
        print("FAIL: %s: %s" % (name, failure), file=sys.stderr)
    finally:
        cluster.close(keep=not passed)
        if not passed:
            print("logs kept in %s" % cluster.scratch, file=sys.stderr)
    if passed:
        print("PASS: %s" % name)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
