#!/usr/bin/env bash
# Installs NetScope's build and test dependencies from Debian 12 packages (idempotent),
# then configures and builds into ./build. Usage: scripts/setup.sh [extra meson options]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
  dpdk dpdk-dev libdpdk-dev python3-pyelftools libpcap-dev libbpf-dev libxdp-dev
  libyaml-cpp-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libssl-dev libipsec-mb-dev
  tshark tcpdump python3-jsonschema python3-scapy
  libcivetweb-dev libsqlite3-dev prometheus wrk sqlite3 curl
  tcpreplay iproute2 nftables linux-perf iputils-ping netcat-openbsd xdp-tools bpftool
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  meson setup "$BUILD_DIR" "$@"
elif [ $# -gt 0 ]; then
  meson configure "$BUILD_DIR" "$@"
fi
ninja -C "$BUILD_DIR" -j"$(nproc)"
