#!/usr/bin/env python3
"""Builds the load benchmark's peers, the XML-RPC servers a user could pick
instead of the gateway, each serving the gateway's demo functions:

- dxr: dxr_server from crates.io (peers/dxr/, a cargo package of its own,
  not part of the gateway's), release build;
- xmlrpc-c: xmlrpc-c's Abyss server in C (peers/xmlrpc_c_server.c), against
  Debian's libxmlrpc-core-c3-dev (benches/load/install-deps.sh installs it).

Each is built into TARGET_DIR (default target/peers in the repository;
--target-dir or $XG_PEERS_TARGET to change it): TARGET_DIR/release/dxr-peer
and TARGET_DIR/xmlrpc_c_server. A peer whose toolchain or package is
missing is skipped with a message saying why. run.py calls build(); run
alone: python3 benches/load/peers/build.py [--target-dir DIR]
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEFAULT_TARGET = os.environ.get("XG_PEERS_TARGET") or os.path.join(ROOT, "target", "peers")
PEERS = ("dxr", "xmlrpc-c")


def build_dxr(target_dir):
    if shutil.which("cargo") is None:
        return None, "cargo not found"
    manifest = os.path.join(HERE, "dxr", "Cargo.toml")
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir)
    out = subprocess.run(["cargo", "build", "--release", "--quiet", "--locked", "--manifest-path", manifest],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return None, "cargo build failed:\n" + out.stderr[-2000:]
    return [os.path.join(target_dir, "release", "dxr-peer")], None


def build_xmlrpc_c(target_dir):
    config = shutil.which("xmlrpc-c-config")
    if config is None:
        return None, ("xmlrpc-c-config not found: install Debian's libxmlrpc-core-c3-dev "
                      "(apt-get install libxmlrpc-core-c3-dev, or bash benches/load/install-deps.sh)")
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None, "no C compiler (cc) found"
    src = os.path.join(HERE, "xmlrpc_c_server.c")
    exe = os.path.join(target_dir, "xmlrpc_c_server")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        os.makedirs(target_dir, exist_ok=True)
        flags = subprocess.run([config, "abyss-server", "--cflags", "--libs"], capture_output=True, text=True)
        if flags.returncode != 0:
            return None, f"xmlrpc-c-config abyss-server failed: {flags.stderr.strip()}"
        out = subprocess.run([cc, "-O2", "-o", exe, src, *flags.stdout.split(), "-lm"], capture_output=True, text=True)
        if out.returncode != 0:
            return None, "cc failed:\n" + out.stderr[-2000:]
    return [exe], None


def build(target_dir=DEFAULT_TARGET, only=PEERS):
    """{peer: argv to run it (the port is appended)} for the peers that
    built; prints why each other one was skipped."""
    builders = {"dxr": build_dxr, "xmlrpc-c": build_xmlrpc_c}
    built = {}
    for name in only:
        print(f"building peer {name} into {target_dir}", file=sys.stderr, flush=True)
        argv, why = builders[name](target_dir)
        if argv is None:
            print(f"peer {name} skipped: {why}", file=sys.stderr, flush=True)
        else:
            built[name] = argv
    return built


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--target-dir", default=DEFAULT_TARGET)
    args = ap.parse_args()
    for name, argv in build(os.path.abspath(args.target_dir)).items():
        print(f"{name}: {' '.join(argv)} PORT")
