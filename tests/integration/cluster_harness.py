"""Starts and drives three-node fundflowd clusters on loopback for the cluster tests.

Every node has its own fresh data directory under one scratch directory (on /tmp, checked to be a
file system raft_uv accepts), and its Raft and RPC ports are free ports found by binding port 0;
a node whose port was taken meanwhile exits saying "address already in use", and the whole
cluster is started again on new ports (a bounded number of times). Only the processes started
here are signalled, by pid. Nothing waits for time: every wait polls a condition a bounded number
of times (each poll a short sleep or a request with a timeout).
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

POLL_SECONDS = 0.02
START_ATTEMPTS = 4


class Failure(Exception):
    pass


def fail(message):
    raise Failure(message)


def free_ports(count):
    """count distinct free TCP ports on 127.0.0.1, all bound at once so none repeats."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def twirp(url, method, body, timeout=5.0, headers=None):
    """POSTs JSON to a Twirp method; returns (HTTP status, decoded JSON or None, reply headers).
    A connection failure is status 0."""
    request = urllib.request.Request(
        url + "/twirp/fundflow.v1.Ledger/" + method, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read() or b"null"), dict(reply.headers)
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = {"raw": text.decode(errors="replace")}
        return error.code, decoded, dict(error.headers)
    except (OSError, ValueError):
        return 0, None, {}


class Node:
    def __init__(self, cluster, node_id, raft_port, rpc_port):
        self.cluster = cluster
        self.id = node_id
        self.raft_address = "127.0.0.1:%d" % raft_port
        self.rpc_port = rpc_port
        self.url = "http://127.0.0.1:%d" % rpc_port
        self.data_dir = os.path.join(cluster.scratch, "node%d" % node_id)
        self.config_path = os.path.join(cluster.scratch, "cluster%d.conf" % node_id)
        self.process = None
        self.starts = 0
        self.stopped_signal = None

    def log_path(self, kind="err"):
        return os.path.join(self.cluster.scratch, "node%d.%d.%s" % (self.id, self.starts, kind))

    def start(self, extra_settings=""):
        self.starts += 1
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.config_path, "w") as config:
            config.write("self = %d\n" % self.id)
            for node in self.cluster.nodes:
                config.write("node = %d %s %s\n" % (node.id, node.raft_address, node.url))
            config.write(self.cluster.settings + extra_settings)
        self.err = open(self.log_path(), "w")
        self.out = open(self.log_path("out"), "w")
        self.process = subprocess.Popen(
            [self.cluster.bin("fundflowd"), "--listen", "127.0.0.1:%d" % self.rpc_port,
             "--data-dir", self.data_dir, "--cluster-config", self.config_path],
            stdout=self.out, stderr=self.err)

    def exited(self):
        return self.process is None or self.process.poll() is not None

    def stderr_text(self):
        with open(self.log_path()) as err:
            return err.read()

    def wait_listening(self):
        """True once ServerInfo answers; False if the node exited first (the caller reads why)."""
        for _ in range(1500):
            if self.exited():
                return False
            status, _, _ = twirp(self.url, "ServerInfo", {}, timeout=1)
            if status == 200:
                return True
            time.sleep(POLL_SECONDS)
        fail("node %d never answered ServerInfo; its stderr:\n%s" % (self.id, self.stderr_text()))

    def kill(self, sig=signal.SIGKILL):
        if self.process is None:
            return
        self.process.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            try:
                code = self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                fail("node %d did not stop on signal %d" % (self.id, sig))
            self.process = None
            self.err.close()
            self.out.close()
            if sig == signal.SIGTERM and code != 0:
                fail("node %d exited %d on SIGTERM; its stderr:\n%s" % (self.id, code,
                                                                       self.stderr_text()))
            if sig == signal.SIGTERM and "ERROR: " in self.stderr_text():
                fail("node %d: a sanitizer report:\n%s" % (self.id, self.stderr_text()))

    def status(self):
        status, body, _ = twirp(self.url, "GetClusterStatus", {}, timeout=2)
        return body if status == 200 else None

    def head(self):
        status, body, _ = twirp(self.url, "ServerInfo", {}, timeout=2)
        if status != 200:
            return None
        return int(body.get("head_sequence", 0)), body.get("head_hash", "")


