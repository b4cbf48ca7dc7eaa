#!/usr/bin/env python3
"""Data directories of older storage layouts, holding every kind of event, open in fundflowd and
answer as the code that made them did.

Usage: test_layout_upgrade.py BIN_DIR PLUGIN_DIR FIXTURE_DIR...

Each FIXTURE_DIR (tests/fixtures/layout1_kinds81, layout2_kinds81) holds a compacted data.mdb
made by an older commit and answers.json: the queries that commit's fundflowd was asked and its
replies (tests/fixtures/make_layout_kinds.py made both; the fixture's README.md says how). For
each, a copy of data.mdb in a fresh scratch directory is opened by the current fundflowd on
127.0.0.1:0, which migrates it, and then:

- every recorded query is asked again and must be answered the same (see same_answer for which
  fields are compared), among them the head, the whole log, verify, positions, contracts,
  flows, delegations, histories, postings, outturns, the plugins' reports and the principals;
- the 73 commands that loaded it, sent again, are 70 idempotent replays and the same 3 refusals;
- the revoked reader's token is refused and the admin's is honoured (the principals migrated);
- figures worked by hand below hold;
- it takes a new write, stops cleanly (exit 0, so no sanitizer report), and opens again without
  migrating, at the new head, verifying.

Only the fundflowd started here is signalled, by pid. Nothing waits for time: each wait polls a
condition a bounded number of times.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import cluster_harness  # its twirp: a Twirp JSON call (this script's folder is on the path)

POLL_SECONDS = 0.02
POLLS = 3000  # a minute at most, for a sanitizer build migrating on a loaded machine

# ServerInfo's version, uptime and start time are the process's, not the ledger's.
SERVER_INFO_FIELDS = ("head_sequence", "head_hash", "event_count")
# A signed head's time and signature are the moment it was signed (the current server signs its
# head again when it starts); its size, root and key are compared.
SIGNING_MOMENT_FIELDS = ("timestamp_us", "signature")
# ListPlugins describes the plugins built with the code, not anything in the data directory.
NOT_OF_THE_LEDGER = ("ListPlugins",)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def twirp(url, method, body, token):
    """(HTTP status, decoded JSON) of a Twirp call with a bearer token."""
    status, reply, _ = cluster_harness.twirp(url, method, body, timeout=60,
                                             headers={"Authorization": "Bearer " + token})
    return status, reply


def is_default(value):
    """proto3's JSON may leave out a field at its default; the old code wrote them all."""
    return value in (0, "0", "", False, None, [], {})


def same_answer(recorded, current, path="$"):
    """Every field of the recorded answer is in the current one with the same value, list for
    list and element for element. Fields the current code adds are not compared: they are new
    meaning, not old meaning kept (against layout 1's recording: ServerInfo's cluster, plugin
    and signing key fields, and SubmitCommands' signed_head, as layout 1's code signed nothing;
    against layout 2's, none). A field recorded at its default may be left out. Returns the
    first difference as text, or None."""
    if isinstance(recorded, dict):
        if not isinstance(current, dict):
            return "%s: was an object, now %r" % (path, current)
        for key, value in recorded.items():
            if path.endswith(".signed_head") and key in SIGNING_MOMENT_FIELDS:
                continue
            if key not in current:
                if is_default(value):
                    continue
                return "%s.%s: was %r, now missing" % (path, key, value)
            difference = same_answer(value, current[key], path + "." + key)
            if difference:
                return difference
        return None
    if isinstance(recorded, list):
        if not isinstance(current, list) or len(current) != len(recorded):
            return "%s: was %d items, now %r" % (path, len(recorded), current)
        for index, (was, now) in enumerate(zip(recorded, current)):
            difference = same_answer(was, now, "%s[%d]" % (path, index))
            if difference:
                return difference
        return None
    if recorded != current:
        return "%s: was %r, now %r" % (path, recorded, current)
    return None


class Server:
    """The current fundflowd on a data directory, on a free loopback port."""

    def __init__(self, bin_dir, plugin_dir, scratch, data_dir, name):
        self.out_path = os.path.join(scratch, name + ".out")
        self.err_path = os.path.join(scratch, name + ".err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.process = subprocess.Popen(
            [os.path.join(bin_dir, "fundflowd"), "--data-dir", data_dir, "--listen",
             "127.0.0.1:0", "--plugin-dir", plugin_dir], stdout=self.out, stderr=self.err)
        self.url = None
        for _ in range(POLLS):
            with open(self.out_path) as out:
                for line in out:
                    if line.startswith("listening on "):
                        self.url = "http://" + line.split()[2]
            if self.url or self.process.poll() is not None:
                break
            time.sleep(POLL_SECONDS)
        if self.url is None:
            self.abandon()
            check(False, "fundflowd did not start; its stderr:\n" + self.stderr())

    def stderr(self):
        with open(self.err_path) as err:
            return err.read()

    def abandon(self):
        """Stops it after a failure, which stands: nothing more is checked."""
        self.process.terminate()
        self.process.wait(timeout=120)
        self.out.close()
        self.err.close()

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=120)
        self.out.close()
        self.err.close()
        check(code == 0, "fundflowd exited %d on SIGTERM; its stderr:\n%s" % (code, self.stderr()))
        check("ERROR: " not in self.stderr(), "a sanitizer report:\n" + self.stderr())


