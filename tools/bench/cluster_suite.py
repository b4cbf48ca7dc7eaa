#!/usr/bin/env python3
"""The cluster's figures for docs/BENCHMARKS.md: fundflow-bench's write throughput and latency
against one fundflowd and against the leader of a three-node cluster on this machine, at the
batch sizes given, and the catch-up rate of a follower that was stopped while N commands were
written (by log replay, and by snapshot with a low snapshot threshold).

Usage: cluster_suite.py BIN_DIR [--seconds S] [--connections N] [--batch-sizes LIST]
                        [--catch-up N]
Every server runs in a fresh directory under $TMPDIR (or /tmp) and is stopped by pid at the end.
Three processes on one machine share its cores and its disk: the figures are a floor, not a
forecast of three machines.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
from cluster_harness import Cluster, free_ports, twirp  # noqa: E402


def bench(bin_dir, url, args):
    done = subprocess.run([os.path.join(bin_dir, "fundflow-bench"), "--server", url,
                           "--connections", str(args.connections), "--batch-sizes",
                           args.batch_sizes, "--seconds", str(args.seconds)],
                          capture_output=True, text=True, timeout=3600)
    return done.stdout + done.stderr


def single_node(bin_dir, args):
    cluster = Cluster(bin_dir, "bench-single")
    port = free_ports(1)[0]
    data = os.path.join(cluster.scratch, "single")
    process = subprocess.Popen([os.path.join(bin_dir, "fundflowd"), "--listen",
                                "127.0.0.1:%d" % port, "--data-dir", data],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%d" % port
        for _ in range(500):
            if twirp(url, "ServerInfo", {}, timeout=1)[0] == 200:
                break
            time.sleep(0.02)
        return bench(bin_dir, url, args)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        cluster.close()


def three_nodes(bin_dir, args):
    cluster = Cluster(bin_dir, "bench-cluster")
    try:
        cluster.start()
        return bench(bin_dir, cluster.leader().url, args)
    finally:
        cluster.close()


def catch_up(bin_dir, args, settings, label):
    """A follower stopped (SIGTERM) while args.catch_up commands are written in batches of 100,
    then started again: the time until its head equals the leader's."""
    cluster = Cluster(bin_dir, "bench-catchup", settings)
    try:
        cluster.start()
        leader = cluster.leader()
        bench_setup = subprocess.run([os.path.join(bin_dir, "fundflow-bench"), "--server",
                                      leader.url, "--connections", "1", "--batch-sizes", "1",
                                      "--requests-max", "1", "--seconds", "1"],
                                     capture_output=True, text=True, timeout=120)
        if bench_setup.returncode != 0:
            return "%s: setup failed: %s" % (label, bench_setup.stdout)
        follower = next(node for node in cluster.nodes if node is not leader)
        follower.kill(signal.SIGTERM)
        requests = max(1, args.catch_up // 100)
        subprocess.run([os.path.join(bin_dir, "fundflow-bench"), "--server", leader.url,
                        "--connections", "2", "--batch-sizes", "100", "--requests-max",
                        str(requests), "--seconds", "600"], capture_output=True, text=True,
                       timeout=1200)
        target = leader.head()
        started = time.monotonic()
        cluster.restart(follower)
        while follower.head() != target:
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        snapshot = "snapshot restored" in follower.stderr_text()
        return ("%s: %d events caught up in %.2f s (%.0f events/s, from start to equal head%s)"
                % (label, target[0], elapsed, target[0] / elapsed,
                   ", by snapshot" if snapshot else ", by the log"))
    finally:
        cluster.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin_dir")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch-sizes", default="1,1000")
    parser.add_argument("--catch-up", type=int, default=20000)
    args = parser.parse_args()
    print("== one fundflowd\n" + single_node(args.bin_dir, args), flush=True)
    print("== three-node cluster, the leader\n" + three_nodes(args.bin_dir, args), flush=True)
    print(catch_up(args.bin_dir, args, "snapshot_threshold = 1000000\n", "log replay"),
          flush=True)
    print(catch_up(args.bin_dir, args, "snapshot_threshold = 64\nsnapshot_trailing = 16\n",
                   "snapshot"), flush=True)


if __name__ == "__main__":
    main()
