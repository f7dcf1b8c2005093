"""Python client of the NetScope gRPC API (docs/grpc.md), on Debian's python3-grpcio.

The stubs are generated from lib/rpc/proto/netscope.proto with protoc and
grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc) into a cache
directory the first time, unless netscope_pb2 is importable already.

    from netscope_client import NetScope
    with NetScope("127.0.0.1:50051", token="...") as ns:
        print(ns.stats().total_packets)
        for a in ns.anomalies(after_id=0, stored_only=True):
            print(a.id, a.anomaly_type, a.flow_id)
"""
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO = os.path.join(HERE, "..", "..", "lib", "rpc", "proto", "netscope.proto")


def load_stubs(proto=DEFAULT_PROTO, out_dir=None):
    """Imports netscope_pb2 and netscope_pb2_grpc, generating them from `proto` if needed."""
    try:
        return importlib.import_module("netscope_pb2"), importlib.import_module("netscope_pb2_grpc")
    except ImportError:
        pass
    proto = os.path.abspath(proto)
    with open(proto, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    if out_dir is None:
        out_dir = os.path.join(tempfile.gettempdir(), "netscope-pystubs-" + digest)
    if not os.path.exists(os.path.join(out_dir, "netscope_pb2_grpc.py")):
        plugin = shutil.which("grpc_python_plugin")
        if plugin is None:
            raise RuntimeError("grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)")
        # Generated beside, then renamed: concurrent first uses never import half a file.
        tmp = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + ".", dir=os.path.dirname(out_dir))
        subprocess.run(["protoc", "--proto_path=" + os.path.dirname(proto), "--python_out=" + tmp,
                        "--grpc_python_out=" + tmp, "--plugin=protoc-gen-grpc_python=" + plugin, proto],
                       check=True)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process was first
    sys.path.insert(0, out_dir)
    return importlib.import_module("netscope_pb2"), importlib.import_module("netscope_pb2_grpc")


pb, pb_grpc = load_stubs()


class NetScope:
    """A connection to one netscope. Unary calls take `timeout` seconds at most."""

    def __init__(self, target="127.0.0.1:50051", token=None, root_certificates=None, private_key=None,
                 certificate_chain=None, server_name=None, timeout=10.0):
        if root_certificates is not None:
            creds = grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)
            options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            self.channel = grpc.secure_channel(target, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(target)
        self.stub = pb_grpc.NetworkTrackerStub(self.channel)
        self.metadata = [("authorization", "Bearer " + token)] if token else None
        self.timeout = timeout

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.channel.close()

    def stats(self):
        return self.stub.GetCurrentStats(pb.StatsRequest(), timeout=self.timeout, metadata=self.metadata)

    def health(self):
        return self.stub.HealthCheck(pb.HealthRequest(), timeout=self.timeout, metadata=self.metadata)

    def history(self, duration_s=60, interval_s=1, follow=False, timeout=None):
        req = pb.StatsHistoryRequest(duration_s=duration_s, interval_s=interval_s, follow=follow)
        return self.stub.GetStatsHistory(req, timeout=timeout, metadata=self.metadata)

    def flows(self, kind="all", limit=0, min_lost=0):
        k = {"all": pb.FlowsRequest.ALL, "sas": pb.FlowsRequest.SAS, "generic": pb.FlowsRequest.GENERIC}[kind]
        return list(self.stub.GetFlows(pb.FlowsRequest(kind=k, limit=limit, min_lost=min_lost),
                                       timeout=self.timeout, metadata=self.metadata))

    def flow(self, flow_id):
        return self.stub.GetFlow(pb.FlowIdRequest(flow_id=flow_id), timeout=self.timeout, metadata=self.metadata)

    def anomalies(self, after_id=None, types=(), sa_id=0, stored_only=False, timeout=None):
        """Iterator over anomalies; cancel() the returned call (or let `timeout` pass) to end a live one."""
        req = pb.AnomalyStreamRequest(types=list(types), sa_id=sa_id, stored_only=stored_only)
        if after_id is not None:
            req.after_id = after_id
        return self.stub.StreamAnomalies(req, timeout=timeout, metadata=self.metadata)

    def packets(self, filters, timeout=None):
        """Bidirectional: `filters` is an iterator of PacketFilter (a generator or a queue-fed
        iterator); each one replaces the previous on the same call."""
        return self.stub.StreamPackets(filters, timeout=timeout, metadata=self.metadata)

    def update(self, action, **fields):
        req = pb.TrackerConfig(action=getattr(pb.TrackerConfig, action.upper()), **fields)
        return self.stub.UpdateConfig(req, timeout=self.timeout, metadata=self.metadata)

    def pause(self):
        return self.update("pause")

    def resume(self):
        return self.update("resume")


import grpc  # noqa: E402  (after the stubs, which import it as well)