class Cluster:
    def __init__(self, bin_dir, name, settings=""):
        self.bin_dir = bin_dir
        self.settings = ("election_timeout_ms = 300\nheartbeat_timeout_ms = 50\n" + settings)
        self.scratch = tempfile.mkdtemp(prefix="fundflow-%s." % name, dir=scratch_root())
        self.nodes = []

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    def start(self):
        for attempt in range(START_ATTEMPTS):
            ports = free_ports(6)
            self.nodes = [Node(self, i + 1, ports[2 * i], ports[2 * i + 1]) for i in range(3)]
            for node in self.nodes:
                node.start()
            if all(node.wait_listening() for node in self.nodes):
                return
            texts = [node.stderr_text() for node in self.nodes if node.exited()]
            self.stop_all(signal.SIGKILL)
            if not any("in use" in text for text in texts):
                fail("a node exited at start:\n" + "\n".join(texts))
            for node in self.nodes:
                shutil.rmtree(node.data_dir, ignore_errors=True)
        fail("no free ports after %d attempts" % START_ATTEMPTS)

    def restart(self, node):
        """Starts a stopped node again on its ports (retrying a few times if one is taken)."""
        for _ in range(START_ATTEMPTS):
            node.start()
            if node.wait_listening():
                return
            if "in use" not in node.stderr_text():
                fail("node %d exited at restart:\n%s" % (node.id, node.stderr_text()))
            time.sleep(0.2)
        fail("node %d could not get its ports back" % node.id)

    def running(self):
        return [node for node in self.nodes if not node.exited()]

    def stop_all(self, sig=signal.SIGTERM):
        for node in self.nodes:
            if node.process is not None:
                if node.stopped_signal == signal.SIGSTOP:
                    node.process.send_signal(signal.SIGCONT)
                node.kill(sig)

    def close(self, keep=False):
        try:
            self.stop_all(signal.SIGKILL)
        finally:
            if not keep:
                shutil.rmtree(self.scratch, ignore_errors=True)

    def leader(self, among=None, polls=1500):
        """The node that says it leads (and is ready for writes), polled a bounded number of times:
        a probe write of a new organisation-free no-op is not needed, GetClusterStatus says."""
        for _ in range(polls):
            for node in among or self.running():
                body = node.status()
                if body and body.get("role") == "CLUSTER_ROLE_LEADER":
                    return node
            time.sleep(POLL_SECONDS)
        fail("no leader among nodes %s" % [n.id for n in (among or self.running())])

    def converged(self, nodes=None, polls=3000):
        """Waits until every node (default: every running one) has the same head; returns it."""
        nodes = nodes or self.running()
        heads = None
        for _ in range(polls):
            heads = [node.head() for node in nodes]
            if None not in heads and len(set(heads)) == 1:
                return heads[0]
            time.sleep(POLL_SECONDS)
        fail("heads never agreed: %s" % list(zip([n.id for n in nodes], heads)))


def scratch_root():
    """A directory for data on a file system raft_uv accepts (ext4, xfs, btrfs or tmpfs): $TMPDIR
    or /tmp, refused clearly otherwise."""
    root = os.environ.get("TMPDIR", "/tmp")
    kinds = {0xEF53: "ext4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs"}
    try:
        output = subprocess.run(["stat", "-f", "-c", "%t", root], capture_output=True, text=True,
                                check=True).stdout.strip()
        kind = int(output, 16)
    except (OSError, ValueError, subprocess.CalledProcessError):
        return root
    if kind not in kinds:
        fail("%s is on a file system (type 0x%x) raft_uv may refuse; set TMPDIR to a directory "
             "on ext4, xfs, btrfs or tmpfs" % (root, kind))
    return root


class Events:
    """Every event of one node, read through WatchEvents pages without waiting."""

    @staticmethod
    def read(node, after=0):
        events = []
        while True:
            status, body, _ = twirp(node.url, "WatchEvents",
                                    {"after_sequence": after, "max_events": 1000, "wait_ms": 0},
                                    timeout=10)
            if status != 200:
                fail("WatchEvents on node %d: %s %s" % (node.id, status, body))
            page = body.get("events", [])
            events.extend(page)
            next_after = int(body.get("next_after_sequence", after))
            if not page or next_after == after:
                return events
            after = next_after


def chain_check(events, previous_hash=None):
    """Fails unless the events are consecutive and each previous_hash is the hash before it."""
    previous = previous_hash if previous_hash is not None else base64.b64encode(bytes(32)).decode()
    sequence = None
    for event in events:
        number = int(event["sequence"])
        if sequence is not None and number != sequence + 1:
            fail("events jump from %d to %d" % (sequence, number))
        if event.get("previous_hash", "") != previous:
            fail("the chain breaks at event %d" % number)
        previous = event["hash"]
        sequence = number
    return previous