def answer(server, token, method, request):
    status, reply = twirp(server.url, method, request, token)
    check(status == 200, "%s %s: HTTP %d %r" % (method, json.dumps(request), status, reply))
    return reply


def replay_recorded(server, answers):
    """Asks every recorded query again and compares the answers; the load sent again is
    check_commands_again's, after the reads (a bad migration would make it write). Returns how
    many were compared."""
    token = answers["admin_token"]
    compared = 0
    for entry in answers["queries"]:
        method, request, recorded = entry["method"], entry["request"], entry["response"]
        if method in NOT_OF_THE_LEDGER or method == "SubmitCommands":
            continue
        if method == "ServerInfo":
            recorded = {field: recorded[field] for field in SERVER_INFO_FIELDS}
        current = answer(server, token, method, request)
        difference = same_answer(recorded, current)
        shown = json.dumps(request)[:160]
        check(difference is None, "%s %s answers differently after the migration: %s"
              % (method, shown, difference))
        compared += 1
    return compared


def recorded(answers, method, **request_fields):
    for entry in answers["queries"]:
        if entry["method"] == method and all(entry["request"].get(key) == value
                                             for key, value in request_fields.items()):
            return entry["response"]
    raise Failure("no recorded %s %r" % (method, request_fields))


def check_hand_worked(server, answers):
    """Figures worked by hand from tests/fixtures/layout_kinds_commands.ndjson and the maker's
    writes after it, asked of the migrated ledger (not only compared with the recording)."""
    token = answers["admin_token"]
    info = answer(server, token, "ServerInfo", {})
    # 70 commands of the file recorded, 2 reversals, a linked batch of 2, 4 principals granted
    # and 1 revoked, 2 writes by the writer: 70 + 2 + 2 + 4 + 1 + 2 = 81 events.
    check(int(info["head_sequence"]) == 81, "head %r" % info)
    verify = answer(server, token, "VerifyLedger", {})
    check(verify["ok"] is True and int(verify["events_checked"]) == 81, "verify %r" % verify)
    qnc = answer(server, token, "GetPosition",
                 {"org_code": "QNC", "stream": "CORE_SERVICES", "financial_year": 2024})
    # QNC received £60,000,000.00 (6,000,000,000 pence) and passed on budgets of 1,000,000,000
    # (05D), 150,000,000 (the councils) and the writer's 250,000 (05D): 1,150,250,000.
    check(int(qnc["received_pence"]) == 6000000000, "QNC received %r" % qnc)
    check(int(qnc["passed_on_pence"]) == 1150250000, "QNC passed on %r" % qnc)
    aip = answer(server, token, "GetContractPosition",
                 {"contract_id": "QNC-2024-AIP"})["contract"]
    # QNC-2024-AIP: agreed at 1,200,000,000, varied by +60,000,000: 1,260,000,000. Paid M1, M2,
    # M3 and M4 at 100,000,000 each and the writer's M5 of 1,000,000: 401,000,000. The linked
    # batch that would have paid into the closed M1 left no trace.
    check(int(aip["value_pence"]) == 1260000000, "AIP value %r" % aip)
    check(int(aip["paid_pence"]) == 401000000, "AIP paid %r" % aip)
    elec = answer(server, token, "GetContractPosition",
                  {"contract_id": "QNC-2024-ELEC"})["contract"]
    # QNC-2024-ELEC: 120,000,000 varied by -12,000,000 is 108,000,000; its M1 payment of
    # 10,000,000 was reversed, so nothing is paid.
    check(int(elec["value_pence"]) == 108000000, "ELEC value %r" % elec)
    check(int(elec.get("paid_pence", "0")) == 0, "ELEC paid %r" % elec)
    out = answer(server, token, "GetContractPosition",
                 {"contract_id": "QNC-2024-OUT"})["contract"]
    # QNC-2024-OUT withholds a pot of 24,000,000: ADMAVOID weighs 60% (14,400,000) and achieved
    # 75%, earning 10,800,000; HOMEFIRST weighs 40% (9,600,000) and achieved 80%, earning
    # 7,680,000. Earned 18,480,000; released (not earned) 24,000,000 - 18,480,000 = 5,520,000.
    check(int(out["earned_pence"]) == 18480000, "OUT earned %r" % out)
    check(int(out["released_pence"]) == 5520000, "OUT released %r" % out)
    qjm = answer(server, token, "GetPosition",
                 {"org_code": "QJM", "stream": "CORE_SERVICES", "financial_year": 2024})
    # QJM: 3,000,000,000 recurrent, and 100,000,000 non-recurrent reversed: 3,000,000,000.
    check(int(qjm["received_pence"]) == 3000000000, "QJM received %r" % qjm)
    # The Merkle tree covers the whole log (layout 1's code had none: the current code built it).
    signed = answer(server, token, "GetSignedHead", {})
    check(int(signed["tree_size"]) == 81, "signed head %r" % signed)


