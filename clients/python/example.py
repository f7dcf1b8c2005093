#!/usr/bin/env python3
"""Prints a netscope's statistics, its SAs and the anomalies it stored, then follows new
anomalies for a few seconds. Usage: example.py [ADDR:PORT] [--token T] [--follow SECONDS]"""
import argparse

import grpc

from netscope_client import NetScope, pb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target", nargs="?", default="127.0.0.1:50051")
    ap.add_argument("--token")
    ap.add_argument("--follow", type=float, default=0)
    a = ap.parse_args()
    with NetScope(a.target, token=a.token) as ns:
        s = ns.stats()
        print(f"{s.total_packets} packets, {s.anomalies_detected} anomalies, {s.sas_active} SAs, "
              f"{s.packets_per_second:.0f} pkt/s")
        for f in ns.flows("sas"):
            print(f"  {f.flow_id:22} {pb.Flow.Protocol.Name(f.protocol):9} {f.source_identifier:20} "
                  f"packets {f.packet_count} lost {f.sa.lost} anomalies {f.anomaly_count}")
        for an in ns.anomalies(after_id=0, stored_only=True):
            print(f"  #{an.id} {pb.Anomaly.AnomalyType.Name(an.anomaly_type)} {an.flow_id} "
                  f"expected {an.expected_sequence_number} got {an.sequence_number}")
        if a.follow > 0:
            try:
                for an in ns.anomalies(timeout=a.follow):
                    print(f"  live #{an.id} {pb.Anomaly.AnomalyType.Name(an.anomaly_type)} {an.flow_id}")
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise


if __name__ == "__main__":
    main()
