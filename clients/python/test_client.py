#!/usr/bin/python3
"""CI test of the Python client against a live netscope (meson test python_client).
Replays the generator's demo capture with --live, then checks the client's view against
REST on the same process: stats, SAs, every stored anomaly in order, a flow, pause/resume,
a filter, the bidirectional packet stream, grpc.health.v1 and server reflection."""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc  # noqa: E402

from netscope_client import NetScope, pb  # noqa: E402

NETSCOPE = os.environ["NETSCOPE_BIN"]
GEN = os.environ["NETSCOPE_GEN_BIN"]
ROOT = os.environ["NETSCOPE_SOURCE_ROOT"]


def wait_for(path, pattern, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        with open(path, errors="replace") as f:
            m = re.search(pattern, f.read())
        if m:
            return m.group(1)
        time.sleep(0.05)
    raise AssertionError(f"{pattern} not in {path}:\n" + open(path, errors="replace").read())


def rest(base, path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return json.loads(r.read())


class Netscope:
    def __init__(self, eal_extra, app_extra):
        self.dir = tempfile.mkdtemp(prefix="netscope-pytest-")
        args = [NETSCOPE, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"nspy{os.getpid()}_{id(self)}",
                "-l", "0-1", "--log-level", "lib.eal:error"] + eal_extra + [
                "--", "--live", "--config", ROOT + "/config/demo.yaml", "--api-listen", "127.0.0.1:0",
                "--grpc-listen", "127.0.0.1:0", "--no-progress", "--no-report"] + app_extra
        self.err = os.path.join(self.dir, "netscope.err")
        with open(self.err, "w") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        try:
            self.rest = "http://" + wait_for(self.err, r"API on http://([0-9.]+:[0-9]+)/")
            self.grpc = wait_for(self.err, r"gRPC on ([0-9.]+:[0-9]+)")
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1


class PythonClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = tempfile.mkdtemp(prefix="netscope-pygen-")
        subprocess.run([GEN, "--", "--builtin-demo", "--seed", "3", "--pcap-out", d + "/demo.pcap"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.ns = Netscope(["--vdev=net_pcap0,rx_pcap=" + d + "/demo.pcap"], [])
        try:
            end = time.time() + 30
            while time.time() < end:
                try:
                    if rest(cls.ns.rest, "/api/v1/stats/current").get("packets", 0) >= 20000:
                        break
                except urllib.error.HTTPError:  # 503 until the first snapshot
                    pass
                time.sleep(0.2)
            cls.client = NetScope(cls.ns.grpc)
        except BaseException:
            cls.ns.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        assert cls.ns.stop() == 0, open(cls.ns.err).read()

    def test_stats_and_health(self):
        s = self.client.stats()
        cur = rest(self.ns.rest, "/api/v1/stats/current")
        self.assertEqual(s.total_packets, 20000)
        self.assertEqual(s.total_packets, cur["packets"])
        self.assertEqual(s.anomalies_detected, cur["anomalies_total"])
        self.assertEqual(self.client.health().status, pb.HealthStatus.SERVING)
        # grpc.health.v1.Health/Check with hand-encoded messages: {} in, {status: SERVING} out.
        check = self.client.channel.unary_unary("/grpc.health.v1.Health/Check")
        self.assertEqual(check(b"", timeout=5), b"\x08\x01")

    def test_reflection_lists_the_service(self):
        # ServerReflectionRequest{list_services: ""} (field 7), raw bytes.
        info = self.client.channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        replies = b"".join(info(iter([b"\x3a\x00"]), timeout=5))
        self.assertIn(b"netscope.v1.NetworkTracker", replies)
        self.assertIn(b"grpc.health.v1.Health", replies)

    def test_sas_and_flow(self):
        sas = {s["id"]: s for s in rest(self.ns.rest, "/api/v1/sas?limit=10000")["sas"]}
        flows = self.client.flows("sas")
        self.assertEqual(len(flows), len(sas))
        for f in flows:
            self.assertEqual(f.packet_count, sas[f.id]["packets"])
            self.assertEqual(f.sa.lost, sas[f.id]["lost"])
        one = self.client.flow(flows[0].flow_id)
        self.assertEqual(one.packet_count, flows[0].packet_count)
        with self.assertRaises(grpc.RpcError) as e:
            self.client.flow("nonsense")
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_all_anomalies_in_order(self):
        expected, cursor = [], None
        while True:
            page = rest(self.ns.rest, "/api/v1/anomalies?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            expected += page["anomalies"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        got = list(self.client.anomalies(after_id=0, stored_only=True, timeout=10))
        self.assertGreater(len(expected), 0)
        self.assertEqual([a.id for a in got], [a["id"] for a in expected])
        self.assertEqual([a.sequence_number for a in got], [a["got"] for a in expected])
        self.assertEqual([pb.Anomaly.AnomalyType.Name(a.anomaly_type).lower() for a in got],
                         [a["type"] for a in expected])

    def test_pause_resume_and_filters(self):
        self.assertTrue(self.client.pause().accepted)
        end = time.time() + 5
        while time.time() < end and not self.client.stats().paused:
            time.sleep(0.1)
        self.assertTrue(self.client.stats().paused)
        self.client.resume()
        r = self.client.update("add_filter", filter_expression="esp")
        self.assertIn(r.filter_id, [f.id for f in r.filters])
        self.client.update("remove_filter", filter_id=r.filter_id)
        with self.assertRaises(grpc.RpcError) as e:
            self.client.update("none")
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


class PythonPackets(unittest.TestCase):
    def test_filter_changes_on_one_call(self):
        ns = Netscope(["--vdev=net_ring0"], ["--gen", "builtin-demo", "--tx-port", "0", "--tx-rate-pps", "5000"])
        try:
            with NetScope(ns.grpc) as c:
                filters = queue.Queue()
                filters.put(pb.PacketFilter(protocol_filter=pb.PacketFilter.MACSEC))

                def requests():
                    while True:
                        f = filters.get()
                        if f is None:
                            return
                        yield f
                call = c.packets(requests(), timeout=30)
                seen = {1: 0, 2: 0}
                for p in call:
                    if p.filter_seq == 1:
                        self.assertEqual(p.protocol, pb.Flow.MACSEC)
                    else:
                        self.assertEqual(p.filter_seq, 2)
                        self.assertEqual(p.protocol, pb.Flow.IPSEC_AH)
                    seen[p.filter_seq] += 1
                    if seen[1] == 20 and seen[2] == 0 and filters.empty():
                        filters.put(pb.PacketFilter(protocol_filter=pb.PacketFilter.IPSEC_AH))
                    if seen[2] == 20:
                        break
                call.cancel()
                filters.put(None)
                self.assertEqual(seen[2], 20)
        finally:
            self.assertEqual(ns.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