def check_commands_again(server, answers):
    """The loading file again: the idempotency index migrated, so nothing new is recorded."""
    submitted = answers["queries"][0]
    check(submitted["method"] == "SubmitCommands", "the first recorded query is the load")
    reply = answer(server, answers["admin_token"], "SubmitCommands", submitted["request"])
    results = reply["results"]
    replays = [r for r in results if r.get("idempotent_replay")]
    refused = [r["code"] for r in results if r.get("code") != "ok"]
    check(len(replays) == 70, "%d idempotent replays" % len(replays))
    check(refused == ["period_closed", "insufficient_headroom", "contract_unknown"],
          "refusals %r" % refused)
    difference = same_answer(submitted["response"], reply)
    check(difference is None, "the load again answers differently: %s" % difference)


def check_principals(server, answers):
    status, reply = twirp(server.url, "ServerInfo", {}, answers["revoked_reader_token"])
    check(status == 401, "the revoked reader's token: HTTP %d %r" % (status, reply))


def check_new_write(server, answers):
    """A payment after the migration is event 82: QNC-2024-AIP's M6 of £1,000.00 (100,000
    pence), so it has paid 401,000,000 + 100,000 = 401,100,000."""
    token = answers["admin_token"]
    command = {"idempotency_key": "upgrade-pay-M06", "effective_date": 20240915,
               "event": {"payment_made": {"contract_id": "QNC-2024-AIP", "month": 6,
                                          "amount_pence": "100000",
                                          "reference": "after the upgrade"}}}
    results = answer(server, token, "SubmitCommands", {"commands": [command]})["results"]
    check(results[0]["code"] == "ok" and int(results[0]["sequence"]) == 82, "%r" % results)
    aip = answer(server, token, "GetContractPosition",
                 {"contract_id": "QNC-2024-AIP"})["contract"]
    check(int(aip["paid_pence"]) == 401100000, "AIP paid %r" % aip)


def check_fixture(bin_dir, plugin_dir, fixture_dir):
    with open(os.path.join(fixture_dir, "answers.json")) as f:
        answers = json.load(f)
    scratch = tempfile.mkdtemp(prefix="test_layout_upgrade.")
    try:
        compared = check_copy(bin_dir, plugin_dir, fixture_dir, answers, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("%s: migrated; %d recorded answers the same; the load again, principals, a new write "
          "and a second open checked" % (os.path.basename(fixture_dir), compared))


def check_copy(bin_dir, plugin_dir, fixture_dir, answers, scratch):
    """What the module's docstring lists, on a copy of the fixture in scratch; returns how many
    recorded answers were compared."""
    data_dir = os.path.join(scratch, "data")
    os.mkdir(data_dir)
    shutil.copyfile(os.path.join(fixture_dir, "data.mdb"), os.path.join(data_dir, "data.mdb"))
    # Layout 2's code kept its signing key and last signed head beside data.mdb; the key must be
    # private to its owner (git keeps it 0644).
    for name in ("signing_key.pem", "signed_head"):
        if os.path.exists(os.path.join(fixture_dir, name)):
            shutil.copyfile(os.path.join(fixture_dir, name), os.path.join(data_dir, name))
            os.chmod(os.path.join(data_dir, name), 0o600)
    server = Server(bin_dir, plugin_dir, scratch, data_dir, "first")
    try:
        check("rebuilt its projections from the log's 81 events" in server.stderr(),
              "no migration said:\n" + server.stderr())
        compared = replay_recorded(server, answers)
        check_hand_worked(server, answers)
        check_commands_again(server, answers)
        check_principals(server, answers)
        check_new_write(server, answers)
    except BaseException:
        server.abandon()
        raise
    server.stop()
    head = recorded(answers, "ServerInfo")
    server = Server(bin_dir, plugin_dir, scratch, data_dir, "second")
    try:
        check("rebuilt its projections" not in server.stderr(),
              "migrated twice:\n" + server.stderr())
        token = answers["admin_token"]
        verify = answer(server, token, "VerifyLedger", {})
        check(verify["ok"] is True and int(verify["events_checked"]) == 82, "verify %r" % verify)
        event = answer(server, token, "GetEvent", {"sequence": 82})
        check(event["previous_hash"] == head["head_hash"], "event 82 follows %r, not the old head"
              % event["previous_hash"])
    except BaseException:
        server.abandon()
        raise
    server.stop()
    return compared


def main():
    if len(sys.argv) < 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    bin_dir, plugin_dir = sys.argv[1], sys.argv[2]
    try:
        for fixture_dir in sys.argv[3:]:
            check_fixture(bin_dir, plugin_dir, fixture_dir)
    except Failure as failure:
        print("FAIL: %s" % failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
